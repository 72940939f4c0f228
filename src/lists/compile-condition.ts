/**
 * Compiles the filter tree: all / any / not, field and metric comparisons,
 * and conditions over related collections. Problems are collected as issues
 * (with their path) and compile to TRUE, so one pass reports them all.
 */
import { ownProperty } from '../catalog/own-property.js'
import {
  relationNames,
  resolveEventProperty,
  resolveField,
  resolveRelatedField,
} from '../catalog/resolve-field.js'
import {
  compileMetric,
  isCountingMetric,
  metricKindOf,
} from './compile-metric.js'
import { compileComparison } from './compile-comparison.js'
import { reportIssue } from './compile-context.js'

import type {
  FieldResolution,
  FieldType,
  RelationName,
  ResolvedField,
} from '../catalog/resolve-field.js'
import type { CompileContext } from './compile-context.js'
import type {
  Condition,
  MetricRef,
  MetricSpec,
  RelatedCondition,
} from './list-definition.js'

/** Where bare field names point: the entity, an event, or a related record. */
export type ConditionScope =
  | { kind: 'entity' }
  | { kind: 'event' }
  | { kind: 'related'; relation: RelationName }

/** SQL for a condition tree. */
export function compileCondition(
  context: CompileContext,
  condition: Condition,
  path: string,
  scope: ConditionScope = { kind: 'entity' },
): string {
  if ('all' in condition) {
    if (condition.all.length === 0) return 'TRUE'
    const parts = condition.all.map((c, i) =>
      compileCondition(context, c, `${path}.all[${i}]`, scope),
    )
    return `(${parts.join(' AND ')})`
  }

  if ('any' in condition) {
    if (condition.any.length === 0) return 'FALSE'
    const parts = condition.any.map((c, i) =>
      compileCondition(context, c, `${path}.any[${i}]`, scope),
    )
    return `(${parts.join(' OR ')})`
  }

  if ('not' in condition) {
    const inner = compileCondition(context, condition.not, `${path}.not`, scope)
    return `(NOT coalesce(${inner}, FALSE))`
  }

  if ('related' in condition) {
    if (scope.kind !== 'entity') {
      return reportIssue(
        context,
        'LIST_DEFINITION_INVALID',
        `${path}.related`,
        'related conditions cannot be nested',
      )
    }
    return compileRelated(context, condition, path)
  }

  if ('metric' in condition) {
    if (scope.kind !== 'entity') {
      return reportIssue(
        context,
        'LIST_METRIC_INVALID',
        `${path}.metric`,
        "a metric can only be used on the list's own entities",
      )
    }
    const metric = compileMetricValue(
      context,
      condition.metric,
      `${path}.metric`,
    )
    if (metric === undefined) return 'TRUE'
    const kind = metricKindOf(metric.spec)
    const type: FieldType =
      kind === 'first_seen' || kind === 'last_seen' ? 'timestamp' : 'number'

    return compileComparison(
      context,
      metric.sql,
      type,
      condition.op,
      condition.value,
      path,
    )
  }

  const field = resolveInScope(
    context,
    condition.field,
    scope,
    condition.value,
    `${path}.field`,
  )
  if (!field.ok)
    return reportIssue(context, field.code, `${path}.field`, field.message)
  for (const join of field.field.joins) context.joins.add(join)

  const allowed = field.field.allowedValues
  if (
    allowed !== undefined &&
    ['=', '!=', 'in', 'not_in'].includes(condition.op)
  ) {
    const values = Array.isArray(condition.value)
      ? condition.value
      : [condition.value]
    const unknownValue = values.find(
      (v) => v !== null && !allowed.includes(String(v)),
    )
    if (unknownValue !== undefined) {
      return reportIssue(
        context,
        'LIST_VALUE_INVALID',
        `${path}.value`,
        `${JSON.stringify(unknownValue)} is not one of ${allowed.join(', ')}`,
      )
    }
  }
  const value =
    field.field.isEmail === true
      ? lowerCaseStrings(condition.value)
      : condition.value

  return compileComparison(
    context,
    field.field.sql,
    field.field.type,
    condition.op,
    value,
    path,
  )
}

function resolveInScope(
  context: CompileContext,
  name: string,
  scope: ConditionScope,
  hint: unknown,
  path = '',
): FieldResolution {
  if (scope.kind === 'entity' && name.startsWith('score.')) {
    return resolveScore(context, name, path)
  }
  if (scope.kind === 'event') {
    return { ok: true, field: resolveEventProperty(name, context, hint) }
  }
  if (scope.kind === 'related')
    return resolveRelatedField(scope.relation, name, context)

  return resolveField(name, context)
}

/** Resolves a field for a sort key or a column, recording its joins. */
export function compileFieldExpression(
  context: CompileContext,
  name: string,
  path: string,
): ResolvedField | undefined {
  const resolved = name.startsWith('score.')
    ? resolveScore(context, name, path)
    : resolveField(name, context)
  if (!resolved.ok) {
    reportIssue(context, resolved.code, path, resolved.message)
    return undefined
  }
  for (const join of resolved.field.joins) context.joins.add(join)

  return resolved.field
}

const scoreFields = 'fit, usage, total, fit_level, usage_level, quadrant'

function resolveScore(
  context: CompileContext,
  name: string,
  path: string,
): FieldResolution {
  const [, scoreName, field, ...rest] = name.split('.')
  if (scoreName === undefined || field === undefined || rest.length > 0) {
    return {
      ok: false,
      code: 'LIST_FIELD_UNKNOWN',
      message: `score fields are score.<name>.{${scoreFields}}`,
    }
  }
  const resolver = context.options.resolveScoreField
  const issuesBefore = context.issues.length
  const resolved = resolver?.(context, scoreName, field, path)
  if (resolved === undefined) {
    if (context.issues.length > issuesBefore) {
      // The resolver reported why; nothing more to add.
      const last = context.issues.pop()
      return {
        ok: false,
        code:
          last?.code === 'LIST_FIELD_NOT_APPLICABLE'
            ? 'LIST_FIELD_NOT_APPLICABLE'
            : 'LIST_FIELD_UNKNOWN',
        message: last?.message ?? `unknown field ${name}`,
      }
    }
    return {
      ok: false,
      code: 'LIST_FIELD_UNKNOWN',
      message: `unknown score ${JSON.stringify(scoreName)} in ${name}`,
    }
  }

  return {
    ok: true,
    field: { sql: resolved.sql, type: resolved.type, joins: [] },
  }
}

/** The SQL value of a metric for the current entity (a joined subquery). */
export function compileMetricValue(
  context: CompileContext,
  ref: MetricRef,
  path: string,
): { sql: string; spec: MetricSpec } | undefined {
  let spec: MetricSpec | undefined
  if (typeof ref === 'string') {
    spec =
      ownProperty(context.definition.metrics, ref) ??
      ownProperty(context.options.namedMetrics, ref)
    if (spec === undefined) {
      const known = Object.keys({
        ...context.options.namedMetrics,
        ...context.definition.metrics,
      })
      reportIssue(
        context,
        'LIST_METRIC_UNKNOWN',
        path,
        `no metric named ${JSON.stringify(ref)}` +
          (known.length > 0 ? `; named metrics: ${known.join(', ')}` : ''),
      )
      return undefined
    }
  } else spec = ref

  const kind = metricKindOf(spec)
  const event =
    kind === 'active_days' || kind === 'users_added' ? undefined : spec[kind]
  if (
    typeof event === 'string' &&
    context.options.knownEvents !== undefined &&
    !context.options.knownEvents.has(event)
  ) {
    // Not an error: the event may simply not have arrived yet.
    context.warnings.push({
      code: 'LIST_METRIC_UNKNOWN',
      path: `${path}.${kind}`,
      message: `no ${JSON.stringify(event)} event has been received yet; the metric is 0 until one is`,
    })
  }

  const key = JSON.stringify(spec)
  let metric = context.metrics.get(key)
  if (metric === undefined) {
    metric = {
      alias: `m${context.metrics.size}`,
      sql: compileMetric(spec, path, context, (condition, wherePath) =>
        compileCondition(context, condition, wherePath, { kind: 'event' }),
      ),
      isCounting: isCountingMetric(kind),
    }
    context.metrics.set(key, metric)
  }

  return {
    sql: metric.isCounting
      ? `coalesce(${metric.alias}.value, 0)`
      : `${metric.alias}.value`,
    spec,
  }
}

// An account's deals (its own or its CRM company's), contacts (its CRM
// company's) or users (members); on a list of users, the user's account's.
function compileRelated(
  context: CompileContext,
  condition: RelatedCondition,
  path: string,
): string {
  const relation = relationNames.find((name) => name === condition.related)
  if (relation === undefined) {
    return reportIssue(
      context,
      'LIST_FIELD_UNKNOWN',
      `${path}.related`,
      `unknown collection ${JSON.stringify(condition.related)}; use one of ${relationNames.join(', ')}`,
    )
  }
  if (relation === 'users' && context.of === 'users') {
    return reportIssue(
      context,
      'LIST_FIELD_NOT_APPLICABLE',
      `${path}.related`,
      'related users apply to a list of accounts',
    )
  }

  if (context.of === 'users') context.joins.add('user_account')
  if (relation === 'crm.deals' || relation === 'crm.contacts') {
    context.joins.add('account_company')
  }

  const from = {
    // Records created after asOf did not exist yet (no future data).
    'crm.deals': `FROM crm_deals d WHERE (d.account_id = a.account_id
      OR (cc.company_id IS NOT NULL AND d.company_id = cc.company_id))
      AND (d.created_at IS NULL OR d.created_at <= ${context.asOf})`,
    'crm.contacts': 'FROM crm_contacts rc WHERE rc.company_id = cc.company_id',
    'billing.subscriptions': `FROM billing_subscriptions bsub
      JOIN billing_customers bsc ON bsc.customer_id = bsub.customer_id
      WHERE bsc.account_id = a.account_id
      AND (bsub.created_at IS NULL OR bsub.created_at <= ${context.asOf})`,
    'billing.invoices': `FROM billing_invoices binv
      JOIN billing_customers bic ON bic.customer_id = binv.customer_id
      WHERE bic.account_id = a.account_id
      AND (binv.created_at IS NULL OR binv.created_at <= ${context.asOf})`,
    users: `FROM memberships rm JOIN users ru ON ru.user_id = rm.user_id
      WHERE rm.account_id = a.account_id
      AND (rm.started_at IS NULL OR rm.started_at <= ${context.asOf})`,
  }[relation]
  const where =
    condition.where === undefined
      ? 'TRUE'
      : compileCondition(context, condition.where, `${path}.where`, {
          kind: 'related',
          relation,
        })

  if (condition.count !== undefined) {
    const count = `(SELECT count(*) ${from} AND ${where})`
    return compileComparison(
      context,
      count,
      'number',
      condition.count.op,
      condition.count.value,
      `${path}.count`,
    )
  }

  switch (condition.match ?? 'any') {
    case 'all':
      // Every related record matches (and there is at least one).
      return `(EXISTS (SELECT 1 ${from}) AND NOT EXISTS (SELECT 1 ${from} AND NOT coalesce(${where}, FALSE)))`
    case 'none':
      return `(NOT EXISTS (SELECT 1 ${from} AND ${where}))`
    default:
      return `(EXISTS (SELECT 1 ${from} AND ${where}))`
  }
}

// Emails are stored lower-cased; a value typed in any case finds them.
function lowerCaseStrings(value: unknown): unknown {
  if (typeof value === 'string')
    return value === '$me' ? value : value.toLowerCase()
  if (Array.isArray(value)) return value.map(lowerCaseStrings)

  return value
}
