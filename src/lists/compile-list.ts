/**
 * Compiles a list definition to one SQL statement with bound parameters:
 * the entities (users or accounts) that exist at `asOf`, the joins their
 * fields need, each metric a grouped subquery joined once, the filter tree,
 * the sort (entity id last, so pages are stable), the columns, and the
 * total count of matches.
 */
import { DateTime } from 'luxon'

import { quoteIdentifier } from '../store/store.js'
import {
  compileCondition,
  compileFieldExpression,
  compileMetricValue,
} from './compile-condition.js'
import { createCompileContext } from './compile-context.js'
import { describeMetric } from './compile-metric.js'
import { compileJoins } from './entity-joins.js'
import { ListError } from './list-error.js'

import type { SqlParam } from '../store/store.js'
import type { CompileContext, CompileOptions } from './compile-context.js'
import type { ListDefinition, MetricRef } from './list-definition.js'
import type { ListIssue } from './list-error.js'

export type { CompileOptions } from './compile-context.js'

export interface CompiledList {
  sql: string
  params: SqlParam[]
  /** Output column names, in order. */
  columns: string[]
  /** Things worth knowing that do not stop the list, e.g. an unseen event. */
  warnings: ListIssue[]
  /** The SQL expression of the entity id, for callers that page by it. */
  idColumn: string
}

/** Name of the extra result column holding the count of all matches. */
export const totalColumn = '__total'

/** Name of the extra result column holding each row's entity id. */
export const entityIdColumn = '__id'

/** Compiles `definition`; throws a `ListError` listing every problem. */
export function compileList(
  definition: ListDefinition,
  options: CompileOptions,
): CompiledList {
  const context = createCompileContext(definition, options)
  if (!DateTime.local().setZone(context.zone).isValid) {
    context.issues.push({
      code: 'LIST_VALUE_INVALID',
      path: 'timezone',
      message: `${context.zone} is not an IANA time zone`,
    })
  }

  const where =
    definition.where === undefined
      ? 'TRUE'
      : compileCondition(context, definition.where, 'where')
  const owned =
    options.ownerEmail === undefined
      ? 'TRUE'
      : compileCondition(
          context,
          {
            field: 'crm.owner.email',
            op: '=',
            value: options.ownerEmail.toLowerCase(),
          },
          'owner',
        )
  const orderBy = compileSort(context)
  const columns = compileColumns(context)

  if (context.issues.length > 0)
    throw new ListError(definition.name, context.issues)

  const entity = entitySource(definition.of)
  const joins = compileEntityJoins(context, entity.id)

  const limit = options.limit ?? definition.limit
  const sql = [
    `SELECT ${entity.id} AS ${quoteIdentifier(entityIdColumn)}, ${columns.select.join(', ')}`,
    // The total of all matches, for pages; an export streams without it.
    options.withoutTotal === true
      ? ''
      : `  , count(*) OVER () AS ${quoteIdentifier(totalColumn)}`,
    `FROM ${entity.table}`,
    ...joins,
    `WHERE ${existsAt(entity, context.asOf)}`,
    `  AND (${where})`,
    `  AND (${owned})`,
    `ORDER BY ${[...orderBy, `${entity.id} ASC`].join(', ')}`,
    limit === undefined ? '' : `LIMIT ${context.bindValue(limit)}`,
    options.offset === undefined
      ? ''
      : `OFFSET ${context.bindValue(options.offset)}`,
  ]
    .filter((line) => line !== '')
    .join('\n')

  return {
    sql,
    params: context.params,
    columns: columns.names,
    warnings: context.warnings,
    idColumn: entity.id,
  }
}

/** The table, id and times of a list's entities. */
export function entitySource(of: 'users' | 'accounts') {
  return of === 'users'
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
}

/**
 * Whether an entity existed at asOf: created by then (an imported or
 * declared creation time wins), else first seen by then.
 */
export function existsAt(
  entity: ReturnType<typeof entitySource>,
  asOf: string,
): string {
  const since = `coalesce(${entity.created}, ${entity.seen})`
  return `(${since} IS NULL OR ${since} <= ${asOf})`
}

/** The joins a compiled context needs: related records, scores, metrics. */
export function compileEntityJoins(
  context: CompileContext,
  entityId: string,
): string[] {
  const joins = compileJoins(
    context.of,
    context.joins,
    context.asOf,
    context.sql.name,
  )
  for (const score of context.scoreJoins.values()) joins.push(score.sql)
  for (const metric of context.metrics.values()) {
    joins.push(
      `LEFT JOIN (${metric.sql}) ${metric.alias} ON ${metric.alias}.entity_id = ${entityId}`,
    )
  }

  return joins
}

function compileSort(context: CompileContext): string[] {
  return (context.definition.sort ?? []).map((key, index) => {
    const dir = key.dir === 'asc' ? 'ASC' : 'DESC'
    const expression =
      'metric' in key
        ? (compileMetricValue(context, key.metric, `sort[${index}].metric`)
            ?.sql ?? 'NULL')
        : (compileFieldExpression(context, key.field, `sort[${index}].field`)
            ?.sql ?? 'NULL')

    return `${expression} ${dir} NULLS LAST`
  })
}

function compileColumns(context: CompileContext): {
  select: string[]
  names: string[]
} {
  const defaults =
    context.of === 'users'
      ? ['user.id', 'user.email']
      : ['account.id', 'account.name']
  const specs = context.definition.columns ?? defaults
  const select: string[] = []
  const names: string[] = []

  specs.forEach((spec, index) => {
    const path = `columns[${index}]`
    let name: string
    let expression: string
    if (typeof spec === 'string' || 'field' in spec) {
      const field = typeof spec === 'string' ? spec : spec.field
      name = typeof spec === 'string' ? spec : (spec.as ?? spec.field)
      expression =
        compileFieldExpression(
          context,
          field,
          typeof spec === 'string' ? path : `${path}.field`,
        )?.sql ?? 'NULL'
    } else {
      name = spec.as ?? metricName(spec.metric)
      expression =
        compileMetricValue(context, spec.metric, `${path}.metric`)?.sql ??
        'NULL'
    }

    if (
      names.includes(name) ||
      name === totalColumn ||
      name === entityIdColumn
    ) {
      context.issues.push({
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

function metricName(ref: MetricRef): string {
  return typeof ref === 'string' ? ref : describeMetric(ref)
}
