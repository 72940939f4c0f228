/**
 * Compiles one metric to a subquery `(entity_id, value)` over the events
 * (or memberships) of the list's entities, windowed at `asOf`.
 */
import { numericPropertySql } from '../rollups/rollup-sql.js'
import { sumPropertyKey } from '../rollups/rollup-properties.js'
import { splitWindowByUtcDays } from './split-window-by-days.js'
import { parseDuration, resolveWindow } from './time-window.js'

import type { SqlParam } from '../store/store.js'
import type { CompileContext } from './compile-context.js'
import type { Condition, MetricKind, MetricSpec } from './list-definition.js'
import type { WholeDays } from './split-window-by-days.js'
import type { TimeWindow } from './time-window.js'

/** Compiles a metric's `where` over event properties. */
export type EventConditionCompiler = (
  condition: Condition,
  path: string,
) => string

/** The kind of a metric: which of count, sum, ... it is. */
export function metricKindOf(spec: MetricSpec): MetricKind {
  if (spec.count !== undefined) return 'count'
  if (spec.distinct_users !== undefined) return 'distinct_users'
  if (spec.sum !== undefined) return 'sum'
  if (spec.active_days !== undefined) return 'active_days'
  if (spec.users_added !== undefined) return 'users_added'
  if (spec.first_seen !== undefined) return 'first_seen'

  return 'last_seen'
}

/** Whether a missing value means zero (counts and sums) rather than unknown. */
export function isCountingMetric(kind: MetricKind): boolean {
  return kind !== 'first_seen' && kind !== 'last_seen'
}

/** A readable name for a metric, used as its column name when none is given. */
export function describeMetric(spec: MetricSpec): string {
  const kind = metricKindOf(spec)
  const subject =
    kind === 'sum'
      ? `${spec.sum}.${spec.property}`
      : kind === 'active_days' || kind === 'users_added'
        ? ''
        : String(spec[kind])
  const window =
    spec.within === undefined
      ? ''
      : typeof spec.within === 'string'
        ? spec.within
        : `last_${spec.within.last_n_days}_days`
  const decay =
    spec.decay === undefined ? '' : `half_life ${spec.decay.half_life}`
  const parts = [subject, window, decay].filter((part) => part !== '')

  return `${kind}(${parts.join(', ')})`
}

/** SQL for one metric as a subquery of (entity_id, value). */
export function compileMetric(
  spec: MetricSpec,
  path: string,
  context: CompileContext,
  compileEventCondition: EventConditionCompiler,
): string {
  const kind = metricKindOf(spec)
  const window =
    spec.within === undefined
      ? undefined
      : resolveWindow(spec.within, context.options.asOf, context.zone)

  if (kind === 'users_added') {
    if (context.of === 'users') {
      // A user "added" is the user joining an account: 1 per membership started.
      return `SELECT m.user_id AS entity_id, count(*) AS value FROM memberships m
        WHERE ${timeFilter('m.started_at', window, context)}
        GROUP BY m.user_id`
    }

    return `SELECT m.account_id AS entity_id, count(*) AS value FROM memberships m
      WHERE ${timeFilter('m.started_at', window, context)}
      GROUP BY m.account_id`
  }

  const filters = [timeFilter('e.timestamp', window, context)]
  if (kind === 'active_days') {
    filters.push("e.type IN ('track', 'page', 'screen')")
  } else {
    filters.push("e.type = 'track'")
    filters.push(`e.event = ${context.bindValue(String(spec[kind]))}`)
  }
  if (spec.where !== undefined) {
    filters.push(compileEventCondition(spec.where, `${path}.where`))
  }

  const measure = measureOf(spec, kind, context)
  const where = filters.join(' AND ')

  if (context.of === 'users') {
    return `SELECT e.person_id AS entity_id, ${measure.aggregate} AS value
      FROM (SELECT e.person_id, ${measure.input} AS input FROM events e
        WHERE e.person_id IS NOT NULL AND ${where}) e
      GROUP BY e.person_id`
  }

  // An event belongs to its context.groupId account, else to every account
  // its person is a member of (DESIGN.md section 4).
  const rawAccounts = (condition: string) =>
    groupByAccount(
      `SELECT e.account_id AS entity_id, e.person_id, ${measure.input} AS input
      FROM events e WHERE e.account_id IS NOT NULL AND ${condition}
      UNION ALL
      SELECT m.account_id AS entity_id, e.person_id, ${measure.input} AS input
      FROM events e JOIN memberships m ON m.user_id = e.person_id
      WHERE e.account_id IS NULL AND ${condition}`,
      'e',
      measure.aggregate,
      context,
    )

  const days = rollupDaysFor(spec, kind, window, context)
  if (days === undefined) return rawAccounts(where)

  // Whole UTC days from the rollups, the partial days at the edges raw:
  // each edge a plain time range, so the store reads only its blocks (zone
  // maps on DuckDB, the timestamp index on PostgreSQL).
  const edges = [`e.timestamp >= ${context.bindValue(days.to)}`]
  if (days.from !== undefined)
    edges.unshift(`e.timestamp < ${context.bindValue(days.from)}`)
  const rollup = rollupAccountsSql(spec, kind, days, context)
  const combine =
    kind === 'first_seen'
      ? 'min(x.value)'
      : kind === 'last_seen'
        ? 'max(x.value)'
        : kind === 'count'
          ? 'CAST(sum(x.value) AS BIGINT)'
          : 'sum(x.value)'

  return groupByAccount(
    `${rollup}
      ${edges.map((edge) => `UNION ALL ${rawAccounts(`${where} AND ${edge}`)}`).join('\n')}`,
    'x',
    combine,
    context,
  )
}

/**
 * `aggregate` per account over the rows of a UNION ALL (`alias.entity_id`).
 * PostgreSQL cannot estimate how many groups a union's column has (it
 * assumes 200) and then loops over the metric once per account: 20 s for
 * the bench's list (d). Grouping by `accounts.account_id` gives it that
 * table's statistics; rows of accounts the table lacks would find no list
 * row anyway. DuckDB plans either form well and gets the plain one.
 */
function groupByAccount(
  union: string,
  alias: string,
  aggregate: string,
  context: CompileContext,
): string {
  if (!context.sql.groupsAccountsByTableKey) {
    return `SELECT ${alias}.entity_id, ${aggregate} AS value FROM (
      ${union}
    ) ${alias} GROUP BY ${alias}.entity_id`
  }

  return `SELECT k.account_id AS entity_id, ${aggregate} AS value FROM (
      ${union}
    ) ${alias} JOIN accounts k ON k.account_id = ${alias}.entity_id
    GROUP BY k.account_id`
}

/**
 * The whole UTC days a metric of accounts may read from the rollups, or
 * undefined when it must read raw events: decay and `where` need each
 * event, and sums need their property registered.
 */
function rollupDaysFor(
  spec: MetricSpec,
  kind: MetricKind,
  window: TimeWindow | undefined,
  context: CompileContext,
): WholeDays | undefined {
  const rollups = context.options.rollups
  if (rollups === undefined || context.of !== 'accounts') return undefined
  if (spec.where !== undefined || spec.decay !== undefined) return undefined

  const isReadable =
    kind === 'count' ||
    kind === 'first_seen' ||
    kind === 'last_seen' ||
    (kind === 'sum' &&
      rollups.sums.has(sumPropertyKey(String(spec.sum), String(spec.property))))
  if (!isReadable) return undefined

  return splitWindowByUtcDays(window, context.options.asOf)
}

function rollupAccountsSql(
  spec: MetricSpec,
  kind: MetricKind,
  days: WholeDays,
  context: CompileContext,
): string {
  const filters = [
    `r.event = ${context.bindValue(String(spec[kind]))}`,
    `r.day < ${context.bindValue(days.to)}`,
  ]
  if (days.from !== undefined)
    filters.push(`r.day >= ${context.bindValue(days.from)}`)

  if (kind === 'sum') {
    filters.push(`r.property = ${context.bindValue(String(spec.property))}`)
    return `SELECT r.account_id AS entity_id, sum(r.total) AS value
      FROM account_event_day_sums r WHERE ${filters.join(' AND ')}
      GROUP BY r.account_id`
  }

  const aggregate =
    kind === 'first_seen'
      ? 'min(r.first_at)'
      : kind === 'last_seen'
        ? 'max(r.last_at)'
        : 'CAST(sum(r.events) AS BIGINT)'

  return `SELECT r.account_id AS entity_id, ${aggregate} AS value
    FROM account_event_days r WHERE ${filters.join(' AND ')}
    GROUP BY r.account_id`
}

function measureOf(
  spec: MetricSpec,
  kind: MetricKind,
  context: CompileContext,
): { input: string; aggregate: string } {
  switch (kind) {
    case 'count': {
      if (spec.decay === undefined)
        return { input: 'NULL', aggregate: 'count(*)' }
      // Each event weighs 0.5^(age / half-life) at asOf.
      const halfLifeMs = parseDuration(spec.decay.half_life) ?? 1
      return {
        input: `power(0.5, (${context.sql.epochMs(context.asOf)} - ${context.sql.epochMs('e.timestamp')}) / ${context.bindValue(halfLifeMs)})`,
        aggregate: 'coalesce(sum(e.input), 0)',
      }
    }
    case 'distinct_users':
      return { input: 'NULL', aggregate: 'count(DISTINCT e.person_id)' }
    case 'sum': {
      const path = context.bindValue(
        context.sql.jsonPath([String(spec.property)]),
      )
      return {
        input: numericPropertySql(context.sql, 'e.properties', path),
        aggregate: 'coalesce(sum(e.input), 0)',
      }
    }
    case 'active_days':
      return {
        input: `CAST(e.timestamp AT TIME ZONE ${context.bindValue(context.zone)} AS DATE)`,
        aggregate: 'count(DISTINCT e.input)',
      }
    case 'first_seen':
      return { input: 'e.timestamp', aggregate: 'min(e.input)' }
    default:
      return { input: 'e.timestamp', aggregate: 'max(e.input)' }
  }
}

/** `column` inside `window` and never after `asOf`. */
export function timeFilter(
  column: string,
  window: TimeWindow | undefined,
  context: { asOf: string; bindValue(value: SqlParam): string },
): string {
  const parts = [`${column} <= ${context.asOf}`]
  if (window !== undefined) {
    parts.push(
      `${column} ${window.startInclusive ? '>=' : '>'} ${context.bindValue(window.start)}`,
    )
    parts.push(
      `${column} ${window.endInclusive ? '<=' : '<'} ${context.bindValue(window.end)}`,
    )
  }

  return parts.join(' AND ')
}
