/**
 * End-to-end checks on real, public data (../shared/data): the real CLI
 * imports the files into a fresh DuckDB store, runs the example lists, and
 * every count and row is compared with an oracle computed here, in plain
 * JavaScript, straight from the source files. The oracle imports nothing
 * from Leadlens: it re-reads DESIGN.md's semantics, not the product's code.
 */
import { createReadStream, existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createGunzip } from 'node:zlib'

import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { repoRoot, runCli, runListJson } from './support/leadlens-cli.js'
import { createTempLocation } from './support/temp-store.js'

import type { TempLocation } from './support/temp-store.js'
import type { CliResult, ListJson, ListRow } from './support/leadlens-cli.js'

const sharedData = fileURLToPath(new URL('../../shared/data/', import.meta.url))
const hasSharedData = existsSync(sharedData)
if (!hasSharedData) {
  console.warn(
    `wikiticker and saas-demo tests skipped: ${sharedData} (../shared/data) is absent`,
  )
}

const wikitickerMessages = join(
  sharedData,
  'wikiticker',
  'segment-messages.ndjson.gz',
)
const saasAccounts = join(sharedData, 'saas-demo', 'accounts.csv')
const saasUsers = join(sharedData, 'saas-demo', 'users.csv')

const dayMs = 86_400_000
const slowTimeout = 180_000

let workDir = ''
const locations: TempLocation[] = []

/** A new store location, removed after the file's tests. */
async function tempDb(): Promise<string> {
  const location = await createTempLocation()
  locations.push(location)

  return location.path
}

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
    throw new Error(
      'dist/ is missing: build first (npx tsc -p tsconfig.build.json)',
    )
  }
  workDir = await mkdtemp(join(tmpdir(), 'leadlens-real-data-'))
})

afterAll(async () => {
  if (workDir !== '') await rm(workDir, { recursive: true, force: true })
  for (const location of locations) await location.dispose()
})

// ---------------------------------------------------------------------------
// Running the real CLI
// ---------------------------------------------------------------------------

/** What `leadlens stats --format json` prints. */
interface StatsJson {
  users: number
  anonymousUsers: number
  identities: number
  accounts: number
  memberships: number
  events: number
  eventsByType: Record<string, number>
  eventsByName: Record<string, number>
  crm: { owners: number; companies: number; contacts: number; deals: number }
  ingest: {
    waiting: number
    failedBodies: number
    failedMessages: number
    journalProblem: string | null
  }
}

async function readStats(db: string): Promise<StatsJson> {
  const result = await runCli(['--db', db, 'stats', '--format', 'json'])
  expect(result.code, result.stderr).toBe(0)

  return JSON.parse(result.stdout) as StatsJson
}

/** Every metric column of every row holds a JSON number, not a string. */
function expectNumbers(rows: readonly ListRow[], column: string) {
  for (const row of rows) expect(typeof row[column]).toBe('number')
}

// ---------------------------------------------------------------------------
// The independent oracle: plain JavaScript over the source files.
// Semantics from DESIGN.md sections 4 and 5, nothing from src/.
// ---------------------------------------------------------------------------

/** Unicode code point order (the order of UTF-8 bytes), for id tie-breaks. */
function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** Sort key descending, then id ascending. */
function byValueThenId<T>(id: (row: T) => string, value: (row: T) => number) {
  return (a: T, b: T) => value(b) - value(a) || compareIds(id(a), id(b))
}

/** `within: <ms>` at asOf: the rolling window (asOf - ms, asOf]. */
function isWithin(time: number, asOf: number, windowMs: number): boolean {
  return time > asOf - windowMs && time <= asOf
}

interface OracleTrack {
  person: string
  event: string
  time: number
  contextGroupId: string | null
  properties: Record<string, unknown>
}

/** Everything the oracle keeps from the Segment messages file. */
interface SegmentOracle {
  messages: number
  byType: Record<string, number>
  byName: Record<string, number>
  identifiedUserIds: Set<string>
  /** anonymousId -> userId, from identify calls carrying both. */
  anonymousLinks: Map<string, string>
  anonymousIds: Set<string>
  /** groupId -> earliest group call. */
  accountFirstSeen: Map<string, number>
  /** person -> groupIds joined through group calls. */
  memberships: Map<string, Set<string>>
  /** person -> earliest message of any type. */
  personFirstSeen: Map<string, number>
  /** userId -> traits of its identify calls, later calls overriding. */
  userTraits: Map<string, Record<string, unknown>>
  tracks: OracleTrack[]
}

interface RawMessage {
  type?: string
  event?: string
  userId?: string | number | null
  anonymousId?: string | number | null
  groupId?: string | number | null
  timestamp?: string
  traits?: Record<string, unknown>
  properties?: Record<string, unknown>
  context?: { groupId?: string | number | null }
}

function idOf(value: string | number | null | undefined): string | null {
  if (value === undefined || value === null || value === '') return null

  return String(value)
}

function increment(counts: Record<string, number>, key: string) {
  counts[key] = (counts[key] ?? 0) + 1
}

/** Streams the gzipped NDJSON and aggregates it, one message at a time. */
async function readSegmentOracle(path: string): Promise<SegmentOracle> {
  const oracle: SegmentOracle = {
    messages: 0,
    byType: {},
    byName: {},
    identifiedUserIds: new Set(),
    anonymousLinks: new Map(),
    anonymousIds: new Set(),
    accountFirstSeen: new Map(),
    memberships: new Map(),
    personFirstSeen: new Map(),
    userTraits: new Map(),
    tracks: [],
  }
  const raw: RawMessage[] = []
  const lines = createInterface({
    input: createReadStream(path).pipe(createGunzip()),
    crlfDelay: Infinity,
  })
  for await (const line of lines) {
    if (line.trim() === '') continue
    const message = JSON.parse(line) as RawMessage
    raw.push(message)
    oracle.messages++
    increment(oracle.byType, String(message.type))
    if (message.type === 'track')
      increment(oracle.byName, String(message.event))

    const userId = idOf(message.userId)
    const anonymousId = idOf(message.anonymousId)
    if (message.type === 'identify' && userId !== null) {
      oracle.identifiedUserIds.add(userId)
      if (anonymousId !== null) oracle.anonymousLinks.set(anonymousId, userId)
      oracle.userTraits.set(userId, {
        ...oracle.userTraits.get(userId),
        ...message.traits,
      })
    }
    if (userId === null && anonymousId !== null) {
      oracle.anonymousIds.add(anonymousId)
    }
  }

  // A second pass once every identify is known: a visitor who identified
  // at any point is the same person as that user for all their messages.
  const personOf = (message: RawMessage): string => {
    const userId = idOf(message.userId)
    if (userId !== null) return userId
    const anonymousId = idOf(message.anonymousId) ?? ''

    return oracle.anonymousLinks.get(anonymousId) ?? anonymousId
  }
  for (const message of raw) {
    const person = personOf(message)
    const time = Date.parse(String(message.timestamp))
    const seen = oracle.personFirstSeen.get(person)
    if (seen === undefined || time < seen)
      oracle.personFirstSeen.set(person, time)

    const groupId = idOf(message.groupId)
    if (message.type === 'group' && groupId !== null) {
      const first = oracle.accountFirstSeen.get(groupId)
      if (first === undefined || time < first)
        oracle.accountFirstSeen.set(groupId, time)
      const joined = oracle.memberships.get(person) ?? new Set<string>()
      joined.add(groupId)
      oracle.memberships.set(person, joined)
    }

    if (message.type === 'track') {
      oracle.tracks.push({
        person,
        event: String(message.event),
        time,
        contextGroupId: idOf(message.context?.groupId),
        properties: message.properties ?? {},
      })
    }
  }

  return oracle
}

/** The stats the store should report after importing the file. */
function expectedSegmentStats(oracle: SegmentOracle): StatsJson {
  let memberships = 0
  for (const joined of oracle.memberships.values()) memberships += joined.size
  const neverIdentified = [...oracle.anonymousIds].filter(
    (id) => !oracle.anonymousLinks.has(id),
  )

  return {
    users: oracle.identifiedUserIds.size,
    anonymousUsers: neverIdentified.length,
    identities: oracle.anonymousLinks.size,
    accounts: oracle.accountFirstSeen.size,
    memberships,
    events: oracle.messages,
    eventsByType: oracle.byType,
    eventsByName: oracle.byName,
    crm: { owners: 0, companies: 0, contacts: 0, deals: 0 },
    // A file import writes directly: nothing waits in the HTTP inbox.
    ingest: {
      waiting: 0,
      failedBodies: 0,
      failedMessages: 0,
      journalProblem: null,
    },
  }
}

/** A number property as a metric reads it; anything else counts as none. */
function numberProperty(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string' && value.trim() !== '') {
    const number = Number(value)
    if (Number.isFinite(number)) return number
  }

  return undefined
}

/**
 * Per account, over tracks named `event` inside the window: how many, and
 * the sum of `property`. An event belongs to its context.groupId account,
 * else to every account its person joined through a group call.
 */
function accountMetrics(
  oracle: SegmentOracle,
  event: string,
  asOf: number,
  windowMs: number,
  property?: string,
): Map<string, { count: number; sum: number }> {
  const metrics = new Map<string, { count: number; sum: number }>()
  for (const track of oracle.tracks) {
    if (track.event !== event || !isWithin(track.time, asOf, windowMs)) continue

    const accounts =
      track.contextGroupId !== null
        ? [track.contextGroupId]
        : [...(oracle.memberships.get(track.person) ?? [])]
    const value =
      property === undefined
        ? 0
        : (numberProperty(track.properties[property]) ?? 0)
    for (const account of accounts) {
      const metric = metrics.get(account) ?? { count: 0, sum: 0 }
      metric.count++
      metric.sum += value
      metrics.set(account, metric)
    }
  }

  return metrics
}

/** Accounts that exist at asOf: named by a group call at or before it. */
function accountsAt(oracle: SegmentOracle, asOf: number): string[] {
  return [...oracle.accountFirstSeen]
    .filter(([, first]) => first <= asOf)
    .map(([id]) => id)
}

/** Per person, the number of tracks named `event` inside the window. */
function personCounts(
  oracle: SegmentOracle,
  event: string,
  asOf: number,
  windowMs: number,
): Map<string, number> {
  const counts = new Map<string, number>()
  for (const track of oracle.tracks) {
    if (track.event !== event || !isWithin(track.time, asOf, windowMs)) continue
    counts.set(track.person, (counts.get(track.person) ?? 0) + 1)
  }

  return counts
}

/** accounts-by-pages-created.yaml: count of Page Created in 1d, > 0. */
function oraclePagesCreated(oracle: SegmentOracle, asOf: number): ListJson {
  const metrics = accountMetrics(oracle, 'Page Created', asOf, dayMs)
  const rows = accountsAt(oracle, asOf)
    .map((id) => ({ id, count: metrics.get(id)?.count ?? 0 }))
    .filter((row) => row.count > 0)
    .sort(
      byValueThenId(
        (row) => row.id,
        (row) => row.count,
      ),
    )
    .map((row) => ({ 'account.id': row.id, pages_created_1d: row.count }))

  return { rows, total: rows.length }
}

/** accounts-by-bytes-added.yaml: sum of added over Page Edited in 1d. */
function oracleBytesAdded(oracle: SegmentOracle, asOf: number): ListJson {
  const metrics = accountMetrics(oracle, 'Page Edited', asOf, dayMs, 'added')
  const rows = accountsAt(oracle, asOf)
    .map((id) => ({ id, metric: metrics.get(id) ?? { count: 0, sum: 0 } }))
    .filter((row) => row.metric.count > 0)
    .sort(
      byValueThenId(
        (row) => row.id,
        (row) => row.metric.sum,
      ),
    )
    .map((row) => ({ 'account.id': row.id, added_1d: row.metric.sum }))

  return { rows, total: rows.length }
}

/**
 * active-human-editors.yaml: identified users (a userId), whose identify
 * traits say is_robot false, with at least 20 Page Edited in 1d.
 */
function oracleHumanEditors(oracle: SegmentOracle, asOf: number): ListJson {
  const counts = personCounts(oracle, 'Page Edited', asOf, dayMs)
  const rows = [...oracle.identifiedUserIds]
    .filter((id) => (oracle.personFirstSeen.get(id) ?? Infinity) <= asOf)
    .filter((id) => oracle.userTraits.get(id)?.is_robot === false)
    .map((id) => ({ id, count: counts.get(id) ?? 0 }))
    .filter((row) => row.count >= 20)
    .sort(
      byValueThenId(
        (row) => row.id,
        (row) => row.count,
      ),
    )
    .map((row) => ({ 'user.id': row.id, edits_1d: row.count }))

  return { rows, total: rows.length }
}

interface SaasAccountRow {
  account_id: string
  account_name: string
  segment: string
}

interface SaasUserRow {
  user_id: string
  account_id: string
  created_at: string
}

/** A zoneless `2024-11-17 07:54:35`, read as UTC. */
function parseUtc(text: string): number {
  return Date.parse(`${text.trim().replace(' ', 'T')}Z`)
}

/**
 * growing-enterprise-accounts.yaml: Enterprise accounts with at least 3
 * users created in (asOf - 90 days, asOf], by that count.
 */
async function oracleGrowingEnterprise(asOf: number): Promise<ListJson> {
  const accounts = parse<SaasAccountRow>(await readFile(saasAccounts), {
    columns: true,
    skip_empty_lines: true,
  })
  const users = parse<SaasUserRow>(await readFile(saasUsers), {
    columns: true,
    skip_empty_lines: true,
  })

  const added = new Map<string, number>()
  for (const user of users) {
    if (user.created_at === '' || user.account_id === '') continue
    if (!isWithin(parseUtc(user.created_at), asOf, 90 * dayMs)) continue
    added.set(user.account_id, (added.get(user.account_id) ?? 0) + 1)
  }

  const rows = accounts
    .filter((account) => account.segment === 'Enterprise')
    .map((account) => ({
      id: account.account_id,
      name: account.account_name,
      count: added.get(account.account_id) ?? 0,
    }))
    .filter((row) => row.count >= 3)
    .sort(
      byValueThenId(
        (row) => row.id,
        (row) => row.count,
      ),
    )
    .map((row) => ({
      'account.id': row.id,
      'account.name': row.name,
      users_added_90d: row.count,
    }))

  return { rows, total: rows.length }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

describe.skipIf(!hasSharedData)('wikiticker Segment messages', () => {
  const asOfText = '2015-09-13T00:00:00Z'
  const asOf = Date.parse(asOfText)
  let db = ''
  let imported: CliResult
  let oracle: SegmentOracle

  beforeAll(async () => {
    db = await tempDb()
    ;[imported, oracle] = await Promise.all([
      runCli(['--db', db, 'import', 'events', wikitickerMessages]),
      readSegmentOracle(wikitickerMessages),
    ])
  }, slowTimeout)

  it('imports every message of the file and exits 0', () => {
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout).toContain(`${oracle.messages} messages`)
    expect(imported.stdout).toContain('0 rejected')
  })

  it(
    'reports the counts of messages, users, visitors and accounts in the file',
    async () => {
      const stats = await readStats(db)

      expect(stats).toEqual(expectedSegmentStats(oracle))
    },
    slowTimeout,
  )

  it('has events after asOf in the file, which lists must leave out', () => {
    // Guards the oracle's premise: the window matters on this file.
    expect(oracle.tracks.some((track) => track.time > asOf)).toBe(true)
  })

  it(
    'lists channels by pages created in the last day, as the oracle does',
    async () => {
      const result = await runListJson(
        db,
        'examples/wikiticker/accounts-by-pages-created.yaml',
        asOfText,
      )
      const expected = oraclePagesCreated(oracle, asOf)

      expect(expected.rows.length).toBeGreaterThan(0)
      expectNumbers(result.rows, 'pages_created_1d')
      expect(result).toEqual(expected)
    },
    slowTimeout,
  )

  it(
    'lists channels by bytes added in the last day, as the oracle does',
    async () => {
      const result = await runListJson(
        db,
        'examples/wikiticker/accounts-by-bytes-added.yaml',
        asOfText,
      )
      const expected = oracleBytesAdded(oracle, asOf)

      expect(expected.rows.length).toBeGreaterThan(0)
      expectNumbers(result.rows, 'added_1d')
      expect(result).toEqual(expected)
    },
    slowTimeout,
  )

  it(
    'lists human editors with at least 20 edits in the last day, as the oracle does',
    async () => {
      const result = await runListJson(
        db,
        'examples/wikiticker/active-human-editors.yaml',
        asOfText,
      )
      const expected = oracleHumanEditors(oracle, asOf)

      expect(expected.rows.length).toBeGreaterThan(0)
      expectNumbers(result.rows, 'edits_1d')
      expect(result).toEqual(expected)
    },
    slowTimeout,
  )
})

describe.skipIf(!hasSharedData)('saas-demo CSV accounts and users', () => {
  const asOfText = '2025-05-01T00:00:00Z'
  let db = ''

  beforeAll(async () => {
    db = await tempDb()
  })

  it(
    'imports accounts and users with the example mappings and exits 0',
    async () => {
      const accounts = await runCli([
        '--db',
        db,
        'import',
        'accounts',
        saasAccounts,
        '--map',
        'examples/saas-demo/accounts.map.yaml',
      ])
      expect(accounts.code, accounts.stderr + accounts.stdout).toBe(0)

      const users = await runCli([
        '--db',
        db,
        'import',
        'users',
        saasUsers,
        '--map',
        'examples/saas-demo/users.map.yaml',
      ])
      expect(users.code, users.stderr + users.stdout).toBe(0)
    },
    slowTimeout,
  )

  it(
    'lists Enterprise accounts that added at least 3 users in 90 days, as the oracle does',
    async () => {
      const result = await runListJson(
        db,
        'examples/saas-demo/growing-enterprise-accounts.yaml',
        asOfText,
      )
      const expected = await oracleGrowingEnterprise(Date.parse(asOfText))

      expect(expected.rows.length).toBeGreaterThan(0)
      expectNumbers(result.rows, 'users_added_90d')
      expect(result).toEqual(expected)
    },
    slowTimeout,
  )
})

// Needs no shared data: its input is written here.
describe('importing a file with bad lines', () => {
  const lines = [
    JSON.stringify({
      type: 'track',
      event: 'Report Exported',
      userId: 'good-1',
      messageId: 'bad-input-1',
      timestamp: '2025-01-02T03:04:05Z',
    }),
    '{"type":"track","event":"Half a message",',
    JSON.stringify({
      type: 'track',
      event: 'Report Exported',
      messageId: 'bad-input-3',
      timestamp: '2025-01-02T03:04:05Z',
    }),
    JSON.stringify({
      type: 'bogus',
      userId: 'bad-4',
      messageId: 'bad-input-4',
      timestamp: '2025-01-02T03:04:05Z',
    }),
    JSON.stringify({
      type: 'track',
      event: 'Report Exported',
      userId: 'bad-5',
      messageId: 'bad-input-5',
      timestamp: 'not a time',
    }),
    JSON.stringify({
      type: 'identify',
      userId: 'good-6',
      messageId: 'bad-input-6',
      timestamp: '2025-01-02T03:04:06Z',
      traits: { email: 'good-6@example.com' },
    }),
  ]
  let db = ''
  let imported: CliResult

  beforeAll(async () => {
    db = await tempDb()
    const file = join(workDir, 'bad-input.ndjson')
    await writeFile(file, `${lines.join('\n')}\n`)
    imported = await runCli(['--db', db, 'import', 'events', file])
  }, slowTimeout)

  it('exits 1 and names each bad line with its code', () => {
    expect(imported.code, imported.stderr).toBe(1)

    const named = [...imported.stdout.matchAll(/:(\d+) (INGEST_[A-Z_]+)/g)].map(
      (match) => [Number(match[1]), match[2]],
    )
    expect(named).toEqual([
      [2, 'INGEST_JSON_INVALID'],
      [3, 'INGEST_ID_MISSING'],
      [4, 'INGEST_TYPE_UNKNOWN'],
      [5, 'INGEST_TIMESTAMP_INVALID'],
    ])
  })

  it(
    'stores the two good messages and nothing of the bad ones',
    async () => {
      const stats = await readStats(db)

      expect(stats.events).toBe(2)
      expect(stats.eventsByType).toEqual({ identify: 1, track: 1 })
      expect(stats.eventsByName).toEqual({ 'Report Exported': 1 })
      expect(stats.users).toBe(2)
      expect(stats.anonymousUsers).toBe(0)
    },
    slowTimeout,
  )
})
