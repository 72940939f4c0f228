import { deflateSync, gzipSync } from 'node:zlib'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { addSource, revokeSource } from '../ingest/sources.js'
import { createApp } from './create-app.js'
import { readStats } from '../catalog/read-stats.js'

import type { TempStore } from '../../test/support/temp-store.js'
import type { LeadlensApp } from './create-app.js'

let temp: TempStore
let leadlens: LeadlensApp
let writeKey: string
let auth: { authorization: string }
beforeEach(async () => {
  temp = await openTempStore()
  leadlens = createApp(temp.store)
  writeKey = (await addSource(temp.store, 'web')).writeKey
  auth = {
    authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
  }
})
afterEach(async () => {
  await leadlens.app.close()
  await temp.dispose()
})

// Answers come once a body is in the inbox; the store has it once applied.
const count = async (sql: string) => {
  await leadlens.inbox.drain()
  return Number((await temp.store.query(sql))[0]?.n)
}

describe('ingestion routes', () => {
  it('stores a track posted to /v1/track, answering once it is in the inbox', async () => {
    // An applier that waits for a pause of a minute: the body stays put.
    const held = createApp(temp.store, {
      inbox: { giveWayMs: 60_000, maxApplyLagMs: 60_000 },
    })
    const response = await held.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: auth,
      payload: {
        userId: 'u1',
        event: 'Signed Up',
        messageId: 'm1',
        timestamp: '2030-01-01T00:00:00Z',
      },
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ success: true, accepted: 1 })
    // Durable before the answer: in the inbox table, or the journal on DuckDB.
    const stats = () => readStats(temp.store)
    expect((await stats()).ingest.waiting).toBe(1)
    expect((await stats()).events).toBe(0)

    await held.inbox.drain()
    expect((await stats()).events).toBe(1)
    expect((await stats()).ingest.waiting).toBe(0)
    await held.app.close()
  })

  it('accepts a gzip body sent as x-www-form-urlencoded, as RudderStack does', async () => {
    const body = gzipSync(
      JSON.stringify({
        batch: [{ type: 'identify', userId: 'u1', messageId: 'r1' }],
      }),
    )
    const response = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: {
        ...auth,
        'content-type': 'application/x-www-form-urlencoded',
        'content-encoding': 'gzip',
      },
      payload: body,
    })
    expect(response.statusCode).toBe(200)
    expect(await count('SELECT count(*) AS n FROM users')).toBe(1)
  })

  it('rejects one bad message of a batch with its index and stores the rest', async () => {
    const batch = Array.from({ length: 50 }, (_, index) => ({
      type: 'track',
      event: 'Clicked',
      userId: `u${index}`,
      messageId: `b${index}`,
      properties: index === 7 ? { blob: 'x'.repeat(40 * 1024) } : {},
    }))
    const response = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: auth,
      payload: { batch },
    })

    expect(response.statusCode).toBe(400)
    const answer = response.json()
    expect(answer.accepted).toBe(49)
    expect(answer.rejected).toHaveLength(1)
    expect(answer.rejected[0]).toMatchObject({
      index: 7,
      code: 'INGEST_MESSAGE_TOO_LARGE',
    })
    expect(answer.rejected[0].message).toContain('32 KB')
    expect(await count('SELECT count(*) AS n FROM events')).toBe(49)
  })

  it('answers 413 for a body over 500 KB, naming the limit, and stores nothing', async () => {
    const batch = Array.from({ length: 30 }, (_, index) => ({
      type: 'track',
      event: 'E',
      userId: 'u',
      messageId: `big${index}`,
      properties: { blob: 'y'.repeat(20 * 1024) },
    }))
    const response = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: auth,
      payload: { batch },
    })
    expect(response.statusCode).toBe(413)
    expect(response.json().message).toContain('500 KB')
    expect(await count('SELECT count(*) AS n FROM events')).toBe(0)
  })

  it('answers 400 for a body that is not JSON', async () => {
    const response = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"batch": [',
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().code).toBe('INGEST_JSON_INVALID')
  })

  it('stores a resent message once', async () => {
    const payload = {
      userId: 'u1',
      event: 'Order Paid',
      messageId: 'ord-9001-paid',
    }
    await leadlens.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: auth,
      payload,
    })
    const again = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: auth,
      payload,
    })
    expect(again.json()).toMatchObject({ success: true, accepted: 1 })
    expect(await count('SELECT count(*) AS n FROM events')).toBe(1)
    expect(await count('SELECT count(*) AS n FROM message_ids')).toBe(1)
  })

  it('commits concurrent requests to the inbox together and answers each with its own count', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        leadlens.app.inject({
          method: 'POST',
          url: '/v1/track',
          headers: auth,
          payload: { userId: `c${index}`, event: 'E', messageId: `c${index}` },
        }),
      ),
    )
    expect(responses.map((r) => r.json().accepted)).toEqual(Array(20).fill(1))
    expect(await count('SELECT count(*) AS n FROM events')).toBe(20)
  })

  it('answers 503 with Retry-After and keeps nothing while the backlog is full', async () => {
    const full = createApp(temp.store, { inbox: { backlogLimit: 2 } })
    try {
      const response = await full.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: auth,
        payload: {
          batch: ['f1', 'f2', 'f3'].map((messageId) => ({
            type: 'track',
            event: 'E',
            userId: 'u1',
            messageId,
          })),
        },
      })
      expect(response.statusCode).toBe(503)
      expect(response.headers['retry-after']).toBe('5')
      expect(response.json()).toMatchObject({
        success: false,
        code: 'INGEST_BACKLOG_FULL',
      })
      // Two fit under the limit of two.
      const small = await full.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: auth,
        payload: {
          batch: ['f4', 'f5'].map((messageId) => ({
            type: 'track',
            event: 'E',
            userId: 'u1',
            messageId,
          })),
        },
      })
      expect(small.statusCode).toBe(200)
      await full.inbox.drain()
    } finally {
      await full.app.close()
    }
    const ids = await temp.store.query<{ message_id: string }>(
      'SELECT message_id FROM events ORDER BY 1',
    )
    expect(ids.map((row) => row.message_id)).toEqual(['f4', 'f5'])
  })

  it('takes the write key from the body when there is no Basic auth', async () => {
    const response = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: {
        writeKey,
        batch: [{ type: 'track', event: 'E', userId: 'u1' }],
      },
    })
    expect(response.statusCode).toBe(200)
  })

  it('answers 401 and stores nothing without a key, with an unknown key or a revoked key', async () => {
    const payload = { userId: 'u1', event: 'E' }
    const none = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload,
    })
    const unknown = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/track',
      payload,
      headers: {
        authorization: `Basic ${Buffer.from('ll_nope:').toString('base64')}`,
      },
    })
    await revokeSource(temp.store, 'web')
    const revoked = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: auth,
      payload,
    })

    expect([none.statusCode, unknown.statusCode, revoked.statusCode]).toEqual([
      401, 401, 401,
    ])
    expect(revoked.json().code).toBe('INGEST_WRITE_KEY_INVALID')
    expect(revoked.body).not.toContain(writeKey)
    expect(await count('SELECT count(*) AS n FROM events')).toBe(0)
  })

  it('accepts a deflate body and refuses an encoding it does not know, storing nothing', async () => {
    const body = JSON.stringify({
      batch: [{ type: 'track', event: 'E', userId: 'u1', messageId: 'd1' }],
    })
    const deflated = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: {
        ...auth,
        'content-type': 'application/json',
        'content-encoding': 'deflate',
      },
      payload: deflateSync(body),
    })
    const brotli = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: {
        ...auth,
        'content-type': 'application/json',
        'content-encoding': 'br',
      },
      payload: body,
    })
    expect(deflated.statusCode).toBe(200)
    expect(brotli.statusCode).toBe(415)
    expect(brotli.json().code).toBe('INGEST_ENCODING_UNSUPPORTED')
    expect(await count('SELECT count(*) AS n FROM events')).toBe(1)
  })

  it('answers 400 naming the field when a batch body has no batch array', async () => {
    const response = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: auth,
      payload: { messages: [] },
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().code).toBe('INGEST_FIELD_INVALID')
  })

  it('rejects a message nested 3,000 levels deep alone, and keeps ingesting', async () => {
    let deep: unknown = 1
    for (let level = 0; level < 3_000; level++) deep = { x: deep }
    const batch = [
      { type: 'track', event: 'E', userId: 'u1', messageId: 'ok-1' },
      {
        type: 'track',
        event: 'E',
        userId: 'u1',
        messageId: 'deep',
        properties: deep,
      },
    ]
    const response = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ batch }),
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().rejected).toEqual([
      expect.objectContaining({ index: 1, code: 'INGEST_FIELD_INVALID' }),
    ])

    const after = await leadlens.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: auth,
      payload: { userId: 'u1', event: 'E', messageId: 'ok-2' },
    })
    expect(after.statusCode).toBe(200)
    expect(await count('SELECT count(*) AS n FROM events')).toBe(2)
  })
})
