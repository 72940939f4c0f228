/**
 * The real tracking clients against the real server: `leadlens serve` runs
 * as a child process on 127.0.0.1 over a fresh store, and Segment's
 * (@segment/analytics-node) and RudderStack's (@rudderstack/rudder-sdk-node)
 * Node libraries send identify, group, track and page messages to it, as an
 * application would. Every message carries its own messageId, so the store
 * can be checked row by row once the server has stopped: each message stored
 * once, under the source of the write key. A flaky proxy of the test's own
 * (first request answered 503, the rest forwarded byte for byte) shows that a
 * client's retry stores nothing twice.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'

import RudderAnalytics from '@rudderstack/rudder-sdk-node'
import { Analytics as SegmentAnalytics } from '@segment/analytics-node'
import {
  assertBuilt,
  killAllServes,
  runCli,
  startServe,
  stopServe,
} from './support/leadlens-cli.js'
import { createTempLocation, withStore } from './support/temp-store.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import type { TempLocation } from './support/temp-store.js'
import type { IncomingHttpHeaders, Server } from 'node:http'

const clientTimeout = 60_000

let workDir = ''
const locations: TempLocation[] = []

beforeAll(async () => {
  assertBuilt()
  workDir = await mkdtemp(join(tmpdir(), 'leadlens-clients-'))
})

afterAll(async () => {
  await killAllServes()
  if (workDir !== '') await rm(workDir, { recursive: true, force: true })
  for (const location of locations) await location.dispose()
})

// ---------------------------------------------------------------------------
// The real CLI and server
// ---------------------------------------------------------------------------

/** A fresh store with one source, `web`; returns its path and write key. */
async function freshStore(
  name: string,
): Promise<{ db: string; log: string; writeKey: string }> {
  const directory = await mkdtemp(join(workDir, `${name}-`))
  const location = await createTempLocation()
  locations.push(location)
  const db = location.path
  const added = await runCli(['--db', db, 'sources', 'add', 'web'])
  expect(added.code, added.stderr).toBe(0)
  const writeKey = added.stdout.trim()
  expect(writeKey).toMatch(/^\S+$/)

  return { db, log: join(directory, 'serve.log'), writeKey }
}

/** What `leadlens stats --format json` prints (the part checked here). */
interface StatsJson {
  users: number
  accounts: number
  memberships: number
  events: number
  eventsByType: Record<string, number>
}

async function readStats(db: string): Promise<StatsJson> {
  const result = await runCli(['--db', db, 'stats', '--format', 'json'])
  expect(result.code, result.stderr).toBe(0)

  return JSON.parse(result.stdout) as StatsJson
}

interface StoredRow {
  sourceId: string
  messageId: string
  type: string
  copies: number
}

/** Every stored message id with its type and number of rows (store closed). */
async function readStoredRows(db: string): Promise<StoredRow[]> {
  const rows = await withStore(db, (store) =>
    store.query(
      `SELECT source_id, message_id, type, count(*) AS copies
       FROM events GROUP BY source_id, message_id, type
       ORDER BY message_id, type`,
    ),
  )

  return rows.map((row) => ({
    sourceId: String(row.source_id),
    messageId: String(row.message_id),
    type: String(row.type),
    copies: Number(row.copies),
  }))
}

// ---------------------------------------------------------------------------
// A flaky proxy: 503 for the first request, the rest forwarded unchanged
// ---------------------------------------------------------------------------

interface Exchange {
  status: number
  headers: IncomingHttpHeaders
  /** The batch's messageIds, read from a decoded copy of the body. */
  messageIds: string[]
}

interface FlakyProxy {
  port: number
  exchanges: Exchange[]
  close(): Promise<void>
}

/** The messageIds of a batch body, for inspection only (never forwarded). */
function batchMessageIds(body: Buffer, encoding: string | undefined): string[] {
  try {
    const bytes = encoding === 'gzip' ? gunzipSync(body) : body
    const parsed = JSON.parse(bytes.toString('utf8')) as {
      batch?: { messageId?: unknown }[]
    }

    return (parsed.batch ?? []).map((message) => String(message.messageId))
  } catch {
    return []
  }
}

async function startFlakyProxy(targetPort: number): Promise<FlakyProxy> {
  const exchanges: Exchange[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const exchange: Exchange = {
        status: 0,
        headers: req.headers,
        messageIds: batchMessageIds(body, req.headers['content-encoding']),
      }
      const isFirst = exchanges.length === 0
      exchanges.push(exchange)

      if (isFirst) {
        exchange.status = 503
        res.writeHead(503, { 'content-type': 'application/json' })
        res.end('{"success":false,"message":"proxy: try again later"}')
        return
      }

      const upstream = httpRequest(
        {
          host: '127.0.0.1',
          port: targetPort,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          exchange.status = answer.statusCode ?? 0
          res.writeHead(exchange.status, answer.headers)
          answer.pipe(res)
        },
      )
      upstream.on('error', (error) => {
        exchange.status = 502
        res.writeHead(502, { 'content-type': 'text/plain' })
        res.end(`proxy: ${error.message}`)
      })
      upstream.end(body)
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') {
    throw new Error('the proxy has no port')
  }

  return {
    port: address.port,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

// ---------------------------------------------------------------------------
// The messages: three users, each identified, grouped, tracked and paged
// ---------------------------------------------------------------------------

interface PlannedMessage {
  type: 'identify' | 'group' | 'track' | 'page'
  messageId: string
  userId: string
  accountId: string
  n: number
}

/** 24 messages with distinct ids starting with `prefix`. */
function planMessages(prefix: string): PlannedMessage[] {
  const planned: PlannedMessage[] = []
  for (let u = 1; u <= 3; u++) {
    const userId = `${prefix}-user-${u}`
    const accountId = `${prefix}-account-${u % 2}`
    const add = (type: PlannedMessage['type'], n: number) =>
      planned.push({
        type,
        messageId: `${prefix}-${type}-${u}-${n}`,
        userId,
        accountId,
        n,
      })
    add('identify', 1)
    add('group', 1)
    for (let n = 1; n <= 4; n++) add('track', n)
    for (let n = 1; n <= 2; n++) add('page', n)
  }

  return planned
}

/** Sends the plan through Segment's client and waits for it to deliver. */
async function sendWithSegment(
  planned: readonly PlannedMessage[],
  host: string,
  writeKey: string,
): Promise<unknown[]> {
  const analytics = new SegmentAnalytics({
    writeKey,
    host,
    flushAt: 5,
    flushInterval: 200,
    maxRetries: 3,
    httpRequestTimeout: 10_000,
  })
  const failures: unknown[] = []
  analytics.on('error', (error) => failures.push(error))
  const recordFailure = (error?: unknown) => {
    if (error !== undefined && error !== null) failures.push(error)
  }

  for (const m of planned) {
    const who = { userId: m.userId, messageId: m.messageId }
    if (m.type === 'identify') {
      analytics.identify(
        { ...who, traits: { email: `${m.userId}@example.com` } },
        recordFailure,
      )
    } else if (m.type === 'group') {
      analytics.group(
        { ...who, groupId: m.accountId, traits: { name: m.accountId } },
        recordFailure,
      )
    } else if (m.type === 'track') {
      analytics.track(
        { ...who, event: 'Report Created', properties: { n: m.n } },
        recordFailure,
      )
    } else {
      analytics.page(
        { ...who, name: 'Dashboard', properties: { n: m.n } },
        recordFailure,
      )
    }
  }
  await analytics.closeAndFlush({ timeout: 45_000 })

  return failures
}

/** Sends the plan through RudderStack's client (gzip on) and flushes it all. */
async function sendWithRudderStack(
  planned: readonly PlannedMessage[],
  dataPlaneUrl: string,
  writeKey: string,
): Promise<{ delivered: number; failures: unknown[] }> {
  const analytics = new RudderAnalytics(writeKey, {
    dataPlaneUrl,
    flushAt: 5,
    flushInterval: 200,
    retryCount: 3,
    axiosRetryConfig: { retryDelay: () => 100 },
    // Straight to 127.0.0.1, whatever HTTP_PROXY says.
    axiosConfig: { proxy: false, timeout: 10_000 },
    logLevel: 'error',
  })
  const failures: unknown[] = []
  let delivered = 0
  // The library calls back with the delivery error, if any.
  const onDelivery = (error?: unknown) => {
    if (error === undefined || error === null) delivered++
    else failures.push(error)
  }

  for (const m of planned) {
    const who = { userId: m.userId, messageId: m.messageId }
    if (m.type === 'identify') {
      const message: RudderAnalytics.IdentifyParams & { messageId: string } = {
        ...who,
        traits: { email: `${m.userId}@example.com` },
      }
      analytics.identify(message, onDelivery)
    } else if (m.type === 'group') {
      const message: RudderAnalytics.GroupParams & { messageId: string } = {
        ...who,
        groupId: m.accountId,
        traits: { name: m.accountId },
      }
      analytics.group(message, onDelivery)
    } else if (m.type === 'track') {
      const message: RudderAnalytics.TrackParams & { messageId: string } = {
        ...who,
        event: 'Report Created',
        properties: { n: m.n },
      }
      analytics.track(message, onDelivery)
    } else {
      const message: RudderAnalytics.PageParams & { messageId: string } = {
        ...who,
        name: 'Dashboard',
        properties: { n: m.n },
      }
      analytics.page(message, onDelivery)
    }
  }

  // flush() sends at most flushAt messages a call: call it until every
  // message has been answered (bounded).
  for (
    let round = 0;
    round < 50 && delivered + failures.length < planned.length;
    round++
  ) {
    await analytics.flush().catch((error: unknown) => failures.push(error))
    await new Promise((resolve) => setImmediate(resolve))
  }

  return { delivered, failures }
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/** Every planned message is one row of source `web`, and nothing else is. */
async function expectStoredExactlyOnce(
  db: string,
  planned: readonly PlannedMessage[],
) {
  const rows = await readStoredRows(db)
  const expected = planned
    .map((m) => ({
      sourceId: 'web',
      messageId: m.messageId,
      type: m.type,
      copies: 1,
    }))
    .sort((a, b) => (a.messageId < b.messageId ? -1 : 1))
  expect(rows).toEqual(expected)

  const stats = await readStats(db)
  expect(stats.events).toBe(24)
  expect(stats.eventsByType).toEqual({
    group: 3,
    identify: 3,
    page: 6,
    track: 12,
  })
  expect(stats.users).toBe(3)
  expect(stats.accounts).toBe(2)
  expect(stats.memberships).toBe(3)
}

/** The proxy refused one batch with 503 and a later request carried it again. */
function expectRetriedAfter503(proxy: FlakyProxy) {
  const [refused, ...forwarded] = proxy.exchanges
  expect(refused?.status).toBe(503)
  expect(refused?.messageIds.length).toBeGreaterThan(0)
  const retries = forwarded.filter(
    (exchange) =>
      exchange.messageIds.join() === refused?.messageIds.join() &&
      exchange.status === 200,
  )
  expect(retries).toHaveLength(1)
  expect(forwarded.every((exchange) => exchange.status === 200)).toBe(true)

  return { refused, retry: retries[0] }
}

// ---------------------------------------------------------------------------

describe('ingestion through the real client libraries', () => {
  it(
    'stores every identify, group, track and page of the Segment client exactly once',
    async () => {
      const { db, log, writeKey } = await freshStore('segment')
      const planned = planMessages('seg')
      const serve = await startServe(db, log)
      try {
        const failures = await sendWithSegment(
          planned,
          `http://127.0.0.1:${serve.port}`,
          writeKey,
        )
        expect(failures).toEqual([])
      } finally {
        await stopServe(serve)
      }

      await expectStoredExactlyOnce(db, planned)
    },
    clientTimeout,
  )

  it(
    'stores every gzip-compressed message of the RudderStack client exactly once',
    async () => {
      const { db, log, writeKey } = await freshStore('rudder')
      const planned = planMessages('rud')
      const serve = await startServe(db, log)
      try {
        const result = await sendWithRudderStack(
          planned,
          `http://127.0.0.1:${serve.port}`,
          writeKey,
        )
        expect(result.failures).toEqual([])
        expect(result.delivered).toBe(planned.length)
      } finally {
        await stopServe(serve)
      }

      await expectStoredExactlyOnce(db, planned)
    },
    clientTimeout,
  )

  it(
    'stores every message of the Segment client exactly once, even after a 503',
    async () => {
      const { db, log, writeKey } = await freshStore('segment-503')
      const planned = planMessages('seg503')
      const serve = await startServe(db, log)
      const proxy = await startFlakyProxy(serve.port)
      try {
        const failures = await sendWithSegment(
          planned,
          `http://127.0.0.1:${proxy.port}`,
          writeKey,
        )
        expect(failures).toEqual([])
      } finally {
        await proxy.close()
        await stopServe(serve)
      }

      const { retry } = expectRetriedAfter503(proxy)
      // Segment's client counts its retries in a header.
      expect(retry?.headers['x-retry-count']).toBe('1')
      const ids = proxy.exchanges.flatMap((exchange) => exchange.messageIds)
      expect(new Set(ids).size).toBe(planned.length)
      await expectStoredExactlyOnce(db, planned)
    },
    clientTimeout,
  )

  it(
    'stores every message of the RudderStack client exactly once, even after a 503',
    async () => {
      const { db, log, writeKey } = await freshStore('rudder-503')
      const planned = planMessages('rud503')
      const serve = await startServe(db, log)
      const proxy = await startFlakyProxy(serve.port)
      try {
        const result = await sendWithRudderStack(
          planned,
          `http://127.0.0.1:${proxy.port}`,
          writeKey,
        )
        expect(result.failures).toEqual([])
        expect(result.delivered).toBe(planned.length)
      } finally {
        await proxy.close()
        await stopServe(serve)
      }

      expectRetriedAfter503(proxy)
      // Every request, the retry included, went through gzip-compressed.
      expect(
        proxy.exchanges.map((exchange) => exchange.headers['content-encoding']),
      ).toEqual(proxy.exchanges.map(() => 'gzip'))
      const ids = proxy.exchanges.flatMap((exchange) => exchange.messageIds)
      expect(new Set(ids).size).toBe(planned.length)
      await expectStoredExactlyOnce(db, planned)
    },
    clientTimeout,
  )
})
