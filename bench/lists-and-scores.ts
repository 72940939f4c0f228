/**
 * List and score latency at 1M users, 100k accounts and 50M events (10x
 * smaller with --quick) against a bare scan of the same events, measured
 * side by side in one run, on DuckDB and then on PostgreSQL:
 *
 * - generation: a fresh DuckDB file migrated by `openStore`, then filled
 *   with SQL alone (`INSERT ... SELECT ... FROM range(N)`, hash-based
 *   pseudo-random values): users, accounts, memberships, track events over
 *   90 days ending at asOf, CRM owners, companies and deals, and the
 *   catalog rows (property types, event names) ingestion would have kept;
 * - five standard lists through the product's `runList`, each beside its
 *   floor: `SELECT person_id|account_id, count(*) FROM events` over the
 *   list's window, grouped, counted in the database (no rows to JS);
 * - one score recomputed for every account with `runScore`;
 * - then the same rows copied into a fresh PostgreSQL schema (COPY, see
 *   copy-to-postgres.ts) and every step again there; skipped, saying why,
 *   when no PostgreSQL answers (`LEADLENS_BENCH_PG_URL`).
 *
 * Timings are the median and p95 (nearest rank) of several runs after a
 * warm-up, list and floor alternating. Peak memory per step is the sampled
 * `process.memoryUsage().rss` and /proc/self/status VmHWM (reset before
 * each step where the kernel allows it).
 *
 * Prints a table and writes JSON under bench/results/. Never fails on a figure.
 *   npm run bench -- [--quick] [--runs N] [--users N] [--accounts N] [--events N]
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'

import { applyDefinitions } from '../src/catalog/apply-definitions.js'
import { resolveWindow } from '../src/lists/time-window.js'
import { parseListDefinition } from '../src/lists/read-list-definition.js'
import { compileListForStore, runList } from '../src/lists/run-list.js'
import { runScore } from '../src/scores/run-score.js'
import { readSavedScore } from '../src/scores/saved-scores.js'
import { rebuildRollups } from '../src/rollups/rebuild-rollups.js'
import { openStore } from '../src/store/open-store.js'
import { copyToPostgres } from './copy-to-postgres.js'
import { createBenchSchema } from './postgres-target.js'

import type { ListResult } from '../src/lists/run-list.js'
import type { Store } from '../src/store/store.js'
import type { CopyFigures } from './copy-to-postgres.js'

// A Thursday at noon UTC, 3.5 days into the week, as a rep would open list
// (c). Until 2026-12-05 this was Monday 2030-04-01 00:00, where "this week"
// is a single instant: list (c) then measured only its fixed cost (a join
// and sort over 100k accounts, 21-28 ms) against a floor that read nothing
// (1.7 ms). Windows of whole days (7d, 30d) are the same either way.
const asOf = new Date('2030-04-04T12:00:00Z')
const spanDays = 90
const me = 'rep03@sales.example.com'
const keyEvent = 'Project Created'
const scoreName = 'bench_pql'

interface Options {
  quick: boolean
  users: number
  accounts: number
  events: number
  runs: number
  /** A step whose warm-up is slower than this gets fewer timed runs. */
  stepBudgetSeconds: number
}

function readOptions(argv: string[]): Options {
  const value = (flag: string, fallback: number) => {
    const index = argv.indexOf(flag)
    const parsed = index >= 0 ? Number(argv[index + 1]) : Number.NaN
    return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback
  }
  const quick = argv.includes('--quick')
  const scale = quick ? 10 : 1

  return {
    quick,
    users: value('--users', 1_000_000 / scale),
    accounts: value('--accounts', 100_000 / scale),
    events: value('--events', 50_000_000 / scale),
    runs: value('--runs', 5),
    stepBudgetSeconds: value('--step-budget', 300),
  }
}

// Memory --------------------------------------------------------------------

interface MemoryFigures {
  peakRssMiB: number
  vmHwmMiB: number
  /** Whether VmHWM was reset at the start of the step (else since start). */
  vmHwmSinceStepStart: boolean
}

const mib = (bytes: number) => bytes / 1024 / 1024

function readVmHwmMiB(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8')
    const match = /VmHWM:\s+(\d+) kB/.exec(status)
    return match ? Number(match[1]) / 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** Samples RSS every 20 ms during a step; resets VmHWM at its start. */
async function withMemory<T>(
  work: () => Promise<T>,
): Promise<{ value: T; memory: MemoryFigures }> {
  let reset = false
  try {
    // "5" resets the peak RSS (VmHWM) of this process (Linux >= 4.0).
    writeFileSync('/proc/self/clear_refs', '5')
    reset = true
  } catch {
    reset = false
  }
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 20)
  timer.unref()
  try {
    const value = await work()
    peak = Math.max(peak, process.memoryUsage().rss)
    return {
      value,
      memory: {
        peakRssMiB: Math.round(mib(peak)),
        vmHwmMiB: Math.round(readVmHwmMiB()),
        vmHwmSinceStepStart: reset,
      },
    }
  } finally {
    clearInterval(timer)
  }
}

// Timing --------------------------------------------------------------------

interface Timing {
  runsMs: number[]
  medianMs: number
  p95Ms: number
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length) - 1

  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN
}

function toTiming(runsMs: number[]): Timing {
  return {
    runsMs: runsMs.map((ms) => Math.round(ms * 10) / 10),
    medianMs: percentile(runsMs, 50),
    p95Ms: percentile(runsMs, 95),
  }
}

async function timeOnce(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return performance.now() - started
}

/**
 * One warm-up of each, then `runs` timed runs of each, alternating, so the
 * subject and its floor see the same conditions. Fewer runs when a warm-up
 * alone exceeds the step budget.
 */
async function measureBesideFloor(
  subject: () => Promise<unknown>,
  floor: () => Promise<unknown>,
  options: Options,
) {
  const warmSubject = await timeOnce(subject)
  const warmFloor = await timeOnce(floor)
  const perRound = (warmSubject + warmFloor) / 1000
  const runs = Math.max(
    1,
    Math.min(options.runs, Math.floor(options.stepBudgetSeconds / perRound)),
  )
  const subjectMs: number[] = []
  const floorMs: number[] = []
  for (let index = 0; index < runs; index++) {
    floorMs.push(await timeOnce(floor))
    subjectMs.push(await timeOnce(subject))
  }

  return {
    warmUpMs: Math.round(warmSubject),
    runs,
    subject: toTiming(subjectMs),
    floor: toTiming(floorMs),
  }
}

// Generation ----------------------------------------------------------------

const eventNames: [string, number][] = [
  ['Dashboard Viewed', 0.3],
  ['Report Run', 0.2],
  ['Search Performed', 0.15],
  ['Item Updated', 0.1],
  ['Comment Added', 0.08],
  ['File Uploaded', 0.06],
  ['Invite Sent', 0.04],
  [keyEvent, 0.03],
  ['Integration Connected', 0.02],
  ['Export Downloaded', 0.02],
]

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`

/** A CASE choosing a name by cumulative weight of the uniform `u`. */
function weightedChoice(u: string, choices: [string, number][]): string {
  let cumulative = 0
  const whens = choices.slice(0, -1).map(([name, weight]) => {
    cumulative += weight
    return `WHEN ${u} < ${cumulative.toFixed(6)} THEN ${sqlString(name)}`
  })
  const last = sqlString(choices.at(-1)?.[0] ?? '')

  return `CASE ${whens.join(' ')} ELSE ${last} END`
}

const list = (items: string[]) => `[${items.map(sqlString).join(', ')}]`

/**
 * The SQL that fills the store. Users are created every S/U seconds over
 * the 90 days (user_<r> is the r-th signup); each belongs to one account,
 * drawn with a skew so some accounts are large. Event e happens at
 * T0 + S * (e + jitter) / E, so events arrive in time order as ingestion
 * would store them, by a user already created then (older users more
 * active); 10% name the user's account in context.groupId.
 */
function generationSteps(options: Options): { table: string; sql: string }[] {
  const t0 = asOf.getTime() / 1000 - spanDays * 86_400
  const span = spanDays * 86_400
  const { users, accounts, events } = options
  const now = `TIMESTAMPTZ '${asOf.toISOString()}'`
  const chunk = 5_000_000
  const steps: { table: string; sql: string }[] = [
    // hash(i, salt) alone is correlated across salts (DuckDB combines the
    // two hashes cheaply); hashing it again makes the draws independent.
    {
      table: 'macros',
      sql: `CREATE OR REPLACE TEMP MACRO bench_u(i, salt) AS
        hash(hash(i, salt))::DOUBLE / 18446744073709551616.0`,
    },
    {
      table: 'macros',
      sql: `CREATE OR REPLACE TEMP MACRO bench_pick(i, salt, n) AS
        1 + (hash(hash(i, salt)) % n)::BIGINT`,
    },
    {
      table: 'macros',
      sql: `CREATE OR REPLACE TEMP MACRO bench_account(r) AS
        floor(${accounts} * pow(bench_u(r, 'account'), 2))::BIGINT`,
    },
    {
      table: 'macros',
      sql: `CREATE OR REPLACE TEMP MACRO bench_created(r) AS
        to_timestamp(${t0} + r * ${span / users})`,
    },
    {
      table: 'accounts',
      sql: `INSERT INTO accounts
        SELECT 'acct_' || k, 'Account ' || k, 'acct' || k || '.example',
          coalesce(c.created, to_timestamp(${t0} + bench_u(k, 'acreated') * ${span})),
          coalesce(c.created, to_timestamp(${t0} + bench_u(k, 'acreated') * ${span})),
          json_object(
            'employees', emp,
            'segment', CASE WHEN emp < 50 THEN 'smb'
              WHEN emp < 500 THEN 'mid-market' ELSE 'enterprise' END,
            'country', ${list(['US', 'US', 'US', 'GB', 'DE', 'FR', 'CA', 'IN', 'BR', 'JP'])}[bench_pick(k, 'country', 10)]),
          ${now}
        FROM (SELECT k, floor(2 * exp(bench_u(k, 'employees') * 9))::INTEGER AS emp
          FROM range(${accounts}) r(k)) a
        LEFT JOIN (SELECT bench_account(r) AS account, min(bench_created(r)) AS created
          FROM range(${users}) r(r) GROUP BY 1) c ON c.account = a.k`,
    },
    {
      table: 'memberships',
      sql: `INSERT INTO memberships
        SELECT 'user_' || r, 'acct_' || bench_account(r), bench_created(r), 'import'
        FROM range(${users}) r(r)`,
    },
  ]

  for (let lo = 0; lo < events; lo += chunk) {
    const hi = Math.min(events, lo + chunk)
    steps.push({
      table: 'events',
      sql: `INSERT INTO events
        SELECT 'bench', 'bench-' || e, 'track',
          ${weightedChoice("bench_u(e, 'name')", eventNames)},
          'user_' || p, 'user_' || p, NULL,
          CASE WHEN grouped THEN 'acct_' || bench_account(p) END,
          to_timestamp(t), NULL, NULL,
          to_timestamp(t + bench_u(e, 'received') * 2),
          json_object('duration_ms', bench_pick(e, 'duration', 5000)::INTEGER,
            'feature', 'f' || bench_pick(e, 'feature', 13)),
          CASE WHEN grouped
            THEN json_object('groupId', 'acct_' || bench_account(p))
            ELSE '{}'::JSON END
        FROM (
          SELECT e, t, bench_u(e, 'grouped') < 0.1 AS grouped,
            floor(least(${users}, floor((t - ${t0}) * ${users / span}) + 1)
              * pow(bench_u(e, 'person'), 1.5))::BIGINT AS p
          FROM (SELECT e, ${t0} + ${span} * (e + bench_u(e, 'time')) / ${events} AS t
            FROM range(${lo}, ${hi}) r(e))
        )`,
    })
  }

  steps.push(
    {
      table: 'users',
      sql: `INSERT INTO users
        SELECT 'user_' || r, false,
          'user' || r || '@acct' || bench_account(r) || '.example',
          bench_created(r), bench_created(r),
          coalesce(s.last_seen, bench_created(r)),
          json_object(
            'plan', ${list(['free', 'free', 'free', 'team', 'team', 'business', 'enterprise'])}[bench_pick(r, 'plan', 7)],
            'role', ${list(['member', 'member', 'member', 'admin', 'viewer'])}[bench_pick(r, 'role', 5)]),
          ${now}
        FROM range(${users}) r(r)
        LEFT JOIN (SELECT person_id, max(timestamp) AS last_seen
          FROM events GROUP BY person_id) s ON s.person_id = 'user_' || r`,
    },
    {
      table: 'crm_owners',
      sql: `INSERT INTO crm_owners
        SELECT 'owner_' || lpad(o::VARCHAR, 2, '0'),
          'Rep' || lpad(o::VARCHAR, 2, '0') || '@Sales.Example.com',
          'Rep ' || o,
          json_object('team', CASE WHEN o % 2 = 0 THEN 'east' ELSE 'west' END),
          ${now}
        FROM range(1, 21) r(o)`,
    },
    // 40% of accounts are in the CRM; 10% of those only by domain.
    {
      table: 'crm_companies',
      sql: `INSERT INTO crm_companies
        SELECT 'co_' || k, 'Account ' || k || ' Inc.', 'acct' || k || '.example',
          CASE WHEN bench_u(k, 'co_link') < 0.9 THEN 'acct_' || k END,
          'owner_' || lpad(bench_pick(k, 'owner', 20)::VARCHAR, 2, '0'),
          json_object(
            'industry', ${list(['Software', 'Fintech', 'Retail', 'Healthcare', 'Manufacturing', 'Media'])}[bench_pick(k, 'industry', 6)],
            'lifecycle_stage', ${list(['lead', 'lead', 'opportunity', 'customer'])}[bench_pick(k, 'lifecycle', 4)]),
          ${now}
        FROM range(${accounts}) r(k)
        WHERE bench_u(k, 'in_crm') < 0.4`,
    },
    // One deal for one company in eight.
    {
      table: 'crm_deals',
      sql: `INSERT INTO crm_deals
        SELECT 'deal_' || c.company_id, c.account_id, c.company_id, c.owner_id,
          stage, 1000 * bench_pick(c.company_id, 'amount', 100),
          created, CASE WHEN stage IN ('Won', 'Lost')
            THEN created + INTERVAL 20 DAY END,
          json_object('pipeline', CASE WHEN bench_u(c.company_id, 'pipe') < 0.7
            THEN 'new business' ELSE 'expansion' END),
          ${now}
        FROM (SELECT c.*,
            ${list(['Won', 'Won', 'Lost', 'Qualified', 'Negotiation'])}[bench_pick(c.company_id, 'stage', 5)] AS stage,
            to_timestamp(${t0} + bench_u(c.company_id, 'deal_created') * ${span - 30 * 86_400}) AS created
          FROM crm_companies c
          WHERE bench_u(c.company_id, 'has_deal') < 0.125) c`,
    },
    {
      table: 'event_names',
      sql: `INSERT INTO event_names
        SELECT event, min(received_at) FROM events
        WHERE type = 'track' GROUP BY event
        ON CONFLICT DO NOTHING`,
    },
    {
      table: 'property_types',
      sql: `INSERT INTO property_types VALUES
        ('user', 'plan', 'string', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}'),
        ('user', 'role', 'string', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}'),
        ('account', 'employees', 'number', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}'),
        ('account', 'segment', 'string', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}'),
        ('account', 'country', 'string', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}'),
        ('event', 'duration_ms', 'number', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}'),
        ('event', 'feature', 'string', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}'),
        ('crm_company', 'industry', 'string', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}'),
        ('crm_company', 'lifecycle_stage', 'string', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}'),
        ('crm_deal', 'pipeline', 'string', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}'),
        ('crm_owner', 'team', 'string', TIMESTAMPTZ '${new Date(t0 * 1000).toISOString()}')
        ON CONFLICT DO NOTHING`,
    },
    { table: 'checkpoint', sql: 'CHECKPOINT' },
  )

  return steps
}

/** What the generator fills: copied as rows to PostgreSQL. */
const copiedTables = [
  'users',
  'accounts',
  'memberships',
  'events',
  'crm_owners',
  'crm_companies',
  'crm_contacts',
  'crm_deals',
  'event_names',
  'property_types',
]

/** Every table the bench reports: the generated ones and what each store derives (definitions, scores, rollups). */
const countedTables = [
  ...copiedTables,
  'definitions',
  'score_current',
  'account_event_days',
  'account_event_day_sums',
]

async function countRows(store: Store): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of countedTables) {
    const rows = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${table}`,
    )
    counts[table] = Number(rows[0]?.n ?? 0)
  }

  return counts
}

async function generate(path: string, options: Options) {
  const store = await openStore(path)
  const secondsByTable: Record<string, number> = {}
  try {
    for (const step of generationSteps(options)) {
      const seconds = (await timeOnce(() => store.execute(step.sql))) / 1000
      secondsByTable[step.table] = (secondsByTable[step.table] ?? 0) + seconds
      if (step.table === 'events') {
        process.stderr.write('.')
      } else {
        process.stderr.write(` ${step.table} ${seconds.toFixed(1)}s`)
      }
    }
    process.stderr.write('\n')
  } finally {
    await store.close()
  }

  return secondsByTable
}

/** A few facts about the generated data, to read the list results against. */
async function describeData(store: Store) {
  const day = 86_400_000
  const since = (days: number) => new Date(asOf.getTime() - days * day)
  const [events] = await store.query<Record<string, number>>(
    `SELECT count(*) FILTER (WHERE timestamp > $1) AS events_30d,
       count(*) FILTER (WHERE timestamp > $2) AS events_7d,
       count(*) FILTER (WHERE event = $3 AND timestamp > $1) AS key_events_30d,
       count(*) FILTER (WHERE account_id IS NOT NULL) AS events_with_group,
       min(timestamp) AS first_event, max(timestamp) AS last_event
     FROM events WHERE timestamp <= $4`,
    [since(30), since(7), keyEvent, asOf],
  )
  const [users] = await store.query<Record<string, number>>(
    `SELECT count(*) FILTER (WHERE created_at > $1) AS users_created_14d,
       count(*) FILTER (WHERE created_at > $2) AS users_created_7d
     FROM users`,
    [since(14), since(7)],
  )
  const [accounts] = await store.query<Record<string, number>>(
    `SELECT max(n) AS largest_account_users, median(n) AS median_account_users,
       count(*) AS accounts_with_members
     FROM (SELECT account_id, count(*) AS n FROM memberships GROUP BY 1)`,
  )
  const [owned] = await store.query<Record<string, number>>(
    `SELECT count(*) AS companies_owned_by_me FROM crm_companies c
     JOIN crm_owners o ON o.owner_id = c.owner_id WHERE lower(o.email) = $1`,
    [me],
  )

  return { ...events, ...users, ...accounts, ...owned }
}

// Lists, floors, score -----------------------------------------------------

interface BenchList {
  key: string
  title: string
  /** The events window its floor scans, and what it groups by. */
  floor: { within: string; by: 'person_id' | 'account_id' }
  definition: Record<string, unknown>
  me?: string
}

const standardLists: BenchList[] = [
  {
    key: 'a',
    title: 'recent signups by key action',
    floor: { within: '30d', by: 'person_id' },
    definition: {
      name: 'Recent signups by key action',
      of: 'users',
      where: { field: 'user.created_at', op: 'within', value: '14d' },
      sort: [{ metric: { count: keyEvent, within: '30d' }, dir: 'desc' }],
      columns: [
        'user.id',
        'user.email',
        'account.name',
        { metric: { count: keyEvent, within: '30d' }, as: 'projects_30d' },
      ],
      limit: 50,
    },
  },
  {
    key: 'b',
    title: 'my accounts by users added 7d',
    floor: { within: '7d', by: 'account_id' },
    me,
    definition: {
      name: 'My accounts',
      of: 'accounts',
      where: { field: 'crm.owner.email', op: '=', value: '$me' },
      sort: [{ metric: { users_added: true, within: '7d' }, dir: 'desc' }],
      columns: [
        'account.id',
        'account.name',
        'crm.company.name',
        { metric: { users_added: true, within: '7d' }, as: 'users_added_7d' },
      ],
      limit: 50,
    },
  },
  {
    key: 'c',
    title: 'accounts by users added this week',
    floor: { within: 'this_week', by: 'account_id' },
    definition: {
      name: 'Accounts by users added this week',
      of: 'accounts',
      sort: [
        { metric: { users_added: true, within: 'this_week' }, dir: 'desc' },
      ],
      columns: [
        'account.id',
        'account.name',
        {
          metric: { users_added: true, within: 'this_week' },
          as: 'users_added_this_week',
        },
      ],
      limit: 50,
    },
  },
  {
    key: 'd',
    title: 'nested any/all over CRM + account',
    floor: { within: '30d', by: 'account_id' },
    definition: {
      name: 'Enterprise-ish accounts with a won deal',
      of: 'accounts',
      where: {
        all: [
          {
            any: [
              { field: 'account.employees', op: '>', value: 100 },
              {
                field: 'crm.company.industry',
                op: 'in',
                value: ['Software', 'Fintech'],
              },
            ],
          },
          {
            field: 'account.country',
            op: 'in',
            value: ['US', 'GB', 'DE', 'CA'],
          },
          {
            any: [
              {
                related: 'crm.deals',
                where: { field: 'stage', op: '=', value: 'Won' },
              },
              {
                field: 'crm.company.lifecycle_stage',
                op: '=',
                value: 'opportunity',
              },
            ],
          },
        ],
      },
      sort: [{ metric: { count: 'Report Run', within: '30d' }, dir: 'desc' }],
      columns: [
        'account.id',
        'account.name',
        'crm.owner.email',
        'account.employees',
        { metric: { count: 'Report Run', within: '30d' }, as: 'reports_30d' },
      ],
      limit: 50,
    },
  },
  {
    key: 'e',
    title: `quadrant: score.${scoreName}.quadrant = hot`,
    floor: { within: '30d', by: 'account_id' },
    definition: {
      name: 'Hot accounts',
      of: 'accounts',
      where: { field: `score.${scoreName}.quadrant`, op: '=', value: 'hot' },
      sort: [{ field: `score.${scoreName}.total`, dir: 'desc' }],
      columns: [
        'account.id',
        'account.name',
        `score.${scoreName}.fit`,
        `score.${scoreName}.usage`,
        `score.${scoreName}.quadrant`,
      ],
      limit: 50,
    },
  },
]

const keyEventMetric = { count: keyEvent, within: '30d' }

const scoreDocument = {
  scores: [
    {
      name: scoreName,
      of: 'accounts',
      fit: [
        {
          label: 'over 100 employees',
          when: { field: 'account.employees', op: '>', value: 100 },
          points: 50,
        },
        {
          label: 'mid-market or enterprise',
          when: {
            field: 'account.segment',
            op: 'in',
            value: ['mid-market', 'enterprise'],
          },
          points: 30,
        },
        {
          label: 'US, CA or GB',
          when: {
            field: 'account.country',
            op: 'in',
            value: ['US', 'CA', 'GB'],
          },
          points: 20,
        },
      ],
      usage: [
        {
          label: `3 ${keyEvent} in 30 days`,
          when: { metric: keyEventMetric, op: '>=', value: 3 },
          points: 50,
        },
        {
          label: `10 ${keyEvent} in 30 days`,
          when: { metric: keyEventMetric, op: '>=', value: 10 },
          points: 50,
        },
      ],
      levels: { fit: { high: 60 }, usage: { high: 50 } },
    },
  ],
}

/** The floor: a bare grouped count of the window's events, kept in the database. */
function floorQuery(store: Store, within: string, by: string) {
  const window = resolveWindow(within, asOf, 'UTC')
  const sql = `SELECT count(*) AS groups, sum(n) AS events FROM (
      SELECT ${by}, count(*) AS n FROM events
      WHERE timestamp ${window.startInclusive ? '>=' : '>'} $1
        AND timestamp ${window.endInclusive ? '<=' : '<'} $2
      GROUP BY 1) g`

  return {
    sql,
    window: {
      start: window.start.toISOString(),
      end: window.end.toISOString(),
    },
    run: () =>
      store.query<{ groups: number; events: number }>(sql, [
        window.start,
        window.end,
      ]),
  }
}

/**
 * Not the ratio's denominator: the account attribution alone (groupId, else
 * every membership) over 30 days, grouped, for reading account figures.
 */
function attributedFloorQuery(store: Store) {
  const start = new Date(asOf.getTime() - 30 * 86_400_000)
  const sql = `SELECT count(*) AS groups, sum(n) AS events FROM (
      SELECT entity_id, count(*) AS n FROM (
        SELECT e.account_id AS entity_id FROM events e
        WHERE e.account_id IS NOT NULL AND e.timestamp > $1 AND e.timestamp <= $2
        UNION ALL
        SELECT m.account_id FROM events e JOIN memberships m ON m.user_id = e.person_id
        WHERE e.account_id IS NULL AND e.timestamp > $1 AND e.timestamp <= $2) a
      GROUP BY 1) g`

  return { sql, run: () => store.query(sql, [start, asOf]) }
}

function summarizeResult(result: ListResult) {
  return {
    total: result.total,
    rows: result.rows.length,
    firstRow: result.rows[0] ?? null,
    warnings: result.warnings.map((w) => `${w.path}: ${w.message}`),
  }
}

/**
 * What a user-grain daily rollup (person x event x UTC day) would buy,
 * measured rather than built: its row count beside the events', and list
 * (a)'s metric (a key event per user over 30 days) from it and from raw.
 */
async function measureUserGrain(store: Store) {
  const select = `SELECT person_id, event,
       date_trunc('day', timestamp AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day,
       count(*) AS events
     FROM events WHERE type = 'track' AND person_id IS NOT NULL`
  await store.execute(
    `CREATE TABLE bench_user_event_days AS ${select} AND false GROUP BY 1, 2, 3`,
  )
  // A week at a time: all 90 days in one aggregate overruns DuckDB's memory.
  const week = 7 * 86_400_000
  for (
    let start = asOf.getTime() - spanDays * 86_400_000;
    start < asOf.getTime();
    start += week
  ) {
    await store.execute(
      `INSERT INTO bench_user_event_days ${select}
         AND timestamp >= $1 AND timestamp < $2 GROUP BY 1, 2, 3`,
      [new Date(start), new Date(start + week)],
    )
  }
  const [counted] = await store.query<{ n: number }>(
    'SELECT count(*) AS n FROM bench_user_event_days',
  )
  const start = new Date(asOf.getTime() - 30 * 86_400_000)
  const fromRollup = () =>
    store.query(
      `SELECT count(*) AS groups FROM (SELECT person_id, sum(events) AS n
       FROM bench_user_event_days WHERE event = $1 AND day >= $2 AND day < $3
       GROUP BY 1) g`,
      [keyEvent, start, asOf],
    )
  const fromEvents = () =>
    store.query(
      `SELECT count(*) AS groups FROM (SELECT person_id, count(*) AS n
       FROM events WHERE type = 'track' AND event = $1
         AND timestamp >= $2 AND timestamp < $3
       GROUP BY 1) g`,
      [keyEvent, start, asOf],
    )
  await fromRollup()
  await fromEvents()
  const rollupMs: number[] = []
  const eventsMs: number[] = []
  for (let index = 0; index < 3; index++) {
    eventsMs.push(await timeOnce(fromEvents))
    rollupMs.push(await timeOnce(fromRollup))
  }
  await store.execute('DROP TABLE bench_user_event_days')

  return {
    rows: Number(counted?.n ?? 0),
    keyEventPerUser30d: {
      fromRollup: toTiming(rollupMs),
      fromEvents: toTiming(eventsMs),
    },
  }
}

// Main ----------------------------------------------------------------------

const options = readOptions(process.argv.slice(2))
const loadAtStart = loadavg()
const directory = await mkdtemp(join(tmpdir(), 'leadlens-bench-lists-'))
const path = join(directory, 'bench.duckdb')
const errors: string[] = []
const note = (step: string, error: unknown) => {
  const text = error instanceof Error ? error.message : String(error)
  errors.push(`${step}: ${text}`)
  console.error(`! ${step}: ${text}`)
}

/**
 * Every measured step on one store: rollups built from the events, the
 * score applied, the five lists beside their floors, the score recompute.
 */
async function measureStore(store: Store, label: string) {
  const step = (text: string) => console.error(`${label}: ${text}`)
  // The generator writes events with SQL, not through ingestion: build the
  // rollups from them as an old store's migration would.
  step('building rollups from the events')
  const rollupSeconds = (await timeOnce(() => rebuildRollups(store))) / 1000
  const userGrain = await measureUserGrain(store).catch((error: unknown) => {
    note(`${label} user grain`, error)
    return undefined
  })
  const applied = await applyDefinitions(store, scoreDocument, 'bench').catch(
    (error: unknown) => {
      note(`${label} apply score`, error)
      return undefined
    },
  )
  const savedScore = await readSavedScore(store, scoreName).catch(
    () => undefined,
  )
  const rowCounts = await countRows(store)

  const listResults = []
  for (const item of standardLists) {
    step(`list ${item.key}: ${item.title}`)
    try {
      const definition = parseListDefinition(item.definition, item.key)
      const floor = floorQuery(store, item.floor.within, item.floor.by)
      const compiled = await compileListForStore(store, definition, {
        asOf,
        ...(item.me === undefined ? {} : { me: item.me }),
      })
      const runOptions = {
        asOf,
        ...(item.me === undefined ? {} : { me: item.me }),
      }
      let last: ListResult | undefined
      let floorRows: { groups: number; events: number }[] = []
      const { value: timing, memory } = await withMemory(() =>
        measureBesideFloor(
          async () => {
            last = await runList(store, definition, runOptions)
          },
          async () => {
            floorRows = await floor.run()
          },
          options,
        ),
      )
      // The same list with every metric on raw events: what the rollups buy.
      const rawOptions = { ...runOptions, useRollups: false }
      await runList(store, definition, rawOptions)
      const rawMs: number[] = []
      for (let index = 0; index < Math.min(3, timing.runs); index++)
        rawMs.push(await timeOnce(() => runList(store, definition, rawOptions)))
      const raw = toTiming(rawMs)
      listResults.push({
        key: item.key,
        title: item.title,
        raw,
        definition: item.definition,
        sql: compiled.sql,
        ...(item.me === undefined ? {} : { me: item.me }),
        ...timing,
        floor: {
          ...timing.floor,
          within: item.floor.within,
          by: item.floor.by,
          window: floor.window,
          groups: Number(floorRows[0]?.groups ?? 0),
          events: Number(floorRows[0]?.events ?? 0),
          sql: floor.sql,
        },
        ratio: timing.subject.medianMs / timing.floor.medianMs,
        result: last === undefined ? null : summarizeResult(last),
        memory,
      })
    } catch (error) {
      note(`${label} list ${item.key}`, error)
      listResults.push({
        key: item.key,
        title: item.title,
        error: String(error),
      })
    }
  }

  let scoreResult: Record<string, unknown> | null = null
  if (savedScore !== undefined) {
    step(`score ${scoreName}: runScore over all accounts`)
    try {
      const floor = floorQuery(store, '30d', 'account_id')
      let rows = 0
      const quadrants: Record<string, number> = {}
      const { value: timing, memory } = await withMemory(() =>
        measureBesideFloor(
          async () => {
            const scored = await runScore(store, savedScore, { asOf })
            rows = scored.length
            for (const key of Object.keys(quadrants)) delete quadrants[key]
            for (const row of scored)
              quadrants[row.quadrant] = (quadrants[row.quadrant] ?? 0) + 1
          },
          () => floor.run(),
          options,
        ),
      )
      scoreResult = {
        name: scoreName,
        definition: scoreDocument.scores[0],
        ...timing,
        floor: { ...timing.floor, within: '30d', by: 'account_id' },
        ratio: timing.subject.medianMs / timing.floor.medianMs,
        rows,
        quadrants,
        memory,
      }
    } catch (error) {
      note(`${label} score`, error)
    }
  }

  let attributed: (Timing & { sql: string }) | null = null
  try {
    const query = attributedFloorQuery(store)
    await query.run()
    const runsMs: number[] = []
    for (let index = 0; index < Math.min(3, options.runs); index++)
      runsMs.push(await timeOnce(query.run))
    attributed = { ...toTiming(runsMs), sql: query.sql }
  } catch (error) {
    note(`${label} attributed floor`, error)
  }

  return {
    store: label,
    rollups: { rebuildSeconds: rollupSeconds, userGrain: userGrain ?? null },
    rowCounts,
    scoreApplied: applied ?? null,
    lists: listResults,
    score: scoreResult,
    attributedAccountFloor30d: attributed,
  }
}

type StoreFigures = Awaited<ReturnType<typeof measureStore>>

console.error(
  `generating ${options.users.toLocaleString('en')} users, ${options.accounts.toLocaleString('en')} accounts, ${options.events.toLocaleString('en')} events in ${path}`,
)
const generation = await withMemory(async () => {
  const started = performance.now()
  const secondsByStep = await generate(path, options)
  return { seconds: (performance.now() - started) / 1000, secondsByStep }
})

const store = await openStore(path)
const fileMiB = Math.round(mib((await stat(path)).size))
const data = await describeData(store)
const [duckdb] = await store.query<{ version: string }>(
  'SELECT version() AS version',
)
console.error(
  `generated in ${generation.value.seconds.toFixed(1)} s, ${fileMiB} MiB: ${JSON.stringify(data)}`,
)

const figures: StoreFigures[] = [await measureStore(store, 'DuckDB')]

// The very same rows, copied into a fresh PostgreSQL schema, measured alike.
const target = await createBenchSchema('lists')
let postgres: {
  version: string | null
  copy: CopyFigures | null
  skipped: string | null
} = { version: null, copy: null, skipped: null }
if (target.ok) {
  try {
    const pgStore = await openStore(target.url)
    try {
      console.error(`PostgreSQL: copying the generated tables`)
      const copy = await copyToPostgres(
        store,
        target.url,
        copiedTables,
        directory,
      )
      const [version] = await pgStore.query<{ version: string }>(
        'SELECT version() AS version',
      )
      postgres = {
        version: version?.version ?? null,
        copy,
        skipped: null,
      }
      figures.push(await measureStore(pgStore, 'PostgreSQL'))
    } finally {
      await pgStore.close()
    }
  } catch (error) {
    note('PostgreSQL', error)
  } finally {
    // LEADLENS_BENCH_KEEP_PG=1 leaves the schema for EXPLAIN (its name is printed).
    if (process.env.LEADLENS_BENCH_KEEP_PG === '1')
      console.error(`PostgreSQL: kept ${target.url}`)
    else await target.drop()
  }
} else {
  postgres.skipped = target.reason
}

await store.close()
await rm(directory, { recursive: true, force: true })

const result = {
  at: new Date().toISOString(),
  asOf: asOf.toISOString(),
  options,
  environment: {
    node: process.version,
    duckdb: duckdb?.version ?? null,
    postgres: postgres.version,
    cpus: cpus().length,
    totalMemoryGiB: Math.round(totalmem() / 1024 ** 3),
    /** 1, 5 and 15 minute load averages: other work on the machine skews figures. */
    loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
  },
  generation: {
    seconds: generation.value.seconds,
    secondsByStep: generation.value.secondsByStep,
    fileMiB,
    data,
    memory: generation.memory,
  },
  postgresCopy: postgres.copy,
  postgresSkipped: postgres.skipped,
  stores: figures,
  errors,
}

const resultsDirectory = new URL('./results/', import.meta.url)
await mkdir(resultsDirectory, { recursive: true })
await writeFile(
  new URL(`lists-and-scores-${Date.now()}.json`, resultsDirectory),
  JSON.stringify(result, null, 2),
)

const ms = (value: number | undefined) =>
  value === undefined || Number.isNaN(value)
    ? '-'
    : value >= 10_000
      ? `${(value / 1000).toFixed(1)} s`
      : `${value.toFixed(value < 100 ? 1 : 0)} ms`
const pad = (text: string, width: number) => text.padEnd(width)
const padStart = (text: string, width: number) => text.padStart(width)

console.log(
  `lists and scores: ${options.users.toLocaleString('en')} users, ${options.accounts.toLocaleString('en')} accounts, ${options.events.toLocaleString('en')} events, asOf ${asOf.toISOString()}`,
)
console.log(
  `  generated in ${generation.value.seconds.toFixed(1)} s on DuckDB (${fileMiB} MiB file, peak RSS ${generation.memory.peakRssMiB} MiB)`,
)
console.log(
  `    by step: ${Object.entries(generation.value.secondsByStep)
    .filter(([, seconds]) => seconds >= 0.05)
    .map(([step, seconds]) => `${step} ${seconds.toFixed(1)} s`)
    .join(', ')}`,
)
if (postgres.copy !== null) {
  console.log(
    `  copied to PostgreSQL in ${postgres.copy.seconds.toFixed(1)} s (COPY FROM STDIN): ${Object.entries(
      postgres.copy.secondsByTable,
    )
      .filter(([, seconds]) => seconds >= 0.5)
      .map(([table, seconds]) => `${table} ${seconds.toFixed(1)} s`)
      .join(', ')}`,
  )
}
if (postgres.skipped !== null)
  console.log(`  PostgreSQL skipped: ${postgres.skipped}`)

for (const figure of figures) {
  const version =
    figure.store === 'DuckDB'
      ? duckdb?.version
      : postgres.version?.split(' ')[1]
  const rows = figure.rowCounts
  console.log('')
  console.log(`  ${figure.store} ${version ?? ''}`)
  console.log(
    `  rows: ${Object.entries(rows)
      .map(([table, n]) => `${table} ${n.toLocaleString('en')}`)
      .join(', ')}`,
  )
  console.log(
    `  rollups: built in ${figure.rollups.rebuildSeconds.toFixed(1)} s; events ${rows.events?.toLocaleString('en')} rows, account x event x day ${rows.account_event_days?.toLocaleString('en')} rows, sums ${rows.account_event_day_sums?.toLocaleString('en')} rows`,
  )
  const userGrain = figure.rollups.userGrain
  if (userGrain !== null)
    console.log(
      `  user x event x day (measured, not kept): ${userGrain.rows.toLocaleString('en')} rows; key event per user 30d: ${ms(userGrain.keyEventPerUser30d.fromRollup.medianMs)} from it vs ${ms(userGrain.keyEventPerUser30d.fromEvents.medianMs)} from events`,
    )
  console.log(
    `  ${pad('', 42)}${padStart('median', 10)}${padStart('p95', 10)}${padStart('floor', 10)}${padStart('ratio', 8)}${padStart('total', 9)}${padStart('RSS MiB', 9)}${padStart('raw', 10)}${padStart('raw/roll', 9)}`,
  )
  for (const item of figure.lists) {
    if (!('subject' in item)) {
      console.log(`  ${pad(`(${item.key}) ${item.title}`, 42)} failed`)
      continue
    }
    console.log(
      `  ${pad(`(${item.key}) ${item.title}`.slice(0, 41), 42)}${padStart(ms(item.subject.medianMs), 10)}${padStart(ms(item.subject.p95Ms), 10)}${padStart(ms(item.floor.medianMs), 10)}${padStart(item.ratio.toFixed(1), 8)}${padStart(String(item.result?.total ?? '-'), 9)}${padStart(String(item.memory.peakRssMiB), 9)}${padStart(ms(item.raw.medianMs), 10)}${padStart((item.raw.medianMs / item.subject.medianMs).toFixed(2), 9)}`,
    )
  }
  if (figure.score !== null) {
    const timing = figure.score as unknown as {
      subject: Timing
      floor: Timing
      ratio: number
      rows: number
      memory: MemoryFigures
    }
    console.log(
      `  ${pad(`runScore ${scoreName}, all accounts`, 42)}${padStart(ms(timing.subject.medianMs), 10)}${padStart(ms(timing.subject.p95Ms), 10)}${padStart(ms(timing.floor.medianMs), 10)}${padStart(timing.ratio.toFixed(1), 8)}${padStart(String(timing.rows), 9)}${padStart(String(timing.memory.peakRssMiB), 9)}`,
    )
  }
  if (figure.attributedAccountFloor30d !== null) {
    console.log(
      `  for reference: account attribution alone (groupId or memberships), 30d: median ${ms(figure.attributedAccountFloor30d.medianMs)}`,
    )
  }
}
console.log('')
console.log(
  "  floor = bare grouped count of the events in the same window on the same store (users by person_id, accounts by account_id); ratio = median / floor median; raw = the same list with rollups off (median of up to 3 runs); RSS = this process (with PostgreSQL the server's memory is its own)",
)
if (errors.length > 0) console.log(`  errors: ${errors.join('; ')}`)
