/**
 * Checks a list definition's shape and returns every issue with its path
 * (`where.all[2].value`): what the definition says, not whether its fields
 * exist (the compiler checks those against the catalog).
 */
import { metricKinds, operators, relatedMatches } from './list-definition.js'
import { isWindowSpec, parseDuration } from './time-window.js'

import type { ListDefinition, MetricKind, Operator } from './list-definition.js'
import type { ListIssue } from './list-error.js'

type Issues = ListIssue[]

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/** Checks a definition's shape; returns the typed definition and every issue. */
export function validateListDefinition(raw: unknown): {
  definition: ListDefinition | undefined
  issues: ListIssue[]
} {
  const issues: Issues = []
  if (!isObject(raw)) {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path: '',
      message: 'a list definition must be an object',
    })
    return { definition: undefined, issues }
  }

  const known = new Set([
    'name',
    'of',
    'where',
    'sort',
    'columns',
    'limit',
    'timezone',
    'metrics',
    'description',
  ])
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path: key,
        message: `unknown key; expected one of ${[...known].join(', ')}`,
      })
    }
  }
  if (typeof raw.name !== 'string' || raw.name.trim() === '') {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path: 'name',
      message: 'a list needs a name (a non-empty string)',
    })
  }
  if (raw.of !== 'users' && raw.of !== 'accounts') {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path: 'of',
      message: `of must be users or accounts, not ${JSON.stringify(raw.of ?? null)}`,
    })
  }
  if (raw.metrics !== undefined) {
    if (!isObject(raw.metrics)) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path: 'metrics',
        message: 'metrics must map names to metric definitions',
      })
    } else {
      for (const [name, spec] of Object.entries(raw.metrics)) {
        validateMetricSpec(spec, `metrics.${name}`, issues)
      }
    }
  }
  if (raw.where !== undefined) validateCondition(raw.where, 'where', issues)
  if (raw.sort !== undefined) validateSort(raw.sort, issues)
  if (raw.columns !== undefined) validateColumns(raw.columns, issues)
  if (
    raw.limit !== undefined &&
    !(Number.isInteger(raw.limit) && (raw.limit as number) > 0)
  ) {
    issues.push({
      code: 'LIST_VALUE_INVALID',
      path: 'limit',
      message: 'limit must be a positive whole number',
    })
  }
  if (raw.timezone !== undefined && typeof raw.timezone !== 'string') {
    issues.push({
      code: 'LIST_VALUE_INVALID',
      path: 'timezone',
      message: 'timezone must be an IANA zone name such as Europe/Berlin',
    })
  }

  return {
    definition:
      issues.length === 0 ? (raw as unknown as ListDefinition) : undefined,
    issues,
  }
}

const maxConditionDepth = 64
const conditionForms = ['all', 'any', 'not', 'related', 'field', 'metric']

/** Validates one condition tree node, recursively. */
export function validateCondition(
  value: unknown,
  path: string,
  issues: Issues,
  depth = 0,
): void {
  if (depth > maxConditionDepth) {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path,
      message: `conditions nest deeper than ${maxConditionDepth} levels`,
    })
    return
  }
  if (!isObject(value)) {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path,
      message:
        'a condition must be an object: { all: [...] }, { any: [...] }, { not: ... }, { field, op, value } or { metric, op, value }',
    })
    return
  }
  const forms = conditionForms.filter((form) => form in value)
  if (forms.length > 1) {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path,
      message: `a condition is one of ${conditionForms.join(', ')}; this one has ${forms.join(' and ')}: nest them in all or any`,
    })
    return
  }

  for (const group of ['all', 'any'] as const) {
    if (group in value) {
      const items = value[group]
      if (!Array.isArray(items)) {
        issues.push({
          code: 'LIST_DEFINITION_INVALID',
          path: `${path}.${group}`,
          message: `${group} must be a list of conditions`,
        })
        return
      }
      items.forEach((item, index) =>
        validateCondition(
          item,
          `${path}.${group}[${index}]`,
          issues,
          depth + 1,
        ),
      )
      return
    }
  }
  if ('not' in value) {
    validateCondition(value.not, `${path}.not`, issues, depth + 1)
    return
  }
  if ('related' in value) {
    validateRelated(value, path, issues)
    return
  }

  const hasField = 'field' in value
  const hasMetric = 'metric' in value
  if (hasField === hasMetric) {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path,
      message: 'a condition names either a field or a metric',
    })
    return
  }
  if (hasField && typeof value.field !== 'string') {
    issues.push({
      code: 'LIST_FIELD_UNKNOWN',
      path: `${path}.field`,
      message: 'field must be a name such as user.email',
    })
  }
  if (hasMetric) validateMetricRef(value.metric, `${path}.metric`, issues)

  const op = value.op
  if (
    typeof op !== 'string' ||
    !(operators as readonly string[]).includes(op)
  ) {
    issues.push({
      code: 'LIST_OPERATOR_UNKNOWN',
      path: `${path}.op`,
      message: `unknown operator ${JSON.stringify(op ?? null)}; use one of ${operators.join(' ')}`,
    })
    return
  }
  validateOperand(op as Operator, value.value, `${path}.value`, issues)
}

function validateRelated(
  value: Record<string, unknown>,
  path: string,
  issues: Issues,
): void {
  if (typeof value.related !== 'string' || value.related === '') {
    issues.push({
      code: 'LIST_FIELD_UNKNOWN',
      path: `${path}.related`,
      message: 'related names a collection: crm.deals, crm.contacts or users',
    })
  }
  for (const key of Object.keys(value)) {
    if (!['related', 'match', 'where', 'count'].includes(key)) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path: `${path}.${key}`,
        message: 'a related condition takes related, match, where and count',
      })
    }
  }
  if (
    value.match !== undefined &&
    !(relatedMatches as readonly unknown[]).includes(value.match)
  ) {
    issues.push({
      code: 'LIST_VALUE_INVALID',
      path: `${path}.match`,
      message: `match is one of ${relatedMatches.join(', ')}`,
    })
  }
  if (value.where !== undefined)
    validateCondition(value.where, `${path}.where`, issues)
  if (value.count !== undefined) {
    const count = value.count
    const numeric = ['=', '!=', '>', '>=', '<', '<=']
    if (
      !isObject(count) ||
      typeof count.op !== 'string' ||
      !numeric.includes(count.op) ||
      typeof count.value !== 'number'
    ) {
      issues.push({
        code: 'LIST_VALUE_INVALID',
        path: `${path}.count`,
        message: `count is { op: ${numeric.join(' | ')}, value: N }`,
      })
    } else if (value.match !== undefined) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path: `${path}.match`,
        message: 'use either match or count, not both',
      })
    }
  }
}

function validateOperand(
  op: Operator,
  value: unknown,
  path: string,
  issues: Issues,
): void {
  const fail = (
    message: string,
    code: ListIssue['code'] = 'LIST_VALUE_INVALID',
  ) => issues.push({ code, path, message })

  switch (op) {
    case 'exists':
    case 'not_exists':
      return
    case 'in':
    case 'not_in':
      if (!Array.isArray(value) || value.length === 0)
        fail(`${op} takes a non-empty list of values`)
      else if (value.some((item) => item !== null && typeof item === 'object'))
        fail(`${op} takes plain values (strings, numbers, booleans)`)
      return
    case 'within':
      if (!isWindowSpec(value)) {
        fail(
          'within takes a duration of at most a century (30d, 12h, 2w, 90m) or a period (today, yesterday, this_week, last_week, this_month, last_month, { last_n_days: N })',
          'LIST_DURATION_INVALID',
        )
      }
      return
    case 'before':
      if (
        typeof value === 'string' &&
        /^\s*\d+(\.\d+)?\s*[mhdw]\s*$/.test(value) &&
        parseDuration(value) === undefined
      ) {
        fail(
          'before takes a duration of at most a century (36500d) or an ISO instant',
          'LIST_DURATION_INVALID',
        )
        return
      }
      if (typeof value !== 'string' || value === '')
        fail(
          'before takes a duration (30d: older than 30 days) or an ISO instant',
        )
      return
    case 'between':
      if (!Array.isArray(value) || value.length !== 2)
        fail('between takes two values: [from, to]')
      return
    default:
      if (
        value === undefined ||
        (value !== null && typeof value === 'object')
      ) {
        fail(`${op} takes one value (a string, number or boolean)`)
      }
  }
}

function validateMetricRef(value: unknown, path: string, issues: Issues): void {
  if (typeof value === 'string') return
  validateMetricSpec(value, path, issues)
}

/** Validates a metric's shape: one kind, its event, window and where. */
export function validateMetricSpec(
  value: unknown,
  path: string,
  issues: Issues,
): void {
  if (!isObject(value)) {
    issues.push({
      code: 'LIST_METRIC_INVALID',
      path,
      message:
        'a metric is an object such as { count: Signed Up, within: 30d } or a named metric',
    })
    return
  }

  const kinds = metricKinds.filter((kind) => kind in value)
  if (kinds.length !== 1) {
    issues.push({
      code: 'LIST_METRIC_INVALID',
      path,
      message: `a metric has exactly one of ${metricKinds.join(', ')}`,
    })
    return
  }

  const kind = kinds[0] as MetricKind
  const allowed = new Set<string>([
    kind,
    'within',
    'where',
    ...(kind === 'sum' ? ['property'] : []),
    ...(kind === 'count' ? ['decay'] : []),
  ])
  for (const key of Object.keys(value)) {
    if (!allowed.has(key))
      issues.push({
        code: 'LIST_METRIC_INVALID',
        path: `${path}.${key}`,
        message: `unknown key for a ${kind} metric`,
      })
  }

  if (kind === 'active_days' || kind === 'users_added') {
    if (value[kind] !== true)
      issues.push({
        code: 'LIST_METRIC_INVALID',
        path: `${path}.${kind}`,
        message: `write ${kind}: true`,
      })
  } else if (typeof value[kind] !== 'string' || value[kind] === '') {
    issues.push({
      code: 'LIST_METRIC_INVALID',
      path: `${path}.${kind}`,
      message: `${kind} names an event, e.g. ${kind}: Signed Up`,
    })
  }
  if (
    kind === 'sum' &&
    (typeof value.property !== 'string' || value.property === '')
  ) {
    issues.push({
      code: 'LIST_METRIC_INVALID',
      path: `${path}.property`,
      message: 'a sum needs the property to add up',
    })
  }
  if (value.within !== undefined && !isWindowSpec(value.within)) {
    issues.push({
      code: 'LIST_DURATION_INVALID',
      path: `${path}.within`,
      message:
        'within takes a duration (30d, 12h, 2w, 90m) or a period (today, this_week, last_month, { last_n_days: N }, ...)',
    })
  }
  if (value.decay !== undefined) {
    const decay = value.decay
    if (
      !isObject(decay) ||
      parseDuration(decay.half_life) === undefined ||
      Object.keys(decay).length !== 1
    ) {
      issues.push({
        code: 'LIST_DURATION_INVALID',
        path: `${path}.decay`,
        message: 'decay is { half_life: DURATION }, e.g. { half_life: 14d }',
      })
    }
  }
  if (value.where !== undefined) {
    if (kind === 'users_added') {
      issues.push({
        code: 'LIST_METRIC_INVALID',
        path: `${path}.where`,
        message: 'users_added counts memberships and takes no event where',
      })
    } else validateCondition(value.where, `${path}.where`, issues)
  }
}

function validateSort(value: unknown, issues: Issues): void {
  if (!Array.isArray(value)) {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path: 'sort',
      message: 'sort is a list of { field | metric, dir }',
    })
    return
  }
  value.forEach((key, index) => {
    const path = `sort[${index}]`
    if (!isObject(key) || 'field' in key === 'metric' in key) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path,
        message: 'a sort key names either a field or a metric',
      })
      return
    }
    if ('metric' in key) validateMetricRef(key.metric, `${path}.metric`, issues)
    if ('field' in key && typeof key.field !== 'string') {
      issues.push({
        code: 'LIST_FIELD_UNKNOWN',
        path: `${path}.field`,
        message: 'field is a name such as account.name',
      })
    }
    if (key.dir !== undefined && key.dir !== 'asc' && key.dir !== 'desc') {
      issues.push({
        code: 'LIST_VALUE_INVALID',
        path: `${path}.dir`,
        message: 'dir is asc or desc',
      })
    }
  })
}

function validateColumns(value: unknown, issues: Issues): void {
  if (!Array.isArray(value)) {
    issues.push({
      code: 'LIST_DEFINITION_INVALID',
      path: 'columns',
      message: 'columns is a list of field names or { field | metric, as }',
    })
    return
  }
  value.forEach((column, index) => {
    const path = `columns[${index}]`
    if (typeof column === 'string') return
    if (!isObject(column) || 'field' in column === 'metric' in column) {
      issues.push({
        code: 'LIST_DEFINITION_INVALID',
        path,
        message: 'a column is a field name or { field | metric, as }',
      })
      return
    }
    if ('field' in column && typeof column.field !== 'string') {
      issues.push({
        code: 'LIST_FIELD_UNKNOWN',
        path: `${path}.field`,
        message: 'field is a name such as account.name',
      })
    }
    if ('metric' in column)
      validateMetricRef(column.metric, `${path}.metric`, issues)
    if (
      column.as !== undefined &&
      (typeof column.as !== 'string' || column.as === '')
    ) {
      issues.push({
        code: 'LIST_VALUE_INVALID',
        path: `${path}.as`,
        message: 'as is the column name',
      })
    }
  })
}
