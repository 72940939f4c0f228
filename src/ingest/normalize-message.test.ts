import { describe, expect, it } from 'vitest'

import { normalizeMessage } from './normalize-message.js'

const envelope = (receivedAt: string, extra = {}) => ({
  sourceId: 'test',
  receivedAt: new Date(receivedAt),
  ...extra,
})

function accepted(raw: unknown, receivedAt: string, extra = {}) {
  const result = normalizeMessage(raw, envelope(receivedAt, extra))
  if (!result.ok) throw new Error(JSON.stringify(result.issues))
  return result.message
}

function codes(raw: unknown, extra = {}) {
  const result = normalizeMessage(raw, envelope('2030-01-01T00:00:00Z', extra))
  return result.ok ? [] : result.issues.map((issue) => issue.code)
}

describe('normalizeMessage: time', () => {
  it('corrects a client clock three days fast and keeps the original', () => {
    const message = accepted(
      {
        type: 'track',
        event: 'Signed Up',
        userId: 'u1',
        timestamp: '2030-01-04T10:00:00Z',
        sentAt: '2030-01-04T10:00:05Z',
      },
      '2030-01-01T10:00:05Z',
    )
    expect(message.timestamp.toISOString()).toBe('2030-01-01T10:00:00.000Z')
    expect(message.originalTimestamp).toBe('2030-01-04T10:00:00Z')
  })

  it('reads a mobile client in UTC-3 by context.timezone and leaves network delay alone', () => {
    const message = accepted(
      {
        type: 'track',
        event: 'Opened App',
        userId: 'u1',
        timestamp: '2024-01-15T18:33:28.414',
        sentAt: '2024-01-15T18:33:29.001',
        context: { timezone: 'America/Sao_Paulo' },
      },
      '2024-01-15T21:33:29.100Z',
    )
    expect(message.timestamp.toISOString()).toBe('2024-01-15T21:33:28.414Z')
  })

  it('uses the batch sentAt when the message has none', () => {
    const message = accepted(
      {
        type: 'track',
        event: 'E',
        userId: 'u1',
        timestamp: '2030-01-04T10:00:00Z',
      },
      '2030-01-01T10:00:05Z',
      { batchSentAt: '2030-01-04T10:00:05Z' },
    )
    expect(message.timestamp.toISOString()).toBe('2030-01-01T10:00:00.000Z')
  })

  it('never dates an event after its receipt', () => {
    const message = accepted(
      {
        type: 'track',
        event: 'E',
        userId: 'u1',
        timestamp: '2031-01-01T00:00:00Z',
      },
      '2030-01-01T00:00:00Z',
    )
    expect(message.timestamp.toISOString()).toBe('2030-01-01T00:00:00.000Z')
  })

  it('takes the receipt time when a message has no timestamp', () => {
    const message = accepted(
      { type: 'page', anonymousId: 'a1' },
      '2030-01-01T00:00:00Z',
    )
    expect(message.timestamp.toISOString()).toBe('2030-01-01T00:00:00.000Z')
  })
})

describe('normalizeMessage: rejections', () => {
  it('rejects a message that is not an object', () => {
    expect(codes([1, 2])).toEqual(['INGEST_NOT_AN_OBJECT'])
  })

  it('rejects an unknown type', () => {
    expect(codes({ type: 'bogus', userId: 'u1' })).toEqual([
      'INGEST_TYPE_UNKNOWN',
    ])
  })

  it('rejects a message without any id', () => {
    expect(codes({ type: 'track', event: 'E' })).toEqual(['INGEST_ID_MISSING'])
  })

  it('rejects a track without an event name', () => {
    expect(codes({ type: 'track', userId: 'u1', event: ' ' })).toEqual([
      'INGEST_EVENT_MISSING',
    ])
  })

  it('rejects a group without a groupId and an alias without a previousId', () => {
    expect(codes({ type: 'group', userId: 'u1' })).toEqual([
      'INGEST_GROUP_ID_MISSING',
    ])
    expect(codes({ type: 'alias', userId: 'u1' })).toEqual([
      'INGEST_PREVIOUS_ID_MISSING',
    ])
  })

  it('rejects properties that are not an object', () => {
    expect(
      codes({ type: 'track', event: 'E', userId: 'u1', properties: 'x' }),
    ).toEqual(['INGEST_FIELD_INVALID'])
  })

  it('rejects an unparseable and a zoneless timestamp with distinct codes', () => {
    expect(
      codes({ type: 'track', event: 'E', userId: 'u1', timestamp: 'soon' }),
    ).toEqual(['INGEST_TIMESTAMP_INVALID'])
    expect(
      codes({
        type: 'track',
        event: 'E',
        userId: 'u1',
        timestamp: '2024-01-15T18:33:28',
      }),
    ).toEqual(['INGEST_TIMESTAMP_ZONELESS'])
  })

  it('rejects a message over 32 KB, naming the limit', () => {
    const result = normalizeMessage(
      {
        type: 'track',
        event: 'E',
        userId: 'u1',
        properties: { blob: 'x'.repeat(40_000) },
      },
      envelope('2030-01-01T00:00:00Z'),
    )
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.issues[0]?.code).toBe('INGEST_MESSAGE_TOO_LARGE')
      expect(result.issues[0]?.message).toContain('32 KB')
    }
  })

  it('reports every problem of a message, not only the first', () => {
    expect(codes({ type: 'track', timestamp: 'soon' }).sort()).toEqual([
      'INGEST_EVENT_MISSING',
      'INGEST_ID_MISSING',
      'INGEST_TIMESTAMP_INVALID',
    ])
  })
})

describe('normalizeMessage: depth, size and text, read in one walk', () => {
  // The message object itself is level 1, so properties nested n deep make n + 1.
  const nested = (levels: number) => {
    let value: unknown = 'leaf'
    for (let level = 0; level < levels; level++) value = { k: value }
    return { type: 'track', event: 'E', userId: 'u', properties: value }
  }

  it('takes a message nested exactly 64 levels and refuses 65', () => {
    expect(codes(nested(63))).toEqual([])
    expect(codes(nested(64))).toEqual(['INGEST_FIELD_INVALID'])
  })

  it('counts arrays as levels too', () => {
    let value: unknown = 1
    for (let level = 0; level < 64; level++) value = [value]
    expect(
      codes({
        type: 'track',
        event: 'E',
        userId: 'u',
        properties: { a: value },
      }),
    ).toEqual(['INGEST_FIELD_INVALID'])
  })

  it('measures the size as the JSON text, exactly, at the 32 KB edge', () => {
    const sized = (bytes: number) => {
      const shell = {
        type: 'track',
        event: 'E',
        userId: 'u',
        properties: { s: '' },
      }
      const filler = bytes - Buffer.byteLength(JSON.stringify(shell))
      return {
        ...shell,
        properties: {
          s: 'é'.repeat(Math.floor(filler / 2)) + 'a'.repeat(filler % 2),
        },
      }
    }
    // 'é' is 2 bytes of UTF-8: 32,768 bytes in all is the limit itself.
    expect(Buffer.byteLength(JSON.stringify(sized(32_768)))).toBe(32_768)
    expect(codes(sized(32_768))).toEqual([])
    const over = normalizeMessage(
      sized(32_770),
      envelope('2030-01-01T00:00:00Z'),
    )
    expect(over.ok).toBe(false)
    if (!over.ok)
      expect(over.issues[0]?.message).toContain('message is 32770 bytes')
  })

  it('counts escaped characters at their escaped size', () => {
    // A control character is 6 bytes as JSON (\u0001): 6,000 of them are 36 KB.
    expect(
      codes({
        type: 'track',
        event: 'E',
        userId: 'u',
        properties: { s: '\u0001'.repeat(6_000) },
      }),
    ).toEqual(['INGEST_MESSAGE_TOO_LARGE'])
  })

  it('sanitizes a NUL or a lone surrogate in a key, deep down', () => {
    const message = accepted(
      {
        type: 'track',
        event: 'E',
        userId: 'u',
        properties: { outer: [{ 'k\u0000': 'v', ok: '\uDC00' }] },
      },
      '2030-01-01T00:00:00Z',
    )
    expect(message.properties).toEqual({
      outer: [{ 'k\uFFFD': 'v', ok: '\uFFFD' }],
    })
  })
})

describe('normalizeMessage: text', () => {
  it('replaces NUL and lone surrogates and keeps accents and emoji', () => {
    const message = accepted(
      {
        type: 'track',
        event: 'Café ☕',
        userId: 'u1',
        properties: { note: 'a\u0000b', broken: 'x\uD800y', emoji: '🚀 ñ' },
      },
      '2030-01-01T00:00:00Z',
    )
    expect(message.event).toBe('Café ☕')
    expect(message.properties).toEqual({
      note: 'a\uFFFDb',
      broken: 'x\uFFFDy',
      emoji: '🚀 ñ',
    })
  })
})

describe('normalizeMessage: replays and edge cases', () => {
  it("keeps a replayed event's time: its own receivedAt, no correction without one", () => {
    const archived = {
      type: 'track',
      event: 'E',
      userId: 'u',
      timestamp: '2024-01-01T00:00:00.000Z',
      sentAt: '2024-01-01T00:00:01.000Z',
    }
    const withReceipt = normalizeMessage(
      { ...archived, receivedAt: '2024-01-01T00:00:01.200Z' },
      envelope('2030-06-01T00:00:00Z', { isReplay: true }),
    )
    const withoutReceipt = normalizeMessage(
      archived,
      envelope('2030-06-01T00:00:00Z', { isReplay: true }),
    )

    expect(withReceipt.ok && withReceipt.message.timestamp.toISOString()).toBe(
      '2024-01-01T00:00:00.000Z',
    )
    expect(withReceipt.ok && withReceipt.message.receivedAt.toISOString()).toBe(
      '2024-01-01T00:00:01.200Z',
    )
    expect(
      withoutReceipt.ok && withoutReceipt.message.timestamp.toISOString(),
    ).toBe('2024-01-01T00:00:00.000Z')
  })

  it('rejects a message whose clock correction would leave the years 0001 to 9999, naming sentAt', () => {
    const result = normalizeMessage(
      {
        type: 'track',
        event: 'E',
        userId: 'u1',
        timestamp: '2030-01-01T00:00:00Z',
        sentAt: '9999-12-31T00:00:00Z',
      },
      envelope('2030-01-01T00:00:05Z'),
    )
    expect(result.ok).toBe(false)
    expect(result.ok ? [] : result.issues).toEqual([
      expect.objectContaining({
        code: 'INGEST_TIMESTAMP_INVALID',
        path: 'sentAt',
      }),
    ])
  })

  it('rejects timestamps a store cannot hold, as numbers or text', () => {
    for (const timestamp of [-3e17, -62198755200000, '-000001-01-01T00:00:00Z'])
      expect(
        codes({ type: 'track', event: 'E', userId: 'u1', timestamp }),
        String(timestamp),
      ).toEqual(['INGEST_TIMESTAMP_INVALID'])
  })

  it('takes the receipt time, uncorrected, for a message without a timestamp but with a skewed sentAt', () => {
    const message = accepted(
      {
        type: 'track',
        event: 'E',
        userId: 'u',
        sentAt: '2030-01-01T00:00:00Z',
      },
      '2026-12-04T00:00:00Z',
    )
    expect(message.timestamp.toISOString()).toBe('2026-12-04T00:00:00.000Z')
  })

  it('rejects a message nested too deeply to read, alone', () => {
    let deep: unknown = 1
    for (let level = 0; level < 20_000; level++) deep = { a: deep }
    expect(
      codes({
        type: 'track',
        event: 'E',
        userId: 'u',
        properties: deep as object,
      }),
    ).toEqual(['INGEST_FIELD_INVALID'])
  })

  it('lets the route decide the type of a single message', () => {
    const result = normalizeMessage(
      { type: 'identify', userId: 'u', event: 'E' },
      envelope('2030-01-01T00:00:00Z', { impliedType: 'track' }),
    )
    expect(result.ok && result.message.type).toBe('track')
  })

  it('names an invalid context.timezone when a zoneless time needs one', () => {
    const result = normalizeMessage(
      {
        type: 'track',
        event: 'E',
        userId: 'u',
        timestamp: '2024-06-01T12:00:00',
        context: { timezone: 'local' },
      },
      envelope('2030-01-01T00:00:00Z'),
    )
    expect(result.ok).toBe(false)
    if (!result.ok)
      expect(result.issues[0]?.message).toContain(
        'context.timezone "local" is not an IANA time zone',
      )
  })

  it('does not correct a replayed Segment message twice: its timestamp is already corrected', () => {
    const result = normalizeMessage(
      {
        type: 'track',
        event: 'E',
        userId: 'u',
        originalTimestamp: '2024-01-01T02:00:00Z',
        timestamp: '2024-01-01T01:00:00Z',
        sentAt: '2024-01-01T02:00:01Z',
        receivedAt: '2024-01-01T01:00:01Z',
      },
      envelope('2030-06-01T00:00:00Z', { isReplay: true }),
    )
    expect(result.ok && result.message.timestamp.toISOString()).toBe(
      '2024-01-01T01:00:00.000Z',
    )
    expect(result.ok && result.message.originalTimestamp).toBe(
      '2024-01-01T02:00:00Z',
    )
  })
})
