/**
 * Compiles a list definition to one SQL statement with bound parameters:
 * the entities (users or accounts) that exist at `asOf`, each metric a
 * grouped subquery joined once, the filter tree, the sort (entity id last,
 * so pages are stable), the columns, and the total count of matches.
 */
import { DateTime } from 'luxon'

import { resolveEventProperty, resolveField } from '../catalog/resolve-field.js'
import { quoteIdentifier } from '../store/store.js'
import {
  compileMetric,
  describeMetric,
  isCountingMetric,
  metricKindOf,
  timeFilter,
} from './compile-metric.js'
import { ListError } from './list-error.js'
import { resolveWindow } from './time-window.js'

import type { PropertyTypeMap } from '../catalog/property-catalog.js'
import type { FieldType, ResolvedField } from '../catalog/resolve-field.js'
import type { SqlParam } from '../store/store.js'
import type {
  Condition,
  ListDefinition,
  MetricRef,
  MetricSpec,
  Operator,
} from './list-definition.js'
import type { ListIssue } from './list-error.js'
import type { MetricCompileContext } from './compile-metric.js'

export interface CompileOptions {
  asOf: Date
  /** The workspace's IANA zone; a definition's own `timezone` wins. */
  timezone: string
  /** The signed-in person's email, for `$me`. */
  me?: string
  types: PropertyTypeMap
  /** Metrics declared once (`metrics:` or `leadlens apply`), by name. */
  namedMetrics?: Record<string, MetricSpec>
  /** Overrides the definition's limit (e.g. `--limit`). */
  limit?: number
}

export interface CompiledList {
  sql: string
  params: SqlParam[]
  /** Output column names, in order. */
  columns: string[]
}

/** Name of the extra result column holding the count of all matches. */
export const totalColumn = '__total'

interface Compiler {
  params: SqlParam[]
  issues: ListIssue[]
  metrics: Map<string, { alias: string; sql: string; isCounting: boolean }>
  needsUserAccount: boolean
  context: MetricCompileContext
  definition: ListDefinition
  options: CompileOptions
}

/** Compiles `definition`; throws a `ListError` listing every problem. */
export function compileList(
  definition: ListDefinition,
  options: CompileOptions,
): CompiledList {
  const zone = definition.timezone ?? options.timezone
  const params: SqlParam[] = []
  const bindValue = (value: SqlParam) => {
    params.push(value)
    return `$${params.length}`
  }
  const issues: ListIssue[] = []
  if (!DateTime.local().setZone(zone).isValid) {
    issues.push({
      code: 'LIST_VALUE_INVALID',
      path: 'timezone',
      message: `${zone} is not an IANA time zone`,
    })
  }

  const compiler: Compiler = {
    params,
    issues,
    metrics: new Map(),
    needsUserAccount: false,
    definition,
    options,
    context: {
      of: definition.of,
      types: options.types,
      asOf: bindValue(options.asOf),
      asOfDate: options.asOf,
      zone,
      bind: (value: string) => bindValue(value),
      bindValue,
      compileEventCondition: (condition, path) =>
        compileCondition(compiler, condition, path, 'event'),
    },
  }

  const where =
    definition.where === undefined
      ? 'TRUE'
      : compileCondition(compiler, definition.where, 'where', 'entity')
  const orderBy = compileSort(compiler)
  const columns = compileColumns(compiler)

  if (issues.length > 0) throw new ListError(definition.name, issues)

  const entity =
    definition.of === 'users'
      ? {
          table: 'users u',
          id: 'u.user_id',
          seen: 'u.first_seen_at',
          created: 'u.created_at',
        }
      : {
          table: 'accounts a',
          id: 'a.account_id',
          seen: 'a.first_seen_at',
          created: 'a.created_at',
        }
  const joins: string[] = []
  if (compiler.needsUserAccount) {
    // A user's account, for account.* on a user list: the latest membership
    // started by asOf.
    joins.push(`LEFT JOIN (SELECT DISTINCT ON (m.user_id) m.user_id, m.account_id
      FROM memberships m WHERE m.started_at IS NULL OR m.started_at <= ${compiler.context.asOf}
      ORDER BY m.user_id, m.started_at DESC NULLS LAST, m.account_id) ua ON ua.user_id = u.user_id`)
    joins.push('LEFT JOIN accounts a ON a.account_id = ua.account_id')
  }
  for (const metric of compiler.metrics.values()) {
    joins.push(
      `LEFT JOIN (${metric.sql}) ${metric.alias} ON ${metric.alias}.entity_id = ${entity.id}`,
    )
  }

  const limit = options.limit ?? definition.limit
  const sql = [
    `SELECT ${columns.select.join(', ')}, count(*) OVER () AS ${quoteIdentifier(totalColumn)}`,
    `FROM ${entity.table}`,
    ...joins,
    // Entities first seen or created after asOf did not exist yet.
    `WHERE (${entity.seen} IS NULL OR ${entity.seen} <= ${compiler.context.asOf})`,
    `  AND (${entity.created} IS NULL OR ${entity.created} <= ${compiler.context.asOf})`,
    `  AND (${where})`,
    `ORDER BY ${[...orderBy, `${entity.id} ASC`].join(', ')}`,
    limit === undefined ? '' : `LIMIT ${bindValue(limit)}`,
  ]
    .filter((line) => line !== '')
    .join('\n')

  return { sql, params, columns: columns.names }
}

function metricValue(
  compiler: Compiler,
  ref: MetricRef,
  path: string,
): { sql: string; spec: MetricSpec } | undefined {
  let spec: MetricSpec | undefined
  if (typeof ref === 'string') {
    spec =
      compiler.definition.metrics?.[ref] ?? compiler.options.namedMetrics?.[ref]
    if (spec === undefined) {
      const known = Object.keys({
        ...compiler.options.namedMetrics,
        ...compiler.definition.metrics,
      })
      compiler.issues.push({
        code: 'LIST_METRIC_UNKNOWN',
        path,
        message: `no metric named ${JSON.stringify(ref)}${known.length ? `; named metrics: ${known.join(', ')}` : ''}`,
      })
      return undefined
    }
  } else spec = ref

  const kind = metricKindOf(spec)
  const key = JSON.stringify(spec)
  let metric = compiler.metrics.get(key)
  if (metric === undefined) {
    const alias = `m${compiler.metrics.size}`
    metric = {
      alias,
      sql: compileMetric(spec, path, compiler.context),
      isCounting: isCountingMetric(kind),
    }
    compiler.metrics.set(key, metric)
  }

  return {
    sql: metric.isCounting
      ? `coalesce(${metric.alias}.value, 0)`
      : `${metric.alias}.value`,
    spec,
  }
}

function compileCondition(
  compiler: Compiler,
  condition: Condition,
  path: string,
  scope: 'entity' | 'event',
): string {
  if ('all' in condition) {
    if (condition.all.length === 0) return 'TRUE'
    return `(${condition.all.map((c, i) => compileCondition(compiler, c, `${path}.all[${i}]`, scope)).join(' AND ')})`
  }
  if ('any' in condition) {
    if (condition.any.length === 0) return 'FALSE'
    return `(${condition.any.map((c, i) => compileCondition(compiler, c, `${path}.any[${i}]`, scope)).join(' OR ')})`
  }
  if ('not' in condition) {
    return `(NOT coalesce(${compileCondition(compiler, condition.not, `${path}.not`, scope)}, FALSE))`
  }

  if ('metric' in condition) {
    if (scope === 'event') {
      compiler.issues.push({
        code: 'LIST_METRIC_INVALID',
        path: `${path}.metric`,
        message: "a metric cannot be used inside a metric's where",
      })
      return 'TRUE'
    }
    const metric = metricValue(compiler, condition.metric, `${path}.metric`)
    if (metric === undefined) return 'TRUE'
    const kind = metricKindOf(metric.spec)
    const type: FieldType =
      kind === 'first_seen' || kind === 'last_seen' ? 'timestamp' : 'number'

    return compileComparison(
      compiler,
      metric.sql,
      type,
      condition.op,
      condition.value,
      path,
    )
  }

  let field: ResolvedField
  if (scope === 'event') {
    field = resolveEventProperty(
      condition.field,
      compiler.context,
      condition.value,
    )
  } else {
    const resolved = resolveField(condition.field, compiler.context)
    if (!resolved.ok) {
      compiler.issues.push({
        code: resolved.code,
        path: `${path}.field`,
        message: resolved.message,
      })
      return 'TRUE'
    }
    field = resolved.field
  }
  if (field.needsUserAccount) compiler.needsUserAccount = true

  return compileComparison(
    compiler,
    field.sql,
    field.type,
    condition.op,
    condition.value,
    path,
  )
}

function compileComparison(
  compiler: Compiler,
  expression: string,
  type: FieldType,
  op: Operator,
  rawValue: unknown,
  path: string,
): string {
  const valuePath = `${path}.value`
  const bind = compiler.context.bindValue
  const value = (v: unknown, at = valuePath) =>
    bind(toParam(compiler, v, type, at))

  switch (op) {
    case 'exists':
      return `(${expression} IS NOT NULL)`
    case 'not_exists':
      return `(${expression} IS NULL)`
    case '=':
      return `(${expression} = ${value(rawValue)})`
    case '!=':
      // Values that are missing differ from any value.
      return `(${expression} IS DISTINCT FROM ${value(rawValue)})`
    case '>':
    case '>=':
    case '<':
    case '<=':
      if (type === 'boolean' || type === 'json') {
        return typeMismatch(compiler, op, type, `${path}.op`)
      }
      return `(${expression} ${op} ${value(rawValue)})`
    case 'in':
    case 'not_in': {
      const items = (rawValue as unknown[]).map((item, index) =>
        value(item, `${valuePath}[${index}]`),
      )
      return op === 'in'
        ? `(${expression} IN (${items.join(', ')}))`
        : `(${expression} IS NULL OR ${expression} NOT IN (${items.join(', ')}))`
    }
    case 'contains':
    case 'starts_with': {
      if (type !== 'string')
        return typeMismatch(compiler, op, type, `${path}.op`)
      const needle = value(rawValue)
      return op === 'contains'
        ? `(strpos(lower(${expression}), lower(${needle})) > 0)`
        : `starts_with(lower(${expression}), lower(${needle}))`
    }
    case 'within': {
      if (type !== 'timestamp')
        return typeMismatch(compiler, op, type, `${path}.op`)
      const window = resolveWindow(
        rawValue,
        compiler.options.asOf,
        compiler.context.zone,
      )
      return `(${timeFilter(expression, window, compiler.context)})`
    }
    case 'before': {
      if (type !== 'timestamp')
        return typeMismatch(compiler, op, type, `${path}.op`)
      const window =
        typeof rawValue === 'string' &&
        /^\d/.test(rawValue) &&
        !/^\d+(\.\d+)?\s*[mhdw]$/.test(rawValue)
          ? undefined
          : resolveWindow(
              rawValue,
              compiler.options.asOf,
              compiler.context.zone,
            )
      // `before: 30d` means older than 30 days; `before: <instant>` earlier than it.
      return window === undefined
        ? `(${expression} < ${value(rawValue)})`
        : `(${expression} <= ${bind(window.start)})`
    }
    case 'between': {
      if (type === 'boolean' || type === 'json' || type === 'string')
        return typeMismatch(compiler, op, type, `${path}.op`)
      const [from, to] = rawValue as unknown[]
      return `(${expression} >= ${value(from, `${valuePath}[0]`)} AND ${expression} <= ${value(to, `${valuePath}[1]`)})`
    }
  }
}

function typeMismatch(
  compiler: Compiler,
  op: Operator,
  type: FieldType,
  path: string,
): string {
  const fits: Record<FieldType, string> = {
    string: '= != in not_in contains starts_with exists not_exists',
    number: '= != > >= < <= in not_in between exists not_exists',
    boolean: '= != in not_in exists not_exists',
    timestamp: '= != > >= < <= within before between exists not_exists',
    json: 'exists not_exists',
  }
  compiler.issues.push({
    code: 'LIST_OPERATOR_TYPE',
    path,
    message: `${op} does not apply to a ${type} field; use one of ${fits[type]}`,
  })

  return 'TRUE'
}

// Turns a definition value into a parameter of the field's type; `$me` is
// the signed-in person's email.
function toParam(
  compiler: Compiler,
  raw: unknown,
  type: FieldType,
  path: string,
): SqlParam {
  let value = raw
  if (value === '$me') {
    if (compiler.options.me === undefined) {
      compiler.issues.push({
        code: 'LIST_ME_UNBOUND',
        path,
        message:
          '$me needs a signed-in person (--as EMAIL on the command line)',
      })
      return null
    }
    value = compiler.options.me.toLowerCase()
  }
  const fail = (expected: string): SqlParam => {
    compiler.issues.push({
      code: 'LIST_VALUE_INVALID',
      path,
      message: `${JSON.stringify(value)} is not ${expected}`,
    })
    return null
  }

  if (value === null) return null
  switch (type) {
    case 'number': {
      const number =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : NaN
      return Number.isFinite(number) ? number : fail('a number')
    }
    case 'boolean':
      if (typeof value === 'boolean') return value
      if (value === 'true' || value === 'false') return value === 'true'
      return fail('true or false')
    case 'timestamp': {
      if (typeof value !== 'string' || !/(Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
        return fail(
          'an ISO 8601 instant with a zone (e.g. 2025-01-01T00:00:00Z)',
        )
      }
      const date = new Date(value)
      return Number.isNaN(date.getTime()) ? fail('a valid instant') : date
    }
    default:
      if (
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean'
      )
        return String(value)
      return fail('a string')
  }
}

function compileSort(compiler: Compiler): string[] {
  return (compiler.definition.sort ?? []).map((key, index) => {
    const dir = key.dir === 'asc' ? 'ASC' : 'DESC'
    const expression = sortExpression(compiler, key, `sort[${index}]`)

    return `${expression} ${dir} NULLS LAST`
  })
}

function sortExpression(
  compiler: Compiler,
  key: { field: string } | { metric: MetricRef },
  path: string,
): string {
  if ('metric' in key)
    return metricValue(compiler, key.metric, `${path}.metric`)?.sql ?? 'NULL'

  const resolved = resolveField(key.field, compiler.context)
  if (!resolved.ok) {
    compiler.issues.push({
      code: resolved.code,
      path: `${path}.field`,
      message: resolved.message,
    })
    return 'NULL'
  }
  if (resolved.field.needsUserAccount) compiler.needsUserAccount = true

  return resolved.field.sql
}

function compileColumns(compiler: Compiler): {
  select: string[]
  names: string[]
} {
  const defaults =
    compiler.definition.of === 'users'
      ? ['user.id', 'user.email']
      : ['account.id', 'account.name']
  const specs = compiler.definition.columns ?? defaults
  const select: string[] = []
  const names: string[] = []

  specs.forEach((spec, index) => {
    const path = `columns[${index}]`
    let name: string
    let expression: string
    if (typeof spec === 'string' || 'field' in spec) {
      const field = typeof spec === 'string' ? spec : spec.field
      name = typeof spec === 'string' ? spec : (spec.as ?? spec.field)
      expression = sortExpression(compiler, { field }, path)
    } else {
      const metric = metricValue(compiler, spec.metric, `${path}.metric`)
      name =
        spec.as ??
        (typeof spec.metric === 'string'
          ? spec.metric
          : describeMetric(spec.metric))
      expression = metric?.sql ?? 'NULL'
    }

    if (names.includes(name) || name === totalColumn) {
      compiler.issues.push({
        code: 'LIST_COLUMN_DUPLICATE',
        path,
        message: `two columns are named ${JSON.stringify(name)}; give one another name with as:`,
      })
    }
    names.push(name)
    select.push(`${expression} AS ${quoteIdentifier(name)}`)
  })

  return { select, names }
}
