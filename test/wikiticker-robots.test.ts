/**
 * A list over real data that combines a distinct-users metric with a count
 * filtered on an event property: wikiticker channels (accounts) with at
 * least 50 distinct editors in the last day and no page created by a robot
 * in the last 12 hours. The real CLI imports the Segment messages into a
 * fresh DuckDB store and runs the list; the whole output is compared with an
 * oracle computed here, in plain JavaScript, from the gzipped NDJSON. The
 * oracle imports nothing from Leadlens: it follows DESIGN.md sections 4 and
 * 5, not the product's code.
 */
import { createReadStream, existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createGunzip } from 'node:zlib'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { repoRoot, runCli, runListJson } from './support/leadlens-cli.js'
import { createTempLocation } from './support/temp-store.js'

import type { TempLocation } from './support/temp-store.js'
import type { CliResult, ListJson } from './support/leadlens-cli.js'

const sharedData = fileURLToPath(new URL('../../shared/data/', import.meta.url))
const hasSharedData = existsSync(sharedData)
if (!hasSharedData) {
  console.warn(
    `wikiticker robot-creation list tests skipped: ${sharedData} (../shared/data) is absent`,
  )
}

const wikitickerMessages = join(
  sharedData,
  'wikiticker',
  'segment-messages.ndjson.gz',
)
/** The same definition, kept as an example next to the other wikiticker lists. */
const exampleDefinition =
  'examples/wikiticker/busy-channels-without-robot-creations.yaml'

const hourMs = 3_600_000
const dayMs = 24 * hourMs
const slowTimeout = 180_000

/** The list under test, written to a temporary file before it runs. */
const definitionYaml = `name: Busy channels without robot page creations
of: accounts
where:
  all:
    - metric: { distinct_users: Page Edited, within: 1d }
      op: '>='
      value: 50
    - metric:
        count: Page Created
        within: 12h
        where: { field: isRobot, op: '=', value: true }
      op: '='
      value: 0
sort:
  - { metric: { distinct_users: Page Edited, within: 1d }, dir: desc }
columns:
  - account.id
  - { metric: { distinct_users: Page Edited, within: 1d }, as: editors_1d }
  - metric:
      count: Page Created
      within: 12h
      where: { field: isRobot, op: '=', value: true }
    as: robot_creations_12h
`
const minEditors = 50
const editorsWindowMs = dayMs
const robotWindowMs = 12 * hourMs

// ---------------------------------------------------------------------------
// Running the real CLI
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// The independent oracle: plain JavaScript over the messages file.
// ---------------------------------------------------------------------------

/** Unicode code point order (the order of UTF-8 bytes), for id tie-breaks. */
function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** `within: <ms>` at asOf: the rolling window (asOf - ms, asOf]. */
function isWithin(time: number, asOf: number, windowMs: number): boolean {
  return time > asOf - windowMs && time <= asOf
}

interface RawMessage {
  type?: string
  event?: string
  userId?: string | number | null
  anonymousId?: string | number | null
  groupId?: string | number | null
  timestamp?: string
  properties?: Record<string, unknown>
  context?: { groupId?: string | number | null }
}

interface OracleTrack {
  person: string
  event: string
  time: number
  contextGroupId: string | null
  isRobot: unknown
}

/** Everything the oracle keeps from the Segment messages file. */
interface SegmentOracle {
  messages: number
  /** groupId -> earliest group call. */
  accountFirstSeen: Map<string, number>
  /** person -> groupIds joined through group calls. */
  memberships: Map<string, Set<string>>
  tracks: OracleTrack[]
}

function idOf(value: string | number | null | undefined): string | null {
  if (value === undefined || value === null || value === '') return null

  return String(value)
}

/** Streams the gzipped NDJSON, then resolves persons once all is read. */
async function readSegmentOracle(path: string): Promise<SegmentOracle> {
  const raw: RawMessage[] = []
  /** anonymousId -> userId, from identify calls carrying both. */
  const anonymousLinks = new Map<string, string>()
  const lines = createInterface({
    input: createReadStream(path).pipe(createGunzip()),
    crlfDelay: Infinity,
  })
  for await (const line of lines) {
    if (line.trim() === '') continue
    const message = JSON.parse(line) as RawMessage
    raw.push(message)

    const userId = idOf(message.userId)
    const anonymousId = idOf(message.anonymousId)
    if (
      message.type === 'identify' &&
      userId !== null &&
      anonymousId !== null
    ) {
      anonymousLinks.set(anonymousId, userId)
    }
  }

  // A visitor who identified at any point is the same person as that user
  // for all their messages, earlier ones included.
  const personOf = (message: RawMessage): string => {
    const userId = idOf(message.userId)
    if (userId !== null) return userId
    const anonymousId = idOf(message.anonymousId) ?? ''

    return anonymousLinks.get(anonymousId) ?? anonymousId
  }

  const oracle: SegmentOracle = {
    messages: raw.length,
    accountFirstSeen: new Map(),
    memberships: new Map(),
    tracks: [],
  }
  for (const message of raw) {
    const person = personOf(message)
    const time = Date.parse(String(message.timestamp))

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
        isRobot: message.properties?.isRobot,
      })
    }
  }

  return oracle
}

/**
 * The accounts a track belongs to: its context.groupId, else every account
 * its person joined through a group call.
 */
function accountsOf(oracle: SegmentOracle, track: OracleTrack): string[] {
  if (track.contextGroupId !== null) return [track.contextGroupId]

  return [...(oracle.memberships.get(track.person) ?? [])]
}

interface ChannelMetrics {
  /** Page Edited events in the editors window. */
  edits: number
  /** Distinct persons behind those events. */
  editors: Set<string>
  /** Page Created events with isRobot true in the robot window. */
  robotCreations: number
  /** Page Created events with isRobot true in the editors window. */
  robotCreations1d: number
  /** Page Created events, robot or not, in the robot window. */
  creations: number
}

/** Per account, the metrics the list reads at asOf. */
function channelMetrics(
  oracle: SegmentOracle,
  asOf: number,
): Map<string, ChannelMetrics> {
  const metrics = new Map<string, ChannelMetrics>()
  const metricsOf = (account: string): ChannelMetrics => {
    let metric = metrics.get(account)
    if (metric === undefined) {
      metric = {
        edits: 0,
        editors: new Set(),
        robotCreations: 0,
        robotCreations1d: 0,
        creations: 0,
      }
      metrics.set(account, metric)
    }

    return metric
  }

  for (const track of oracle.tracks) {
    const isEdit =
      track.event === 'Page Edited' &&
      isWithin(track.time, asOf, editorsWindowMs)
    const isCreation = track.event === 'Page Created'
    const isRobotCreation = isCreation && track.isRobot === true
    if (!isEdit && !isCreation) continue

    for (const account of accountsOf(oracle, track)) {
      const metric = metricsOf(account)
      if (isEdit) {
        metric.edits++
        metric.editors.add(track.person)
      }
      if (isRobotCreation && isWithin(track.time, asOf, robotWindowMs))
        metric.robotCreations++
      if (isRobotCreation && isWithin(track.time, asOf, dayMs))
        metric.robotCreations1d++
      if (isCreation && isWithin(track.time, asOf, robotWindowMs))
        metric.creations++
    }
  }

  return metrics
}

interface BusyChannel {
  id: string
  editors: number
  edits: number
  robotCreations: number
  robotCreations1d: number
  creations: number
}

/** Accounts that exist at asOf (a group call at or before it), by editors. */
function busyChannels(oracle: SegmentOracle, asOf: number): BusyChannel[] {
  const metrics = channelMetrics(oracle, asOf)

  return [...oracle.accountFirstSeen]
    .filter(([, first]) => first <= asOf)
    .map(([id]) => {
      const metric = metrics.get(id)

      return {
        id,
        editors: metric?.editors.size ?? 0,
        edits: metric?.edits ?? 0,
        robotCreations: metric?.robotCreations ?? 0,
        robotCreations1d: metric?.robotCreations1d ?? 0,
        creations: metric?.creations ?? 0,
      }
    })
    .filter((channel) => channel.editors >= minEditors)
    .sort((a, b) => b.editors - a.editors || compareIds(a.id, b.id))
}

/** The list's expected output: busy channels without robot creations. */
function expectedList(channels: readonly BusyChannel[]): ListJson {
  const rows = channels
    .filter((channel) => channel.robotCreations === 0)
    .map((channel) => ({
      'account.id': channel.id,
      editors_1d: channel.editors,
      robot_creations_12h: channel.robotCreations,
    }))

  return { rows, total: rows.length }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

describe.skipIf(!hasSharedData)(
  'wikiticker busy channels without robot page creations',
  () => {
    const asOfText = '2015-09-13T00:00:00Z'
    const asOf = Date.parse(asOfText)
    let workDir = ''
    let db = ''
    let location: TempLocation | undefined
    let definition = ''
    let imported: CliResult
    let oracle: SegmentOracle
    let channels: BusyChannel[]

    beforeAll(async () => {
      if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
        throw new Error(
          'dist/ is missing: build first (npx tsc -p tsconfig.build.json)',
        )
      }
      workDir = await mkdtemp(join(tmpdir(), 'leadlens-wikiticker-robots-'))
      location = await createTempLocation()
      db = location.path
      definition = join(workDir, 'busy-channels-without-robot-creations.yaml')
      await writeFile(definition, definitionYaml)
      ;[imported, oracle] = await Promise.all([
        runCli(['--db', db, 'import', 'events', wikitickerMessages]),
        readSegmentOracle(wikitickerMessages),
      ])
      channels = busyChannels(oracle, asOf)
    }, slowTimeout)

    afterAll(async () => {
      if (workDir !== '') await rm(workDir, { recursive: true, force: true })
      await location?.dispose()
    })

    it('imports every message of the file and exits 0', () => {
      expect(imported.code, imported.stderr).toBe(0)
      expect(imported.stdout).toContain(`${oracle.messages} messages`)
      expect(imported.stdout).toContain('0 rejected')
    })

    it('has channels whose editors edit more than once, so distinct users differ from counts', () => {
      // Guards the oracle's premise: counting events instead of persons
      // would give other numbers on this file.
      expect(channels.length).toBeGreaterThan(0)
      expect(channels.some((channel) => channel.edits > channel.editors)).toBe(
        true,
      )
    })

    it('has listed channels with human page creations in 12 hours, so the isRobot filter matters', () => {
      // Without the where: on isRobot these channels would be left out.
      const listed = channels.filter((channel) => channel.robotCreations === 0)
      expect(listed.some((channel) => channel.creations > 0)).toBe(true)
    })

    it('has listed channels with robot creations 12 to 24 hours ago, so the 12-hour window matters', () => {
      // A one-day window, or no window, would leave these channels out.
      const listed = channels.filter((channel) => channel.robotCreations === 0)
      expect(listed.some((channel) => channel.robotCreations1d > 0)).toBe(true)
    })

    it(
      'lists channels with at least 50 editors in a day and no robot creations in 12 hours, as the oracle does',
      async () => {
        const result = await runListJson(db, definition, asOfText)
        const expected = expectedList(channels)

        expect(expected.rows.length).toBeGreaterThan(0)
        for (const row of result.rows) {
          expect(typeof row.editors_1d).toBe('number')
          expect(typeof row.robot_creations_12h).toBe('number')
        }
        expect(result).toEqual(expected)
      },
      slowTimeout,
    )

    it(
      'leaves out busy channels where robots created pages in the last 12 hours',
      async () => {
        const excluded = channels.filter(
          (channel) => channel.robotCreations > 0,
        )
        // The robot condition matters: without it these would be listed.
        expect(excluded.length).toBeGreaterThan(0)

        const result = await runListJson(db, definition, asOfText)
        const listed = new Set(result.rows.map((row) => row['account.id']))
        for (const channel of excluded) {
          expect(listed.has(channel.id), channel.id).toBe(false)
        }
      },
      slowTimeout,
    )

    it(
      'runs the saved example to the same rows as the definition written here',
      async () => {
        const fromExample = await runListJson(db, exampleDefinition, asOfText)
        const fromTemp = await runListJson(db, definition, asOfText)

        expect(fromExample).toEqual(fromTemp)
      },
      slowTimeout,
    )
  },
)
