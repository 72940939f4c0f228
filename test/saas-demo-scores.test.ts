/**
 * The saas-demo PQL score on real data (../shared/data/saas-demo): the real
 * CLI imports accounts, users and deals into a fresh DuckDB store, applies
 * examples/saas-demo/pql.yaml, runs and backtests the score, and every
 * account's score and every backtest figure is compared with an oracle
 * computed here, in plain JavaScript, straight from the CSV files. The
 * oracle imports nothing from Leadlens; its AUC is a pairwise count, a
 * different method from the product's.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { repoRoot, runCli } from './support/leadlens-cli.js'
import { createTempLocation } from './support/temp-store.js'

import type { TempLocation } from './support/temp-store.js'
import type { CliResult } from './support/leadlens-cli.js'
import { parse as parseYaml } from 'yaml'

const sharedData = fileURLToPath(new URL('../../shared/data/', import.meta.url))
const hasSharedData = existsSync(sharedData)
if (!hasSharedData) {
  console.warn(
    `saas-demo score tests skipped: ${sharedData} (../shared/data) is absent`,
  )
}

const saasAccounts = join(sharedData, 'saas-demo', 'accounts.csv')
const saasUsers = join(sharedData, 'saas-demo', 'users.csv')
const saasDeals = join(sharedData, 'saas-demo', 'deals.csv')
const pqlFile = 'examples/saas-demo/pql.yaml'

const dayMs = 86_400_000
const slowTimeout = 180_000

const asOfText = '2025-01-01T00:00:00Z'
const asOf = Date.parse(asOfText)
const horizonMs = 180 * dayMs

// ---------------------------------------------------------------------------
// Running the real CLI
// ---------------------------------------------------------------------------

/** The JSON a successful command printed; fails the test otherwise. */
function outputOf<T>(result: CliResult): T {
  expect(result.code, result.stderr + result.stdout).toBe(0)

  return JSON.parse(result.stdout) as T
}

type Quadrant = 'hot' | 'activate' | 'self_serve' | 'ignore'
type Level = 'high' | 'medium' | 'low'

/** One row of `leadlens score run --format json`. */
interface ScoreRow {
  id: string
  fit: number
  usage: number
  total: number
  fit_level: Level
  usage_level: Level
  quadrant: Quadrant
}

/** What `leadlens score run --format json` prints. */
interface ScoreRunJson {
  rows: ScoreRow[]
  total: number
}

interface GroupRate {
  group: string
  entities: number
  converted: number
  rate: number
  lift: number
}

/** The part of `leadlens score backtest --format json` checked here. */
interface BacktestJson {
  score: string
  outcome: string
  entities: number
  converted: number
  rate: number
  auc: number
  byQuadrant: GroupRate[]
}

function importArgs(db: string, kind: string, file: string): string[] {
  return [
    '--db',
    db,
    'import',
    kind,
    file,
    '--map',
    `examples/saas-demo/${kind}.map.yaml`,
  ]
}

function scoreRunArgs(db: string): string[] {
  return [
    '--db',
    db,
    'score',
    'run',
    'saas_pql',
    '--as-of',
    asOfText,
    '--format',
    'json',
  ]
}

function backtestArgs(db: string): string[] {
  return [
    '--db',
    db,
    'score',
    'backtest',
    'saas_pql',
    '--outcome',
    'deal_won',
    '--as-of',
    asOfText,
    '--horizon',
    '180d',
    '--format',
    'json',
  ]
}

// ---------------------------------------------------------------------------
// The independent oracle: plain JavaScript over the CSV files, with the
// score of examples/saas-demo/pql.yaml written out by hand.
// ---------------------------------------------------------------------------

interface AccountCsvRow {
  account_id: string
  segment: string
  estimated_annual_recurring_revenue: string
}

interface UserCsvRow {
  user_id: string
  account_id: string
  created_at: string
}

interface DealCsvRow {
  deal_id: string
  account_id: string
  stage: string
  created_date: string
}

/** A zoneless `2024-11-17 07:54:35`, read as UTC. */
function parseUtc(text: string): number {
  return Date.parse(`${text.trim().replace(' ', 'T')}Z`)
}

/** `within: <ms>` at `at`: the rolling window (at - ms, at]. */
function isWithin(time: number, at: number, windowMs: number): boolean {
  return time > at - windowMs && time <= at
}

/** Unicode code point order (the order of UTF-8 bytes), for stable rows. */
function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

async function readCsv<T>(path: string): Promise<T[]> {
  return parse<T>(await readFile(path), {
    columns: true,
    skip_empty_lines: true,
  })
}

/** pql.yaml's criteria, as the oracle reads them. */
const pql = {
  fit: {
    midmarketOrEnterprise: 40,
    arrAtLeast1M: 40,
    arrUnder200k: -20,
  },
  usage: { addedAtLeast1: 50, addedAtLeast3: 50 },
  levels: { fit: { high: 60, medium: 40 }, usage: { high: 50 } },
  cap: { fit: 100, usage: 100 },
}

function fitLevel(fit: number): Level {
  if (fit >= pql.levels.fit.high) return 'high'
  if (fit >= pql.levels.fit.medium) return 'medium'

  return 'low'
}

function quadrantOf(fit: Level, usage: Level): Quadrant {
  if (fit === 'high' && usage === 'high') return 'hot'
  if (fit === 'high') return 'activate'
  if (usage === 'high') return 'self_serve'

  return 'ignore'
}

/**
 * Every account's saas_pql score at `at`. Fit: segment in Enterprise or
 * Midmarket +40, ARR >= 1M +40, ARR < 200k -20. Usage: users whose
 * created_at lies in (at - 90d, at], at least 1 +50, at least 3 +50. Each
 * axis capped at 100 (a most, no least: points may be negative).
 */
function oracleScores(
  accounts: readonly AccountCsvRow[],
  users: readonly UserCsvRow[],
  at: number,
): ScoreRow[] {
  const added = new Map<string, number>()
  for (const user of users) {
    if (!isWithin(parseUtc(user.created_at), at, 90 * dayMs)) continue
    added.set(user.account_id, (added.get(user.account_id) ?? 0) + 1)
  }

  return accounts
    .map((account): ScoreRow => {
      const arr = Number(account.estimated_annual_recurring_revenue)
      let fit = 0
      if (['Enterprise', 'Midmarket'].includes(account.segment))
        fit += pql.fit.midmarketOrEnterprise
      if (arr >= 1_000_000) fit += pql.fit.arrAtLeast1M
      if (arr < 200_000) fit += pql.fit.arrUnder200k
      fit = Math.min(fit, pql.cap.fit)

      const count = added.get(account.account_id) ?? 0
      let usage = 0
      if (count >= 1) usage += pql.usage.addedAtLeast1
      if (count >= 3) usage += pql.usage.addedAtLeast3
      usage = Math.min(usage, pql.cap.usage)

      const fitLevelAt = fitLevel(fit)
      const usageLevelAt: Level =
        usage >= pql.levels.usage.high ? 'high' : 'low'

      return {
        id: account.account_id,
        fit,
        usage,
        total: fit + usage,
        fit_level: fitLevelAt,
        usage_level: usageLevelAt,
        quadrant: quadrantOf(fitLevelAt, usageLevelAt),
      }
    })
    .sort((a, b) => compareIds(a.id, b.id))
}

/** deal_won: a deal with stage exactly "Won" created in (at, at + horizon]. */
function oracleConverters(
  deals: readonly DealCsvRow[],
  at: number,
  horizon: number,
): Set<string> {
  const converters = new Set<string>()
  for (const deal of deals) {
    if (deal.stage !== 'Won') continue
    const created = parseUtc(deal.created_date)
    if (created > at && created <= at + horizon) converters.add(deal.account_id)
  }

  return converters
}

/**
 * The probability that a converter's total beats a non-converter's, over
 * every (converter, non-converter) pair, a tie counting one half.
 */
function pairwiseAuc(
  scores: readonly ScoreRow[],
  converters: ReadonlySet<string>,
): number {
  const positives = scores.filter((row) => converters.has(row.id))
  const negatives = scores.filter((row) => !converters.has(row.id))
  let wins = 0
  for (const positive of positives) {
    for (const negative of negatives) {
      if (positive.total > negative.total) wins += 1
      else if (positive.total === negative.total) wins += 0.5
    }
  }

  return wins / (positives.length * negatives.length)
}

interface OracleBacktest {
  entities: number
  converted: number
  rate: number
  auc: number
  byQuadrant: Map<Quadrant, Omit<GroupRate, 'group'>>
}

function oracleBacktest(
  scores: readonly ScoreRow[],
  converters: ReadonlySet<string>,
): OracleBacktest {
  const entities = scores.length
  const converted = scores.filter((row) => converters.has(row.id)).length
  const rate = converted / entities
  const byQuadrant = new Map<Quadrant, Omit<GroupRate, 'group'>>()
  const quadrants: Quadrant[] = ['hot', 'activate', 'self_serve', 'ignore']
  for (const quadrant of quadrants) {
    const members = scores.filter((row) => row.quadrant === quadrant)
    const won = members.filter((row) => converters.has(row.id)).length
    const groupRate = members.length === 0 ? 0 : won / members.length
    byQuadrant.set(quadrant, {
      entities: members.length,
      converted: won,
      rate: groupRate,
      lift: rate === 0 ? 0 : groupRate / rate,
    })
  }

  return {
    entities,
    converted,
    rate,
    auc: pairwiseAuc(scores, converters),
    byQuadrant,
  }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

describe.skipIf(!hasSharedData)('saas-demo PQL score on real data', () => {
  let workDir = ''
  let db = ''
  let location: TempLocation | undefined
  let imports: CliResult[] = []
  let applied: CliResult
  let scoreRun: CliResult
  let backtest: CliResult
  let accounts: AccountCsvRow[] = []
  let users: UserCsvRow[] = []
  let expectedScores: ScoreRow[] = []
  let expectedBacktest: OracleBacktest

  beforeAll(async () => {
    if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
      throw new Error(
        'dist/ is missing: build first (npx tsc -p tsconfig.build.json)',
      )
    }
    workDir = await mkdtemp(join(tmpdir(), 'leadlens-saas-scores-'))
    location = await createTempLocation()
    db = location.path

    imports = []
    for (const [kind, file] of [
      ['accounts', saasAccounts],
      ['users', saasUsers],
      ['deals', saasDeals],
    ] as const) {
      imports.push(await runCli(importArgs(db, kind, file)))
    }
    applied = await runCli(['--db', db, 'apply', pqlFile])
    backtest = await runCli(backtestArgs(db))
    scoreRun = await runCli(scoreRunArgs(db))

    let deals: DealCsvRow[]
    ;[accounts, users, deals] = await Promise.all([
      readCsv<AccountCsvRow>(saasAccounts),
      readCsv<UserCsvRow>(saasUsers),
      readCsv<DealCsvRow>(saasDeals),
    ])
    expectedScores = oracleScores(accounts, users, asOf)
    expectedBacktest = oracleBacktest(
      expectedScores,
      oracleConverters(deals, asOf, horizonMs),
    )
  }, slowTimeout)

  afterAll(async () => {
    if (workDir !== '') await rm(workDir, { recursive: true, force: true })
    await location?.dispose()
  })

  it('imports accounts, users and deals and applies pql.yaml, exiting 0', () => {
    expect(imports).toHaveLength(3)
    for (const result of imports) {
      expect(result.code, result.stderr + result.stdout).toBe(0)
      expect(result.stdout).toContain(' 0 rejected')
    }
    expect(applied.code, applied.stderr + applied.stdout).toBe(0)
  })

  it('scores with the criteria the oracle copied from pql.yaml', async () => {
    // Guards the oracle: a change to the example file must show up here.
    const file = parseYaml(await readFile(join(repoRoot, pqlFile), 'utf8')) as {
      scores: { name: string }[]
    }
    const score = file.scores.find((entry) => entry.name === 'saas_pql')

    expect(score).toMatchObject({
      of: 'accounts',
      fit: [
        {
          when: {
            field: 'account.segment',
            op: 'in',
            value: ['Enterprise', 'Midmarket'],
          },
          points: pql.fit.midmarketOrEnterprise,
        },
        {
          when: { field: 'account.arr', op: '>=', value: 1_000_000 },
          points: pql.fit.arrAtLeast1M,
        },
        {
          when: { field: 'account.arr', op: '<', value: 200_000 },
          points: pql.fit.arrUnder200k,
        },
      ],
      usage: [
        {
          when: {
            metric: { users_added: true, within: '90d' },
            op: '>=',
            value: 1,
          },
          points: pql.usage.addedAtLeast1,
        },
        {
          when: {
            metric: { users_added: true, within: '90d' },
            op: '>=',
            value: 3,
          },
          points: pql.usage.addedAtLeast3,
        },
      ],
      levels: pql.levels,
      cap: pql.cap,
    })
  })

  it("gives every account the oracle's fit, usage, total, levels and quadrant", () => {
    const result = outputOf<ScoreRunJson>(scoreRun)
    const rows = result.rows
      .map((row): ScoreRow => ({
        id: row.id,
        fit: row.fit,
        usage: row.usage,
        total: row.total,
        fit_level: row.fit_level,
        usage_level: row.usage_level,
        quadrant: row.quadrant,
      }))
      .sort((a, b) => compareIds(a.id, b.id))

    expect(expectedScores).toHaveLength(1005)
    expect(result.total).toBe(1005)
    expect(rows).toEqual(expectedScores)
  })

  it("backtests deal_won over 180 days with the oracle's rate and AUC", () => {
    const result = outputOf<BacktestJson>(backtest)

    expect(expectedBacktest.converted).toBeGreaterThan(0)
    expect(result.score).toBe('saas_pql')
    expect(result.outcome).toBe('deal_won')
    expect(result.entities).toBe(expectedBacktest.entities)
    expect(result.converted).toBe(expectedBacktest.converted)
    expect(result.rate).toBeCloseTo(expectedBacktest.rate, 10)
    expect(result.auc).toBeCloseTo(expectedBacktest.auc, 10)
  })

  it("reports each quadrant's entities, conversions, rate and lift as the oracle does", () => {
    const result = outputOf<BacktestJson>(backtest)

    expect(result.byQuadrant.map((entry) => entry.group).sort()).toEqual(
      [...expectedBacktest.byQuadrant.keys()].sort(),
    )
    for (const entry of result.byQuadrant) {
      const expected = expectedBacktest.byQuadrant.get(entry.group as Quadrant)
      if (expected === undefined) throw new Error(`unexpected ${entry.group}`)

      expect(entry.entities, entry.group).toBe(expected.entities)
      expect(entry.converted, entry.group).toBe(expected.converted)
      expect(entry.rate, entry.group).toBeCloseTo(expected.rate, 10)
      expect(entry.lift, entry.group).toBeCloseTo(expected.lift, 10)
    }
  })

  it(
    'leaves scores at asOf unchanged when users are added after asOf',
    async () => {
      // An account with no user created from 90 days before asOf to 90 days
      // after it, so usage 0 at asOf; three users in February would make
      // it 100 if a score at asOf could see them.
      const quiet = expectedScores.find(
        (row) =>
          row.usage === 0 &&
          !users.some(
            (user) =>
              user.account_id === row.id &&
              Math.abs(parseUtc(user.created_at) - asOf) < 90 * dayMs,
          ),
      )
      if (quiet === undefined) throw new Error('no quiet account in the data')

      const header =
        'user_id,account_id,email,job_title,is_marketing_opted_in,' +
        'created_at,first_logged_in_at,latest_logged_in_at,experience_in_years'
      const futureUsers = [1, 2, 3].map((n) => ({
        user_id: `future-user-${n}`,
        account_id: quiet.id,
        created_at: `2025-02-01 10:0${n}:00`,
      }))
      const lines = futureUsers.map((user, index) =>
        [
          user.user_id,
          user.account_id,
          `future-user-${index + 1}@leadlens-test.example`,
          'Engineer',
          '0',
          user.created_at,
          '2025-02-02 09:00:00',
          '2025-02-03 09:00:00',
          '3',
        ].join(','),
      )
      const file = join(workDir, 'future-users.csv')
      await writeFile(file, `${[header, ...lines].join('\n')}\n`)

      // The premise: counted at a later instant, they do change the score.
      const later = oracleScores(
        accounts,
        [...users, ...futureUsers],
        Date.parse('2025-02-02T00:00:00Z'),
      ).find((row) => row.id === quiet.id)
      expect(later?.usage).toBe(100)

      const before = outputOf<ScoreRunJson>(scoreRun)
      const imported = await runCli(importArgs(db, 'users', file))
      expect(imported.code, imported.stderr + imported.stdout).toBe(0)
      expect(imported.stdout).toContain('3 stored')

      const after = outputOf<ScoreRunJson>(await runCli(scoreRunArgs(db)))
      expect(after).toEqual(before)
      expect(after.rows.find((row) => row.id === quiet.id)?.usage).toBe(0)

      const backtestAfter = outputOf<BacktestJson>(
        await runCli(backtestArgs(db)),
      )
      expect(backtestAfter).toEqual(outputOf<BacktestJson>(backtest))
    },
    slowTimeout,
  )
})
