/**
 * `leadlens score suggest`: learns points for a score's own criteria from
 * real outcomes with an L2-regularised logistic regression, and backtests
 * the suggestion beside the hand-written score, so a RevOps lead sees
 * which ranks better and by how much.
 */
import { compileOptionsForStore } from '../lists/run-list.js'
import { ListError } from '../lists/list-error.js'
import { parseDuration } from '../lists/time-window.js'
import { evaluateOutcome, backtestScore } from './backtest-score.js'
import { compileScore } from './compile-score.js'
import { fitLogisticRegression } from './fit-logistic-regression.js'

import type { Store } from '../store/store.js'
import type { BacktestResult } from './backtest-score.js'
import type { OutcomeDefinition } from './outcome-definition.js'
import type { Criterion, ScoreDefinition } from './score-definition.js'

export interface SuggestedCriterion {
  axis: 'fit' | 'usage'
  label: string
  currentPoints: number
  suggestedPoints: number
  coefficient: number
}

export interface Suggestion {
  trainedAsOf: string
  isInSample: boolean
  criteria: SuggestedCriterion[]
  suggested: ScoreDefinition
  current: BacktestResult
  suggestedBacktest: BacktestResult
}

/** Fits points at `trainAsOf` and backtests both scores at `asOf`. */
export async function suggestScore(
  store: Store,
  score: ScoreDefinition,
  outcome: OutcomeDefinition,
  options: { asOf: Date; horizon: string; trainAsOf?: Date; lambda?: number },
): Promise<Suggestion> {
  if (!Array.isArray(score.fit ?? []) || !Array.isArray(score.usage ?? [])) {
    throw new ListError(score.name, [
      {
        code: 'LIST_DEFINITION_INVALID',
        path: 'fit',
        message:
          'suggest learns points for criteria; an axis of levels has none',
      },
    ])
  }
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
  const trainAsOf = options.trainAsOf ?? options.asOf

  const compiled = compileScore(
    score,
    await compileOptionsForStore(store, { asOf: trainAsOf }),
  )
  const rows = await store.query<Record<string, unknown>>(
    `SELECT * FROM (${compiled.sql}) s ORDER BY entity_id`,
    compiled.params,
  )
  const converted = await evaluateOutcome(store, outcome, trainAsOf, horizonMs)
  const features = rows.map((row) =>
    compiled.criteria.map((criterion) => {
      const isSignal = criterion.label.startsWith('per ')
      return isSignal
        ? Number(row[criterion.valueColumn] ?? 0)
        : row[criterion.matchedColumn] === true
          ? 1
          : 0
    }),
  )
  const model = fitLogisticRegression(
    features,
    rows.map((row) => converted.has(String(row.entity_id))),
    { lambda: options.lambda ?? 1 },
  )

  // Scale so the positive points of the larger axis add up to 100.
  const positiveSum = (axis: 'fit' | 'usage') =>
    compiled.criteria.reduce(
      (sum, criterion, index) =>
        criterion.axis === axis
          ? sum + Math.max(0, model.coefficients[index] ?? 0)
          : sum,
      0,
    )
  const scale = 100 / Math.max(positiveSum('fit'), positiveSum('usage'), 1e-9)

  const criteria: SuggestedCriterion[] = compiled.criteria.map(
    (criterion, index) => ({
      axis: criterion.axis,
      label: criterion.label,
      currentPoints: criterion.points,
      suggestedPoints: Math.round((model.coefficients[index] ?? 0) * scale),
      coefficient: model.coefficients[index] ?? 0,
    }),
  )
  const withPoints = (axis: 'fit' | 'usage'): Criterion[] | undefined => {
    const current = score[axis] as Criterion[] | undefined
    if (current === undefined) return undefined
    let offset = 0
    return current.map((criterion, index) => {
      const suggestion = criteria.filter((c) => c.axis === axis)[index]
      offset++
      return {
        ...criterion,
        points: suggestion?.suggestedPoints ?? criterion.points,
      }
    })
  }
  const fit = withPoints('fit')
  const usage = withPoints('usage')
  const suggested: ScoreDefinition = {
    ...score,
    name: `${score.name}_suggested`,
    ...(fit === undefined ? {} : { fit }),
    ...(usage === undefined ? {} : { usage }),
  }

  const backtest = { asOf: options.asOf, horizon: options.horizon }
  return {
    trainedAsOf: trainAsOf.toISOString(),
    isInSample: trainAsOf.getTime() === options.asOf.getTime(),
    criteria,
    suggested,
    current: await backtestScore(store, score, outcome, backtest),
    suggestedBacktest: await backtestScore(store, suggested, outcome, backtest),
  }
}
