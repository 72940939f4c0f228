/**
 * Backtest: a score evaluated at `asOf` from data before it, measured
 * against an outcome in the horizon after it: AUC, and conversion rate and
 * lift per level and per quadrant, with counts.
 */
import { parseListDefinition } from '../lists/read-list-definition.js'
import { runList } from '../lists/run-list.js'
import { ListError } from '../lists/list-error.js'
import { parseDuration } from '../lists/time-window.js'
import { computeAuc } from './compute-auc.js'
import { runScore } from './run-score.js'

import type { Condition } from '../lists/list-definition.js'
import type { Store } from '../store/store.js'
import type { OutcomeDefinition } from './outcome-definition.js'
import type { ScoreRow } from './run-score.js'
import type { ScoreDefinition } from './score-definition.js'

export interface GroupResult {
  group: string
  entities: number
  converted: number
  rate: number
  /** Rate over the overall rate; null when nobody converted. */
  lift: number | null
}

export interface BacktestResult {
  score: string
  outcome: string
  asOf: string
  horizonEnd: string
  entities: number
  converted: number
  rate: number
  auc: number | null
  byQuadrant: GroupResult[]
  byFitLevel: GroupResult[]
  byUsageLevel: GroupResult[]
}

/** Ids of the entities that reach the outcome in (asOf, asOf + horizon]. */
export async function evaluateOutcome(
  store: Store,
  outcome: OutcomeDefinition,
  asOf: Date,
  horizonMs: number,
): Promise<Set<string>> {
  const end = new Date(asOf.getTime() + horizonMs)
  const idsWhere = async (where: Condition, at: Date) => {
    const definition = parseListDefinition(
      {
        name: outcome.name,
        of: outcome.of,
        where,
        columns: [outcome.of === 'users' ? 'user.id' : 'account.id'],
      },
      outcome.name,
    )
    return new Set((await runList(store, definition, { asOf: at })).ids)
  }

  if (outcome.related !== undefined) {
    const at =
      outcome.at ??
      (outcome.related === 'crm.deals' ? 'closed_or_created_at' : 'created_at')
    const inHorizon: Condition[] = [
      { field: at, op: '>', value: asOf.toISOString() },
      { field: at, op: '<=', value: end.toISOString() },
    ]
    return idsWhere(
      {
        related: outcome.related,
        where: {
          all: [...(outcome.where ? [outcome.where] : []), ...inHorizon],
        },
      },
      end,
    )
  }

  if (outcome.event !== undefined) {
    const metric = {
      count: outcome.event,
      within: `${horizonMs / 60_000}m`,
      ...(outcome.where ? { where: outcome.where } : {}),
    }
    return idsWhere({ metric, op: '>', value: 0 }, end)
  }

  const condition = outcome.when as Condition
  const after = await idsWhere(condition, end)
  const before = await idsWhere(condition, asOf)

  return new Set([...after].filter((id) => !before.has(id)))
}

/** Backtests `score` at `asOf` against `outcome` over `horizon` (e.g. 90d). */
export async function backtestScore(
  store: Store,
  score: ScoreDefinition,
  outcome: OutcomeDefinition,
  options: { asOf: Date; horizon: string },
): Promise<BacktestResult> {
  const horizonMs = parseDuration(options.horizon)
  if (horizonMs === undefined) {
    throw new ListError('horizon', [
      {
        code: 'LIST_DURATION_INVALID',
        path: 'horizon',
        message: `${options.horizon} is not a duration such as 90d`,
      },
    ])
  }
  if (outcome.of !== score.of) {
    throw new ListError(outcome.name, [
      {
        code: 'LIST_FIELD_NOT_APPLICABLE',
        path: 'of',
        message: `outcome ${outcome.name} is about ${outcome.of}, score ${score.name} about ${score.of}`,
      },
    ])
  }

  const rows = await runScore(store, score, { asOf: options.asOf })
  const converted = await evaluateOutcome(
    store,
    outcome,
    options.asOf,
    horizonMs,
  )

  return summarizeBacktest(
    score.name,
    outcome.name,
    options.asOf,
    horizonMs,
    rows,
    converted,
  )
}

/** The backtest figures for scored rows and the set of converters. */
export function summarizeBacktest(
  scoreName: string,
  outcomeName: string,
  asOf: Date,
  horizonMs: number,
  rows: readonly ScoreRow[],
  converted: ReadonlySet<string>,
): BacktestResult {
  const outcomes = rows.map((row) => converted.has(row.id))
  const total = outcomes.filter(Boolean).length
  const rate = rows.length === 0 ? 0 : total / rows.length
  const groupBy = (key: (row: ScoreRow) => string, order: readonly string[]) =>
    order.map((group): GroupResult => {
      const members = rows.filter((row) => key(row) === group)
      const hits = members.filter((row) => converted.has(row.id)).length
      const groupRate = members.length === 0 ? 0 : hits / members.length
      return {
        group,
        entities: members.length,
        converted: hits,
        rate: groupRate,
        // An empty group has no rate to compare.
        lift: rate === 0 || members.length === 0 ? null : groupRate / rate,
      }
    })

  return {
    score: scoreName,
    outcome: outcomeName,
    asOf: asOf.toISOString(),
    horizonEnd: new Date(asOf.getTime() + horizonMs).toISOString(),
    entities: rows.length,
    converted: total,
    rate,
    auc: computeAuc(
      rows.map((row) => row.total),
      outcomes,
    ),
    byQuadrant: groupBy(
      (row) => row.quadrant,
      ['hot', 'activate', 'self_serve', 'ignore'],
    ),
    byFitLevel: groupBy((row) => row.fit_level, ['high', 'medium', 'low']),
    byUsageLevel: groupBy((row) => row.usage_level, ['high', 'medium', 'low']),
  }
}
