/**
 * Compiles a score to one SELECT over its entities at `asOf`: per
 * criterion its points, whether it matched and the value it looked at;
 * per axis the capped sum and its level; the total and the quadrant.
 * Criteria are conditions and metrics of the list language, compiled by
 * the same code, so a score and a list agree on every field and window.
 */
import { quoteIdentifier } from '../store/store.js'
import {
  compileCondition,
  compileFieldExpression,
  compileMetricValue,
} from '../lists/compile-condition.js'
import { createCompileContext } from '../lists/compile-context.js'
import {
  compileEntityJoins,
  entitySource,
  existsAt,
} from '../lists/compile-list.js'
import { ListError } from '../lists/list-error.js'
import { axisNames, levelPoints } from './score-definition.js'

import type { SqlParam } from '../store/store.js'
import type {
  CompileContext,
  CompileOptions,
} from '../lists/compile-context.js'
import type { Condition } from '../lists/list-definition.js'
import type {
  AxisName,
  Criterion,
  ScoreDefinition,
} from './score-definition.js'

/** One criterion's place in the compiled score, for explanations. */
export interface CompiledCriterion {
  axis: AxisName
  index: number
  label: string
  points: number
  /** A signal criterion (points per unit of a metric), not a condition. */
  isSignal: boolean
  /** Result columns: its points, whether it matched, the value it saw. */
  pointsColumn: string
  matchedColumn: string
  valueColumn: string
}

export interface CompiledScore {
  sql: string
  params: SqlParam[]
  criteria: CompiledCriterion[]
}

/** Threshold for `high` when a score names none: half of 100 points. */
export const defaultHighThreshold = 50

/**
 * Compiles `score`; its parameters are appended to `params` (so the SQL
 * can be nested in a list's statement). Throws a `ListError` naming every
 * problem.
 */
export function compileScore(
  score: ScoreDefinition,
  options: CompileOptions,
  params: SqlParam[] = [],
): CompiledScore {
  const context = createCompileContext(
    {
      name: score.name,
      of: score.of,
      ...(score.timezone === undefined ? {} : { timezone: score.timezone }),
    },
    options,
    params,
  )
  const columns: string[] = []
  const criteria: CompiledCriterion[] = []
  const axisSql: Record<
    AxisName,
    { points: string; level: string | undefined }
  > = {
    fit: { points: '0', level: undefined },
    usage: { points: '0', level: undefined },
  }

  for (const axis of axisNames) {
    const definition = score[axis]
    if (definition === undefined) continue

    if (!Array.isArray(definition)) {
      const high = anyOf(context, definition.levels.high, `${axis}.levels.high`)
      const medium =
        definition.levels.medium === undefined
          ? 'FALSE'
          : anyOf(context, definition.levels.medium, `${axis}.levels.medium`)
      const level = `CASE WHEN ${high} THEN 'high' WHEN ${medium} THEN 'medium' ELSE 'low' END`
      const column = `${axis}_group_level`
      columns.push(`${level} AS ${quoteIdentifier(column)}`)
      axisSql[axis] = {
        points: `CASE ${quoteIdentifier(column)} WHEN 'high' THEN ${levelPoints.high} WHEN 'medium' THEN ${levelPoints.medium} ELSE ${levelPoints.low} END`,
        level: quoteIdentifier(column),
      }
      continue
    }

    const parts: string[] = []
    definition.forEach((criterion, index) => {
      const compiled = compileCriterion(context, criterion, `${axis}[${index}]`)
      const name = `${axis}_${index}`
      columns.push(`${compiled.points} AS ${quoteIdentifier(name)}`)
      columns.push(
        `${compiled.matched} AS ${quoteIdentifier(`${name}_matched`)}`,
      )
      columns.push(`${compiled.value} AS ${quoteIdentifier(`${name}_value`)}`)
      parts.push(quoteIdentifier(name))
      criteria.push({
        axis,
        index,
        label: criterion.label ?? describeCriterion(criterion),
        points: criterion.points,
        isSignal: criterion.signal !== undefined,
        pointsColumn: name,
        matchedColumn: `${name}_matched`,
        valueColumn: `${name}_value`,
      })
    })
    const sum = parts.length === 0 ? '0' : parts.join(' + ')
    const cap = score.cap?.[axis]
    axisSql[axis] = {
      points:
        cap === undefined
          ? `(${sum})`
          : `least(${sum}, ${context.bindValue(cap)})`,
      level: undefined,
    }
  }

  if (context.issues.length > 0) {
    // A criterion's field is resolved twice (condition and value): report once.
    const seen = new Set<string>()
    const issues = context.issues.filter((issue) => {
      const key = `${issue.code} ${issue.path}`
      return seen.has(key) ? false : (seen.add(key), true)
    })
    throw new ListError(score.name, issues)
  }

  const entity = entitySource(score.of)
  const joins = compileEntityJoins(context, entity.id)
  const levelOf = (axis: AxisName) => {
    const fixed = axisSql[axis].level
    if (fixed !== undefined) return fixed
    const thresholds = score.levels?.[axis] ?? { high: defaultHighThreshold }
    const medium =
      thresholds.medium === undefined
        ? ''
        : ` WHEN ${axis} >= ${context.bindValue(thresholds.medium)} THEN 'medium'`
    return `CASE WHEN ${axis} >= ${context.bindValue(thresholds.high)} THEN 'high'${medium} ELSE 'low' END`
  }

  const inner = [
    `SELECT ${entity.id} AS entity_id${columns.map((c) => `, ${c}`).join('')}`,
    `FROM ${entity.table}`,
    ...joins,
    `WHERE ${existsAt(entity, context.asOf)}`,
  ].join('\n')
  const withAxes = `SELECT s1.*, ${axisSql.fit.points} AS fit, ${axisSql.usage.points} AS usage FROM (${inner}) s1`
  const withLevels = `SELECT s2.*, fit + usage AS total, ${levelOf('fit')} AS fit_level, ${levelOf('usage')} AS usage_level FROM (${withAxes}) s2`
  const sql = `SELECT s3.*, CASE
      WHEN fit_level = 'high' AND usage_level = 'high' THEN 'hot'
      WHEN fit_level = 'high' THEN 'activate'
      WHEN usage_level = 'high' THEN 'self_serve'
      ELSE 'ignore' END AS quadrant
    FROM (${withLevels}) s3`

  return { sql, params: context.params, criteria }
}

function compileCriterion(
  context: CompileContext,
  criterion: Criterion,
  path: string,
) {
  const points = context.bindValue(criterion.points)
  if (criterion.signal !== undefined) {
    const signal =
      criterion.decay === undefined
        ? criterion.signal
        : { ...criterion.signal, decay: criterion.decay }
    const metric = compileMetricValue(context, signal, `${path}.signal`)
    const value = metric?.sql ?? 'NULL'
    const raw = `(${points} * ${value})`
    return {
      points:
        criterion.max === undefined
          ? raw
          : `least(${raw}, ${context.bindValue(criterion.max)})`,
      matched: `(${value} > 0)`,
      value: context.sql.text(value),
    }
  }

  const condition = criterion.when as Condition
  const matched = `coalesce(${compileCondition(context, condition, `${path}.when`)}, FALSE)`

  return {
    points: `CASE WHEN ${matched} THEN ${points} ELSE 0 END`,
    matched,
    value: leafValue(context, condition, `${path}.when`),
  }
}

// The value a single comparison looked at, as text for the explanation;
// NULL for compound conditions.
function leafValue(
  context: CompileContext,
  condition: Condition,
  path: string,
): string {
  if ('field' in condition) {
    const field = compileFieldExpression(
      context,
      condition.field,
      `${path}.field`,
    )
    return field === undefined ? 'NULL' : context.sql.text(field.sql)
  }
  if ('metric' in condition) {
    const metric = compileMetricValue(
      context,
      condition.metric,
      `${path}.metric`,
    )
    return metric === undefined ? 'NULL' : context.sql.text(metric.sql)
  }

  return 'NULL'
}

function anyOf(
  context: CompileContext,
  groups: Condition[],
  path: string,
): string {
  if (groups.length === 0) return 'FALSE'
  const parts = groups.map(
    (group, index) =>
      `coalesce(${compileCondition(context, group, `${path}[${index}]`)}, FALSE)`,
  )

  return `(${parts.join(' OR ')})`
}

/** A readable one-line description of a criterion. */
export function describeCriterion(criterion: Criterion): string {
  if (criterion.signal !== undefined)
    return `per ${JSON.stringify(criterion.signal)}`

  return describeCondition(criterion.when as Condition)
}

function describeCondition(condition: Condition): string {
  if ('all' in condition)
    return condition.all.map(describeCondition).join(' and ')
  if ('any' in condition)
    return `(${condition.any.map(describeCondition).join(' or ')})`
  if ('not' in condition) return `not ${describeCondition(condition.not)}`
  if ('related' in condition)
    return `${condition.match ?? 'any'} ${condition.related}`
  const subject =
    'field' in condition ? condition.field : JSON.stringify(condition.metric)
  const value =
    condition.value === undefined ? '' : ` ${JSON.stringify(condition.value)}`

  return `${subject} ${condition.op}${value}`
}
