import { deflateSync, gzipSync } from 'node:zlib'

import { afterEach, describe, expect, it } from 'vitest'

import { normalizeBody } from '../ingest/normalize-body.js'
import { BodyChecker } from './body-checker.js'

import type { Worker } from 'node:worker_threads'
import type { CheckRequest, CheckedBody } from './check-body.js'

const receivedAt = new Date('2030-03-01T12:00:00Z')
const checkers: BodyChecker[] = []
afterEach(async () => {
  for (const checker of checkers.splice(0)) await checker.close()
})

function makeChecker(options: ConstructorParameters<typeof BodyChecker>[0]) {
  const checker = new BodyChecker(options)
  checkers.push(checker)
  return checker
}

function request(raw: Buffer, encoding?: string): CheckRequest {
  return { raw, encoding, receivedAt, impliedType: null }
}

// 100 tracks of about 100 bytes each: over the 4 KB a worker takes.
function batchOf(messages: unknown[], extra: object = {}): Buffer {
  return Buffer.from(JSON.stringify({ batch: messages, ...extra }))
}

const tracks = Array.from({ length: 100 }, (_, index) => ({
  type: 'track',
  event: 'Report Run',
  userId: `u${index}`,
  messageId: `m${index}`,
  timestamp: '2030-03-01T11:59:00Z',
}))

// What the route makes of a body checked in its own thread.
function summaryInThread(body: CheckedBody) {
  const messages = normalizeBody(body.value, {
    sourceId: 'web',
    receivedAt,
    impliedType: null,
  })
  if (!messages.ok) return { ok: false, message: messages.message }

  return {
    ok: true,
    accepted: messages.accepted.length,
    rejected: messages.rejected,
  }
}

describe('checking ingestion bodies in a worker', () => {
  it('gives the answer the route thread gives, for good and bad bodies alike', async () => {
    const inWorker = makeChecker({ workers: 1, minWorkerBytes: 0 })
    const inThread = makeChecker({ workers: 0 })
    const withBadOne = tracks.map((track, index) =>
      index === 42 ? { ...track, userId: undefined } : track,
    )
    const bodies: [string, CheckRequest][] = [
      ['a good batch', request(batchOf(tracks))],
      ['one bad message', request(batchOf(withBadOne))],
      ['gzip', request(gzipSync(batchOf(tracks)), 'gzip')],
      ['deflate', request(deflateSync(batchOf(tracks)), 'deflate')],
      [
        'a byte-order mark',
        request(
          Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), batchOf(tracks)]),
        ),
      ],
      [
        'the write key in the body',
        request(batchOf(tracks, { writeKey: 'wk_1' })),
      ],
      ['no batch array', request(Buffer.from(JSON.stringify({ batch: 'no' })))],
      ['not JSON', request(Buffer.from('{"batch": [ not json'))],
      [
        'over 500 KB',
        request(
          Buffer.from(
            JSON.stringify({ batch: [{ x: 'y'.repeat(520 * 1024) }] }),
          ),
        ),
      ],
      ['an unknown encoding', request(batchOf(tracks), 'br')],
      ['a corrupt gzip body', request(Buffer.from('not gzip at all'), 'gzip')],
    ]

    for (const [what, body] of bodies) {
      const worker = await inWorker.check(body)
      const thread = await inThread.check(body)
      if (!thread.ok) {
        expect(worker, what).toEqual(thread)
        continue
      }
      expect(worker.ok, what).toBe(true)
      if (!worker.ok) continue
      expect(worker.json.toString(), what).toBe(thread.json.toString())
      expect(worker.writeKey, what).toBe(thread.writeKey)
      expect(worker.summary, what).toEqual(summaryInThread(thread))
    }
  })

  it('hands back the JSON bytes to keep: decompressed, without a byte-order mark, and a plain body not copied', async () => {
    const inWorker = makeChecker({ workers: 1, minWorkerBytes: 0 })
    const inThread = makeChecker({ workers: 0 })
    const json = batchOf(tracks)
    const bom = Buffer.from([0xef, 0xbb, 0xbf])

    for (const checker of [inWorker, inThread]) {
      const plain = request(Buffer.from(json))
      const checked = (await checker.check(plain)) as CheckedBody
      expect(checked.json.equals(json)).toBe(true)
      // The route's own body: the worker says where the JSON is in it.
      expect(checked.json.buffer).toBe(plain.raw.buffer)

      const marked = (await checker.check(
        request(Buffer.concat([bom, json])),
      )) as CheckedBody
      expect(marked.json.equals(json)).toBe(true)

      const zipped = (await checker.check(
        request(gzipSync(json), 'gzip'),
      )) as CheckedBody
      expect(zipped.json.equals(json)).toBe(true)
    }
  })

  it('names the rejected message by its index, as the route answers it', async () => {
    const checker = makeChecker({ workers: 1, minWorkerBytes: 0 })
    const body = tracks.map((track, index) =>
      index === 7 ? { ...track, timestamp: 'yesterday' } : track,
    )

    const checked = await checker.check(request(batchOf(body)))
    expect(checked).toMatchObject({
      ok: true,
      summary: {
        ok: true,
        accepted: 99,
        rejected: [expect.objectContaining({ index: 7 })],
      },
    })
  })

  it('checks small bodies in the route thread, keeping the parsed value', async () => {
    const checker = makeChecker({ workers: 1 })
    const checked = await checker.check(
      request(Buffer.from(JSON.stringify(tracks[0]))),
    )

    expect(checked).toMatchObject({ ok: true, value: tracks[0] })
    expect((checked as CheckedBody).summary).toBeUndefined()
  })

  it('checks in the route thread the bodies a dying worker held, and starts another', async () => {
    const checker = makeChecker({ workers: 1, minWorkerBytes: 0 })
    await checker.check(request(batchOf(tracks)))
    const workers = () =>
      (checker as unknown as { slots: { worker: Worker }[] }).slots.map(
        (slot) => slot.worker,
      )
    const dying = workers()[0] as Worker

    // A body of about 400 KB: the worker is still at it when it is ended.
    const many = Array.from({ length: 40 }, () => tracks).flat()
    const held = checker.check(request(batchOf(many)))
    await dying.terminate()
    const checked = await held
    expect(checked).toMatchObject({ ok: true })
    expect((checked as CheckedBody).value).toBeDefined()

    const next = await checker.check(request(batchOf(tracks)))
    expect(next).toMatchObject({ ok: true, summary: { accepted: 100 } })
    expect(workers()).toHaveLength(1)
    expect(workers()[0]).not.toBe(dying)
  })

  it('names a bad LEADLENS_INGEST_WORKERS instead of guessing', () => {
    const before = process.env.LEADLENS_INGEST_WORKERS
    process.env.LEADLENS_INGEST_WORKERS = 'two'
    try {
      expect(() => new BodyChecker()).toThrow(
        'LEADLENS_INGEST_WORKERS=two is not a number of worker threads',
      )
    } finally {
      if (before === undefined) delete process.env.LEADLENS_INGEST_WORKERS
      else process.env.LEADLENS_INGEST_WORKERS = before
    }
  })
})
