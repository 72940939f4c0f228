/**
 * Compiles one comparison (`expression op value`) for a field or metric of
 * a known type: values become bound parameters of that type, `$me` the
 * signed-in person's email, and an operator that does not fit the type an
 * issue naming the ones that do.
 */
import { parseZonedIsoInstant } from '../ingest/parse-instant.js'
import { timeFilter } from './compile-metric.js'
import { reportIssue } from './compile-context.js'
import { resolveWindow } from './time-window.js'

import type { FieldType } from '../catalog/resolve-field.js'
import type { SqlParam } from '../store/store.js'
import type { CompileContext } from './compile-context.js'
import type { Operator } from './list-definition.js'

/** SQL comparing `expression` (of `type`) with a definition value. */
export function compileComparison(
  context: CompileContext,
  expression: string,
  type: FieldType,
  op: Operator,
  rawValue: unknown,
  path: string,
): string {
  const valuePath = `${path}.value`
  const value = (v: unknown, at = valuePath) =>
    context.bindValue(toParam(context, v, type, at))
  const mismatch = () => typeMismatch(context, op, type, `${path}.op`)

  switch (op) {
    case 'exists':
      return `(${expression} IS NOT NULL)`
    case 'not_exists':
      return `(${expression} IS NULL)`
    case '=':
      if (rawValue === null) return `(${expression} IS NULL)`
      return `(${expression} = ${value(rawValue)})`
    case '!=':
      if (rawValue === null) return `(${expression} IS NOT NULL)`
      // A missing value differs from any value.
      return `(${expression} IS DISTINCT FROM ${value(rawValue)})`
    case '>':
    case '>=':
    case '<':
    case '<=':
      if (type === 'boolean' || type === 'json') return mismatch()
      return `(${expression} ${op} ${value(rawValue)})`
    case 'in':
    case 'not_in': {
      // null in the list means "no value"; the rest compare as values.
      const list = rawValue as unknown[]
      const hasNull = list.includes(null)
      const items = list.flatMap((item, index) =>
        item === null ? [] : [value(item, `${valuePath}[${index}]`)],
      )
      const isIn =
        items.length === 0 ? 'FALSE' : `${expression} IN (${items.join(', ')})`
      if (op === 'in')
        return `(${isIn}${hasNull ? ` OR ${expression} IS NULL` : ''})`
      const isNotIn =
        items.length === 0
          ? 'TRUE'
          : `${expression} NOT IN (${items.join(', ')})`
      return hasNull
        ? `(${expression} IS NOT NULL AND ${isNotIn})`
        : `(${expression} IS NULL OR ${isNotIn})`
    }
    case 'contains':
    case 'starts_with': {
      if (type !== 'string') return mismatch()
      const needle = value(rawValue)
      return op === 'contains'
        ? `(strpos(lower(${expression}), lower(${needle})) > 0)`
        : `starts_with(lower(${expression}), lower(${needle}))`
    }
    case 'within': {
      if (type !== 'timestamp') return mismatch()
      const window = resolveWindow(rawValue, context.options.asOf, context.zone)
      return `(${timeFilter(expression, window, context)})`
    }
    case 'before': {
      if (type !== 'timestamp') return mismatch()
      const isDuration =
        typeof rawValue === 'string' &&
        /^\d+(\.\d+)?\s*[mhdw]$/.test(rawValue.trim())
      // `before: 30d` means older than 30 days; `before: <instant>` earlier than it.
      if (!isDuration) return `(${expression} < ${value(rawValue)})`
      const window = resolveWindow(rawValue, context.options.asOf, context.zone)
      return `(${expression} <= ${context.bindValue(window.start)})`
    }
    case 'between': {
      if (type === 'boolean' || type === 'json' || type === 'string')
        return mismatch()
      const [from, to] = rawValue as unknown[]
      if (
        from === null ||
        to === null ||
        from === undefined ||
        to === undefined
      ) {
        return reportIssue(
          context,
          'LIST_VALUE_INVALID',
          valuePath,
          'between takes two values, neither null: [from, to]',
        )
      }
      return `(${expression} >= ${value(from, `${valuePath}[0]`)} AND ${expression} <= ${value(to, `${valuePath}[1]`)})`
    }
  }
}

const operatorsByType: Record<FieldType, string> = {
  string: '= != > >= < <= in not_in contains starts_with exists not_exists',
  number: '= != > >= < <= in not_in between exists not_exists',
  boolean: '= != in not_in exists not_exists',
  timestamp: '= != > >= < <= within before between exists not_exists',
  json: 'exists not_exists',
}

function typeMismatch(
  context: CompileContext,
  op: Operator,
  type: FieldType,
  path: string,
): string {
  return reportIssue(
    context,
    'LIST_OPERATOR_TYPE',
    path,
    `${op} does not apply to a ${type} field; use one of ${operatorsByType[type]}`,
  )
}

// A definition value as a parameter of the field's type; `$me` is the
// signed-in person's email.
function toParam(
  context: CompileContext,
  raw: unknown,
  type: FieldType,
  path: string,
): SqlParam {
  let value = raw
  if (value === '$me') {
    if (context.options.me === undefined) {
      reportIssue(
        context,
        'LIST_ME_UNBOUND',
        path,
        '$me needs a signed-in person (--as EMAIL on the command line)',
      )
      return null
    }
    value = context.options.me.toLowerCase()
  }
  const invalid = (expected: string): SqlParam => {
    reportIssue(
      context,
      'LIST_VALUE_INVALID',
      path,
      `${JSON.stringify(value)} is not ${expected}`,
    )
    return null
  }

  if (value === null) return null
  switch (type) {
    case 'number': {
      // Only decimal notation: "0x10" or "1e" are not numbers a person meant.
      const number =
        typeof value === 'number'
          ? value
          : typeof value === 'string' &&
              /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(value)
            ? Number(value)
            : Number.NaN
      return Number.isFinite(number) ? number : invalid('a number')
    }
    case 'boolean':
      if (typeof value === 'boolean') return value
      if (value === 'true' || value === 'false') return value === 'true'
      return invalid('true or false')
    case 'timestamp':
      return (
        parseZonedIsoInstant(value) ??
        invalid('an ISO 8601 instant with a zone (e.g. 2025-01-01T00:00:00Z)')
      )
    default:
      if (
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean'
      )
        return String(value)
      return invalid('a string')
  }
}
