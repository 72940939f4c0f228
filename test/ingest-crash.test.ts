/**
 * A crash in the middle of ingestion: `leadlens serve` runs as a child
 * process on 127.0.0.1, four senders in this process post batches of 50
 * track messages to /v1/batch as fast as it answers, and the server is
 * killed with SIGKILL while requests are in flight. An answer comes once the
 * body is committed to the ingestion inbox; the next start applies what the
 * crash left there. The store must come back:
 * every message of every batch answered 200 is there exactly once, no
 * message is there twice, and a batch is stored whole or not at all. A
 * client then resends every batch it never saw acknowledged, as a client
 * retry would, and the store ends with each message exactly once.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import {
  assertBuilt,
  killAllServes,
  runCli,
  startServe,
  stopServe,
  waitForExit,
} from './support/leadlens-cli.js'
import { createTempLocation, withStore } from './support/temp-store.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { TempLocation } from './support/temp-store.js'

const senderCount = 4
const batchSize = 50
/** At most this many batches a sender (so at most 1,600 requests). */
const maxBatchesPerSender = 400
/** How long the senders run before the kill. */
const sendForMs = 1_500

let workDir = ''
let location: TempLocation | undefined

beforeAll(async () => {
  assertBuilt()
  workDir = await mkdtemp(join(tmpdir(), 'leadlens-crash-'))
})

afterAll(async () => {
  await killAllServes()
  if (workDir !== '') await rm(workDir, { recursive: true, force: true })
  await location?.dispose()
})

// ---------------------------------------------------------------------------
// The real CLI and server
// ---------------------------------------------------------------------------

async function readStatsEvents(db: string): Promise<number> {
  const result = await runCli(['--db', db, 'stats', '--format', 'json'])
  expect(result.code, result.stderr).toBe(0)

  return (JSON.parse(result.stdout) as { events: number }).events
}

/** Runs read-only queries on the (closed) store file. */
async function queryStore<T>(
  db: string,
  work: (
    query: (sql: string) => Promise<Record<string, unknown>[]>,
  ) => Promise<T>,
): Promise<T> {
  return withStore(db, (store) => work((sql) => store.query(sql)))
}

interface StoreContents {
  /** message_id -> number of rows in events. */
  copies: Map<string, number>
  /** Ids claimed in the dedup index with no event row. */
  claimedWithoutEvent: string[]
}

async function readStoreContents(db: string): Promise<StoreContents> {
  return queryStore(db, async (query) => {
    const rows = await query(
      'SELECT message_id, count(*) AS n FROM events GROUP BY 1',
    )
    const orphans = await query(
      `SELECT m.message_id FROM message_ids m
       WHERE NOT EXISTS (SELECT 1 FROM events e
         WHERE e.source_id = m.source_id AND e.message_id = m.message_id)
       ORDER BY 1 LIMIT 20`,
    )

    return {
      copies: new Map(rows.map((r) => [String(r.message_id), Number(r.n)])),
      claimedWithoutEvent: orphans.map((r) => String(r.message_id)),
    }
  })
}

async function readDuplicates(db: string): Promise<Record<string, unknown>[]> {
  return queryStore(db, (query) =>
    query(
      `SELECT message_id, count(*) AS n FROM events
       GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 20`,
    ),
  )
}

// ---------------------------------------------------------------------------
// Senders
// ---------------------------------------------------------------------------

interface SentBatch {
  name: string
  messageIds: string[]
  body: string
  /** The HTTP status, or undefined when the connection failed. */
  status: number | undefined
  answer: { accepted?: number } | undefined
  error: string | undefined
}

function makeBatch(sender: number, index: number): SentBatch {
  const name = `s${sender}-b${index}`
  const batch = Array.from({ length: batchSize }, (_, i) => ({
    type: 'track',
    messageId: `${name}-m${i}`,
    userId: `crash-user-${sender}-${i % 5}`,
    event: 'Crash Probe',
    properties: { sender, batch: index, item: i },
  }))

  return {
    name,
    messageIds: batch.map((message) => message.messageId),
    body: JSON.stringify({ batch }),
    status: undefined,
    answer: undefined,
    error: undefined,
  }
}

function authorization(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`
}

/** Posts one batch; a connection error leaves it unacknowledged. */
async function post(
  port: number,
  writeKey: string,
  batch: SentBatch,
): Promise<void> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: authorization(writeKey),
        'content-type': 'application/json',
      },
      body: batch.body,
      signal: AbortSignal.timeout(30_000),
    })
    const text = await response.text()
    batch.status = response.status
    batch.error = undefined
    try {
      batch.answer = JSON.parse(text) as SentBatch['answer']
    } catch {
      batch.answer = undefined
    }
  } catch (error) {
    batch.status = undefined
    batch.answer = undefined
    const cause = (error as { cause?: { code?: string; message?: string } })
      .cause
    batch.error = cause?.code ?? cause?.message ?? String(error)
  }
}

const isAcknowledged = (batch: SentBatch) => batch.status === 200

/** Waits (bounded) until the server has applied every accepted message. */
async function waitForEmptyBacklog(port: number): Promise<void> {
  for (let wait = 0; wait < 600; wait++) {
    const health = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(30_000),
    })
    const body = (await health.json()) as { ingestBacklog: number }
    if (body.ingestBacklog === 0) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('the ingestion backlog did not empty within 60 s')
}

// ---------------------------------------------------------------------------

describe('a server killed while ingesting', () => {
  it('keeps every acknowledged batch exactly once, and a resend of the rest completes the store', async () => {
    location = await createTempLocation()
    const db = location.path
    const added = await runCli(['--db', db, 'sources', 'add', 'crash'])
    expect(added.code, added.stderr).toBe(0)
    const writeKey = added.stdout.trim()
    const person = await runCli([
      '--db',
      db,
      'people',
      'add',
      'ops@example.com',
      '--role',
      'admin',
    ])
    expect(person.code).toBe(0)
    const apiToken = person.stdout.trim()

    // 1. Send from four senders and kill the server mid-stream.
    const first = await startServe(db, join(workDir, 'serve-1.log'))
    const sent: SentBatch[] = []
    let stopSending = false
    const senders = Array.from({ length: senderCount }, async (_, sender) => {
      for (
        let index = 0;
        !stopSending && index < maxBatchesPerSender;
        index++
      ) {
        const batch = makeBatch(sender, index)
        sent.push(batch)
        await post(first.port, writeKey, batch)
      }
    })

    await new Promise((resolve) => setTimeout(resolve, sendForMs))
    // Make sure something was acknowledged before the kill (bounded wait).
    for (let wait = 0; wait < 200 && !sent.some(isAcknowledged); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // Senders go on until the server is gone: answers now come within
    // milliseconds, so at the kill itself no request may be in flight, but
    // the next one of each sender meets a dead server.
    first.child.kill('SIGKILL')
    expect(await waitForExit(first.child, 30_000)).toBe('SIGKILL')
    stopSending = true
    await Promise.all(senders)

    const acknowledged = sent.filter(isAcknowledged)
    const unacknowledged = sent.filter((batch) => !isAcknowledged(batch))
    console.info(
      `crash: ${sent.length} batches sent, ${acknowledged.length} acknowledged, ` +
        `${unacknowledged.length} not (${[
          ...new Set(unacknowledged.map((b) => b.status ?? b.error)),
        ].join(', ')})`,
    )
    expect(acknowledged.length).toBeGreaterThan(0)
    expect(unacknowledged.length).toBeGreaterThan(0)
    // Until the kill the server answered every batch 200; the rest failed
    // at the connection.
    expect(
      unacknowledged.filter((batch) => batch.status !== undefined),
    ).toEqual([])
    for (const batch of acknowledged) {
      expect(batch.answer).toMatchObject({ accepted: batchSize })
    }
    const leftInInbox = await queryStore(db, (query) =>
      query('SELECT count(*) AS n FROM ingest_inbox'),
    )
    console.info(
      `crash: ${String(leftInInbox[0]?.n)} accepted bodies were not yet applied`,
    )

    // 2. The store opens again after the crash, applies what the inbox
    //    holds and answers reads.
    const second = await startServe(db, join(workDir, 'serve-2.log'))
    try {
      await waitForEmptyBacklog(second.port)
      const stats = await fetch(`http://127.0.0.1:${second.port}/api/stats`, {
        headers: { authorization: `Bearer ${apiToken}` },
        signal: AbortSignal.timeout(30_000),
      })
      expect(stats.status).toBe(200)
      const body = (await stats.json()) as { events: number }
      expect(body.events).toBeGreaterThanOrEqual(
        acknowledged.length * batchSize,
      )
    } finally {
      await stopServe(second)
    }

    // 3. Every acknowledged message is stored exactly once; nothing twice;
    //    a batch is stored whole or not at all.
    expect(await readDuplicates(db)).toEqual([])
    const afterCrash = await readStoreContents(db)
    const missingAcknowledged = acknowledged.flatMap((batch) =>
      batch.messageIds.filter((id) => afterCrash.copies.get(id) !== 1),
    )
    expect(missingAcknowledged).toEqual([])
    const sentIds = new Set(sent.flatMap((batch) => batch.messageIds))
    expect(
      [...afterCrash.copies.keys()].filter((id) => !sentIds.has(id)),
    ).toEqual([])
    const partial = sent
      .map((batch) => ({
        batch: batch.name,
        stored: batch.messageIds.filter((id) => afterCrash.copies.has(id))
          .length,
      }))
      .filter(({ stored }) => stored !== 0 && stored !== batchSize)
    expect(partial).toEqual([])
    expect(afterCrash.claimedWithoutEvent).toEqual([])
    expect(await readStatsEvents(db)).toBe(afterCrash.copies.size)
    expect(
      await queryStore(db, (query) =>
        query(
          `SELECT (SELECT count(*) FROM ingest_inbox) AS inbox,
             (SELECT count(*) FROM ingest_failed) AS failed`,
        ),
      ),
    ).toEqual([{ inbox: 0, failed: 0 }])

    const storedUnacknowledged = unacknowledged.filter((batch) =>
      afterCrash.copies.has(batch.messageIds[0] ?? ''),
    )
    console.info(
      `crash: ${storedUnacknowledged.length} unacknowledged batches were ` +
        'committed before the kill',
    )

    // 4. Resend every unacknowledged batch, as a client retry would.
    const third = await startServe(db, join(workDir, 'serve-3.log'))
    try {
      for (const batch of unacknowledged) {
        await post(third.port, writeKey, batch)
      }
      await waitForEmptyBacklog(third.port)
    } finally {
      await stopServe(third)
    }
    const answers = unacknowledged.map((batch) => ({
      batch: batch.name,
      status: batch.status ?? batch.error,
      ...batch.answer,
    }))
    expect(answers).toEqual(
      unacknowledged.map((batch) => {
        return expect.objectContaining({
          batch: batch.name,
          status: 200,
          accepted: batchSize,
        })
      }),
    )

    // 5. Now every message of every batch is stored exactly once.
    expect(await readDuplicates(db)).toEqual([])
    const final = await readStoreContents(db)
    const notExactlyOnce = [...sentIds].filter(
      (id) => final.copies.get(id) !== 1,
    )
    expect(notExactlyOnce).toEqual([])
    expect(final.copies.size).toBe(sent.length * batchSize)
    expect(await readStatsEvents(db)).toBe(sent.length * batchSize)
  }, 120_000)
})
