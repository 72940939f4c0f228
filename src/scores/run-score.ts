/**
 * Evaluates a score at `asOf`: every entity's fit, usage, total, levels and
 * quadrant, or one entity's explanation, criterion by criterion.
 */
import { compileOptionsForStore } from '../lists/run-list.js'
import { compileScore } from './compile-score.js'

import type { Store } from '../store/store.js'
import type { AxisName, Quadrant, ScoreDefinition } from './score-definition.js'

export interface ScoreRow {
  id: string
  fit: number
  usage: number
  total: number
  fit_level: string
  usage_level: string
  quadrant: Quadrant
}

export interface ExplanationLine {
  axis: AxisName
  label: string
  matched: boolean
  points: number
  /** The value the criterion looked at, as text (null for compound ones). */
  value: string | null
}

export interface ScoreExplanation extends ScoreRow {
  asOf: string
  lines: ExplanationLine[]
  /** Points removed by an axis cap (or added by a levels axis), so lines add up. */
  adjustments: { axis: AxisName; points: number; reason: string }[]
}

/** Every entity's score at `asOf`, highest total first. */
export async function runScore(
  store: Store,
  score: ScoreDefinition,
  options: { asOf?: Date; limit?: number; entityId?: string } = {},
): Promise<ScoreRow[]> {
  const compileOptions = await compileOptionsForStore(store, {
    ...(options.asOf ? { asOf: options.asOf } : {}),
  })
  const compiled = compileScore(score, compileOptions)
  const params = [...compiled.params]
  // One entity's score (an entity page) need not fetch every row.
  const only =
    options.entityId === undefined
      ? ''
      : ` WHERE entity_id = $${params.push(options.entityId)}`
  const limit =
    options.limit === undefined ? '' : ` LIMIT ${Math.floor(options.limit)}`
  const rows = await store.query<Record<string, unknown>>(
    `SELECT entity_id, fit, usage, total, fit_level, usage_level, quadrant FROM (${compiled.sql}) s${only}
     ORDER BY total DESC, entity_id${limit}`,
    params,
  )

  return rows.map(toScoreRow)
}

/** One entity's score with the points of every criterion. */
export async function explainScore(
  store: Store,
  score: ScoreDefinition,
  entityId: string,
  options: { asOf?: Date } = {},
): Promise<ScoreExplanation | undefined> {
  const asOf = options.asOf ?? new Date()
  const compiled = compileScore(
    score,
    await compileOptionsForStore(store, { asOf }),
  )
  const params = [...compiled.params, entityId]
  const rows = await store.query<Record<string, unknown>>(
    `SELECT * FROM (${compiled.sql}) s WHERE entity_id = $${params.length}`,
    params,
  )
  const row = rows[0]
  if (row === undefined) return undefined

  const lines: ExplanationLine[] = compiled.criteria.map((criterion) => ({
    axis: criterion.axis,
    label: criterion.label,
    matched: row[criterion.matchedColumn] === true,
    points: Number(row[criterion.pointsColumn] ?? 0),
    value:
      row[criterion.valueColumn] === null ||
      row[criterion.valueColumn] === undefined
        ? null
        : String(row[criterion.valueColumn]),
  }))
  const base = toScoreRow(row)
  const adjustments: ScoreExplanation['adjustments'] = []
  for (const axis of ['fit', 'usage'] as const) {
    const fromLines = lines
      .filter((line) => line.axis === axis)
      .reduce((sum, line) => sum + line.points, 0)
    const difference = base[axis] - fromLines
    if (Math.abs(difference) > 1e-9) {
      adjustments.push({
        axis,
        points: difference,
        reason: lines.some((line) => line.axis === axis)
          ? `${axis} is capped at ${score.cap?.[axis]}`
          : `${axis} level ${base[`${axis}_level`]} (levels give high ${100}, medium ${50}, low 0)`,
      })
    }
  }

  return { ...base, asOf: asOf.toISOString(), lines, adjustments }
}

function toScoreRow(row: Record<string, unknown>): ScoreRow {
  return {
    id: String(row.entity_id),
    fit: Number(row.fit),
    usage: Number(row.usage),
    total: Number(row.total),
    fit_level: String(row.fit_level),
    usage_level: String(row.usage_level),
    quadrant: row.quadrant as Quadrant,
  }
}
