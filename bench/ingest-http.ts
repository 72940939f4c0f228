/**
 * Durable ingestion over HTTP on loopback against its floor, measured side
 * by side in one run:
 *
 * - floor: `JSON.parse` + `normalizeMessage` (validation, time, text) of the
 *   very same request bodies, in this process;
 * - HTTP: `leadlens serve` in a child process on a fresh DuckDB file, then
 *   on a fresh PostgreSQL schema (skipped, saying why, without a server); several
 *   concurrent clients (kept-alive connections, see bench-connection.ts)
 *   posting batches of 100 with a write key; each request
 *   is answered only after its body is on disk in the ingestion inbox
 *   (the accept journal's sync on DuckDB, the inbox table's commit on
 *   PostgreSQL), and the figure "applied" is the rate until the inbox is
 *   empty, i.e. every message is in the events, people and rollups that
 *   lists read.
 *
 * Both sides are measured warm, as a server that has run a while is: one
 * floor pass is run and thrown away before the passes that count, and each
 * server first takes as many messages as the timed run (`--warm`), in two
 * halves, each applied (the bench polling /health) before the next part
 * starts; the first half's rate is printed too, as a fresh server's.
 * Why: a fresh server spends its first seconds compiling its hot code on
 * the same two cores (in a profile of a burst after 50,000 messages, V8's
 * compiler threads took a fifth of the server's CPU), and the first
 * /health polls after a burst of POSTs throw away code V8 had optimized
 * for POSTs alone (--trace-deopt: "wrong map" in the HTTP parser's
 * callbacks and the route); after the second half it has seen both, as a
 * server behind a load balancer has.
 *
 * Prints a table and writes JSON under bench/results/. Never fails on a figure.
 *   npm run bench -- [--quick] [--messages N] [--clients N]
 */
import { execFile, spawn } from 'node:child_process'
import { readFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { normalizeMessage } from '../src/ingest/normalize-message.js'
import { BenchConnection } from './bench-connection.js'
import { createBenchSchema } from './postgres-target.js'

const run = promisify(execFile)
const cli = new URL('../bin/leadlens.js', import.meta.url).pathname

interface Options {
  messages: number
  /** Messages each server takes, untimed, before the timed runs. */
  warm: number
  /** In this many parts, each applied before the next. */
  warmParts: number
  /** Timed runs of `messages` each; the median is reported. */
  runs: number
  clients: number
  batch: number
}

function readOptions(argv: string[]): Options {
  const value = (flag: string, fallback: number) => {
    const index = argv.indexOf(flag)
    return index >= 0 ? Number(argv[index + 1]) : fallback
  }
  const quick = argv.includes('--quick')

  return {
    messages: value('--messages', quick ? 20_000 : 200_000),
    warm: value('--warm', quick ? 20_000 : 200_000),
    runs: value('--runs', 3),
    warmParts: value('--warm-parts', 2),
    clients: value('--clients', 8),
    batch: 100,
  }
}

/** Request bodies shaped like a product's traffic: mostly tracks, some identify/group/page. */
function makeBodies(
  options: Options,
  messages: number,
  prefix: string,
): string[] {
  const bodies: string[] = []
  const start = Date.parse('2030-01-01T00:00:00Z')
  let n = 0
  while (n < messages) {
    const batch: unknown[] = []
    for (let i = 0; i < options.batch && n < messages; i++, n++) {
      const user = `user_${n % 20_000}`
      const timestamp = new Date(start + n * 1000).toISOString()
      const common = { messageId: `${prefix}-${n}`, userId: user, timestamp }
      const kind = n % 20
      if (kind === 0)
        batch.push({
          type: 'identify',
          ...common,
          traits: { email: `${user}@example.com`, plan: 'team' },
        })
      else if (kind === 1)
        batch.push({
          type: 'group',
          ...common,
          groupId: `acct_${n % 2_000}`,
          traits: { name: `Account ${n % 2_000}`, employees: n % 500 },
        })
      else if (kind === 2)
        batch.push({
          type: 'page',
          ...common,
          name: 'Pricing',
          properties: { path: '/pricing' },
        })
      else
        batch.push({
          type: 'track',
          ...common,
          event: `Event ${kind}`,
          properties: { value: n % 97, plan: 'team', feature: `f${n % 13}` },
          context: { groupId: `acct_${n % 2_000}` },
        })
    }
    bodies.push(JSON.stringify({ batch, sentAt: new Date().toISOString() }))
  }

  return bodies
}

function measureFloor(bodies: string[]): {
  seconds: number
  perSecond: number
} {
  const started = performance.now()
  let accepted = 0
  for (const body of bodies) {
    const parsed = JSON.parse(body) as { batch: unknown[]; sentAt: string }
    const receivedAt = new Date()
    for (const raw of parsed.batch) {
      const result = normalizeMessage(raw, {
        sourceId: 'bench',
        receivedAt,
        batchSentAt: parsed.sentAt,
      })
      if (result.ok) accepted++
    }
  }
  const seconds = (performance.now() - started) / 1000

  return { seconds, perSecond: accepted / seconds }
}

async function startServer(
  db: string,
): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [cli, '--db', db, 'serve', '--port', '0'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const port = await new Promise<number>((resolve, reject) => {
    let text = ''
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const match = /serving http:\/\/[^:]+:(\d+)/.exec(text)
      if (match) resolve(Number(match[1]))
    })
    child.once('exit', (code) =>
      reject(new Error(`serve exited with ${code}: ${text}`)),
    )
  })

  return {
    port,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const match = /VmHWM:\s+(\d+) kB/.exec(status)

  return match ? Number(match[1]) / 1024 : Number.NaN
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return (
    sorted[
      Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
    ] ?? Number.NaN
  )
}

const median = (values: number[]) => percentile(values, 50)

async function waitForEmptyBacklog(port: number): Promise<void> {
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${port}/health`)
    const health = (await response.json()) as { ingestBacklog: number }
    if (health.ingestBacklog === 0) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Posts every body over `clients` connections; counts the non-200s. */
async function postAll(
  port: number,
  headers: Record<string, string>,
  bodies: Buffer[],
  clients: number,
  latencies: number[] = [],
): Promise<number> {
  let failures = 0
  let next = 0
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const connection = new BenchConnection(port, '/v1/batch', headers)
      while (next < bodies.length) {
        const body = bodies[next++] as Buffer
        const sent = performance.now()
        const status = await connection.post(body)
        latencies.push(performance.now() - sent)
        if (status !== 200) failures++
      }
      connection.close()
    }),
  )

  return failures
}

interface Bodies {
  /** Sent first, untimed, and applied before the timed runs. */
  warm: Buffer[]
  /** One set of bodies (messages of their own) per timed run. */
  timed: Buffer[][]
}

/** Sends every body to a fresh `leadlens serve` on `db` (a DuckDB path or a postgres URL). */
async function measureHttp(bodies: Bodies, options: Options, db: string) {
  const { stdout } = await run(process.execPath, [
    cli,
    '--db',
    db,
    'sources',
    'add',
    'bench',
  ])
  const authorization = `Basic ${Buffer.from(`${stdout.trim()}:`).toString('base64')}`
  const server = await startServer(db)
  const headers = { 'content-type': 'application/json', authorization }
  const part = Math.ceil(bodies.warm.length / options.warmParts)
  let warmFailures = 0
  let freshPerSecond = Number.NaN
  for (let at = 0; at < bodies.warm.length; at += part) {
    const started = performance.now()
    const sent = bodies.warm.slice(at, at + part)
    warmFailures += await postAll(server.port, headers, sent, options.clients)
    const seconds = (performance.now() - started) / 1000
    // Every body but the last holds a whole batch.
    if (at === 0)
      freshPerSecond =
        Math.min(sent.length * options.batch, options.warm) / seconds
    await waitForEmptyBacklog(server.port)
  }

  const latencies: number[] = []
  const runs: { perSecond: number; appliedPerSecond: number }[] = []
  let failures = warmFailures
  for (const timed of bodies.timed) {
    const started = performance.now()
    failures += await postAll(
      server.port,
      headers,
      timed,
      options.clients,
      latencies,
    )
    const seconds = (performance.now() - started) / 1000
    await waitForEmptyBacklog(server.port)
    const appliedSeconds = (performance.now() - started) / 1000
    runs.push({
      perSecond: options.messages / seconds,
      appliedPerSecond: options.messages / appliedSeconds,
    })
  }
  const rss = await peakRssMiB(server.pid)
  await server.stop()

  const stats = JSON.parse(
    (
      await run(process.execPath, [
        cli,
        '--db',
        db,
        'stats',
        '--format',
        'json',
      ])
    ).stdout,
  ) as { events: number }

  return {
    /** The median timed run's rates. */
    perSecond: median(runs.map((r) => r.perSecond)),
    appliedPerSecond: median(runs.map((r) => r.appliedPerSecond)),
    runs,
    /** The warm-up's first part's rate: a fresh server's. */
    freshPerSecond,
    medianMs: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    /** Non-200 answers, warm-up included. */
    failures,
    /** Events in the store: the warm-up's and the timed runs'. */
    stored: stats.events,
    serverPeakRssMiB: rss,
  }
}

const options = readOptions(process.argv.slice(2))
const bodies = makeBodies(options, options.messages, 'bench')
const httpBodies: Bodies = {
  warm: makeBodies(options, options.warm, 'warm').map((body) =>
    Buffer.from(body),
  ),
  timed: Array.from({ length: options.runs }, (_, run) =>
    (run === 0
      ? bodies
      : makeBodies(options, options.messages, `run${run}`)
    ).map((body) => Buffer.from(body)),
  ),
}

// The floor is measured beside each store's run: two passes before the
// DuckDB run, two between the runs, two after the PostgreSQL run. Each
// store's ratio is to the median of the passes on either side of it, so a
// machine whose speed drifts during the bench (this one's floor has read
// 165k-410k msg/s from one run to the next) skews no ratio.
const floorPasses: { at: string; perSecond: number }[] = []
function measureFloorAt(at: string): number[] {
  const rates = [measureFloor(bodies), measureFloor(bodies)].map(
    (pass) => pass.perSecond,
  )
  for (const perSecond of rates) floorPasses.push({ at, perSecond })
  return rates
}
// The warm-up pass: V8 compiles the floor's code as it would the server's.
measureFloor(bodies)
const floorBefore = measureFloorAt('before DuckDB')

const directory = await mkdtemp(join(tmpdir(), 'leadlens-bench-'))
const duckdb = await measureHttp(
  httpBodies,
  options,
  join(directory, 'bench.duckdb'),
)
await rm(directory, { recursive: true, force: true })
const floorBetween = measureFloorAt('between the stores')

const target = await createBenchSchema('ingest')
let postgres: Awaited<ReturnType<typeof measureHttp>> | { skipped: string }
if (target.ok) {
  try {
    postgres = await measureHttp(httpBodies, options, target.url)
  } finally {
    await target.drop()
  }
} else {
  postgres = { skipped: target.reason }
}
const floorAfter =
  'skipped' in postgres ? [] : measureFloorAt('after PostgreSQL')

const withRates = (
  http: Awaited<ReturnType<typeof measureHttp>>,
  floorPerSecond: number,
) => ({
  ...http,
  floorMessagesPerSecond: Math.round(floorPerSecond),
  messagesPerSecond: Math.round(http.perSecond),
  ratioToFloor: http.perSecond / floorPerSecond,
  freshMessagesPerSecond: Math.round(http.freshPerSecond),
  freshRatioToFloor: http.freshPerSecond / floorPerSecond,
  appliedMessagesPerSecond: Math.round(http.appliedPerSecond),
  appliedRatioToFloor: http.appliedPerSecond / floorPerSecond,
})
const rates = floorPasses.map((pass) => pass.perSecond)
const result = {
  at: new Date().toISOString(),
  options,
  floor: {
    messagesPerSecond: Math.round(median(rates)),
    lowest: Math.round(Math.min(...rates)),
    highest: Math.round(Math.max(...rates)),
    passes: floorPasses.map((pass) => ({
      at: pass.at,
      messagesPerSecond: Math.round(pass.perSecond),
    })),
  },
  duckdb: withRates(duckdb, median([...floorBefore, ...floorBetween])),
  postgres:
    'skipped' in postgres
      ? postgres
      : withRates(postgres, median([...floorBetween, ...floorAfter])),
}

const resultsDirectory = new URL('./results/', import.meta.url)
await mkdir(resultsDirectory, { recursive: true })
await writeFile(
  new URL(`ingest-http-${Date.now()}.json`, resultsDirectory),
  JSON.stringify(result, null, 2),
)

const column = (text: string) => text.padStart(18)
const rows: [string, (http: ReturnType<typeof withRates>) => string][] = [
  [
    'floor beside this run, msg/s',
    (h) => h.floorMessagesPerSecond.toLocaleString('en'),
  ],
  [
    'acknowledged (on disk), msg/s',
    (h) => h.messagesPerSecond.toLocaleString('en'),
  ],
  [
    '  each run (the median above)',
    (h) => h.runs.map((r) => Math.round(r.perSecond / 1000) + 'k').join(' '),
  ],
  ['  share of the floor', (h) => `${(h.ratioToFloor * 100).toFixed(1)}%`],
  [
    '  (fresh server: first warm-up part)',
    (h) =>
      `${h.freshMessagesPerSecond.toLocaleString('en')} ${(h.freshRatioToFloor * 100).toFixed(0)}%`,
  ],
  [
    'applied (visible to lists), msg/s',
    (h) => h.appliedMessagesPerSecond.toLocaleString('en'),
  ],
  [
    '  share of the floor',
    (h) => `${(h.appliedRatioToFloor * 100).toFixed(1)}%`,
  ],
  [
    'latency median / p95, ms',
    (h) => `${h.medianMs.toFixed(0)} / ${h.p95Ms.toFixed(0)}`,
  ],
  [
    'stored / sent (with warm-up)',
    (h) => `${h.stored} / ${options.warm + options.runs * options.messages}`,
  ],
  ['non-200 answers', (h) => String(h.failures)],
  ['server peak memory, MiB', (h) => h.serverPeakRssMiB.toFixed(0)],
]
console.log(
  `durable ingestion over HTTP: ${options.runs} timed runs of ${options.messages.toLocaleString('en')} messages after ${options.warm.toLocaleString('en')} to warm each server, batches of ${options.batch}, ${options.clients} clients`,
)
console.log(
  `  floor (JSON.parse + validation, 1 process): median ${result.floor.messagesPerSecond.toLocaleString('en')} msg/s of ${floorPasses.length} passes (${result.floor.lowest.toLocaleString('en')}-${result.floor.highest.toLocaleString('en')})`,
)
console.log(`  ${''.padEnd(34)}${column('DuckDB')}${column('PostgreSQL')}`)
for (const [label, show] of rows) {
  const pgText = 'skipped' in result.postgres ? '-' : show(result.postgres)
  console.log(
    `  ${label.padEnd(34)}${column(show(result.duckdb))}${column(pgText)}`,
  )
}
if ('skipped' in result.postgres)
  console.log(`  PostgreSQL skipped: ${result.postgres.skipped}`)
