/**
 * The catalog of fields a list can filter, sort and show: a namespaced name
 * (`user.email`, `account.employees`, an event property) becomes a SQL
 * expression of a known type. Property names reach SQL only as bound JSON
 * pointers, never as text.
 */
import type { PropertyScope, PropertyTypeMap } from './property-catalog.js'
import type { PropertyType } from './property-type.js'

export type FieldType = Exclude<PropertyType, 'object' | 'array'> | 'json'

export interface ResolvedField {
  sql: string
  type: FieldType
  /** The field reads the user's account (a user list showing account.*). */
  needsUserAccount: boolean
}

export type FieldResolution =
  | { ok: true; field: ResolvedField }
  | {
      ok: false
      code: 'LIST_FIELD_UNKNOWN' | 'LIST_FIELD_NOT_APPLICABLE'
      message: string
    }

export interface FieldContext {
  of: 'users' | 'accounts'
  types: PropertyTypeMap
  /** Binds a value and returns its placeholder. */
  bind(value: string): string
}

const userColumns: Record<string, { sql: string; type: FieldType }> = {
  id: { sql: 'u.user_id', type: 'string' },
  email: { sql: 'u.email', type: 'string' },
  // A user's signup: the imported or identified created_at, else first seen.
  created_at: {
    sql: 'coalesce(u.created_at, u.first_seen_at)',
    type: 'timestamp',
  },
  first_seen: { sql: 'u.first_seen_at', type: 'timestamp' },
  last_seen: { sql: 'u.last_seen_at', type: 'timestamp' },
  is_anonymous: { sql: 'u.is_anonymous', type: 'boolean' },
}

const accountColumns: Record<string, { sql: string; type: FieldType }> = {
  id: { sql: 'a.account_id', type: 'string' },
  name: { sql: 'a.name', type: 'string' },
  domain: { sql: 'a.domain', type: 'string' },
  created_at: {
    sql: 'coalesce(a.created_at, a.first_seen_at)',
    type: 'timestamp',
  },
  first_seen: { sql: 'a.first_seen_at', type: 'timestamp' },
}

/** Resolves `user.*` and `account.*` fields for a list of users or accounts. */
export function resolveField(
  name: string,
  context: FieldContext,
): FieldResolution {
  const [namespace, ...rest] = name.split('.')
  const key = rest.join('.')

  if (namespace === 'user' && key !== '') {
    if (context.of === 'accounts') {
      return {
        ok: false,
        code: 'LIST_FIELD_NOT_APPLICABLE',
        message:
          `${name} is a user field and this is a list of accounts; ` +
          "use a metric over the account's users, or a list of users",
      }
    }
    const column = userColumns[key]
    if (column)
      return { ok: true, field: { ...column, needsUserAccount: false } }

    return resolveProperty('u.traits', 'user', name, key, context, false)
  }

  if (namespace === 'account' && key !== '') {
    const needsUserAccount = context.of === 'users'
    const column = accountColumns[key]
    if (column) return { ok: true, field: { ...column, needsUserAccount } }

    return resolveProperty(
      'a.traits',
      'account',
      name,
      key,
      context,
      needsUserAccount,
    )
  }

  const namespaces = ['user', 'account']
  return {
    ok: false,
    code: 'LIST_FIELD_UNKNOWN',
    message:
      `unknown field ${JSON.stringify(name)}; fields are namespaced: ` +
      `${namespaces.map((n) => `${n}.*`).join(', ')}` +
      ' (crm.*, billing.* and score.* are not available yet)',
  }
}

/** Resolves a bare event property inside a metric's `where`. */
export function resolveEventProperty(
  name: string,
  context: FieldContext,
  hint: unknown,
): ResolvedField {
  const known = context.types.get('event')?.get(name)
  const type = toFieldType(known) ?? typeOfValue(hint)

  return {
    sql: typedJson('e.properties', context.bind(toJsonPointer(name)), type),
    type,
    needsUserAccount: false,
  }
}

function resolveProperty(
  column: string,
  scope: PropertyScope,
  name: string,
  key: string,
  context: FieldContext,
  needsUserAccount: boolean,
): FieldResolution {
  const known = context.types.get(scope)
  const type = toFieldType(known?.get(key))
  if (type === undefined) {
    const names = [...(known?.keys() ?? [])].sort().slice(0, 30)
    const builtIn = Object.keys(scope === 'user' ? userColumns : accountColumns)
    return {
      ok: false,
      code: 'LIST_FIELD_UNKNOWN',
      message:
        `unknown field ${JSON.stringify(name)}; known ${scope} fields: ` +
        [...builtIn, ...names].map((n) => `${scope}.${n}`).join(', '),
    }
  }

  return {
    ok: true,
    field: {
      sql: typedJson(column, context.bind(toJsonPointer(key)), type),
      type,
      needsUserAccount,
    },
  }
}

/** SQL reading one JSON property as `type`; a value that does not fit is NULL. */
export function typedJson(
  column: string,
  pointer: string,
  type: FieldType,
): string {
  const text = `json_extract_string(${column}, ${pointer})`
  switch (type) {
    case 'number':
      return `TRY_CAST(${text} AS DOUBLE)`
    case 'boolean':
      return `TRY_CAST(${text} AS BOOLEAN)`
    case 'timestamp':
      return `TRY_CAST(${text} AS TIMESTAMPTZ)`
    case 'json':
      return `json_extract(${column}, ${pointer})`
    default:
      return text
  }
}

/**
 * A JSON pointer for a dotted property path (RFC 6901 escaping).
 * @example toJsonPointer('plan.tier') // '/plan/tier'
 */
export function toJsonPointer(path: string): string {
  return path
    .split('.')
    .map((part) => `/${part.replaceAll('~', '~0').replaceAll('/', '~1')}`)
    .join('')
}

function toFieldType(type: PropertyType | undefined): FieldType | undefined {
  if (type === undefined) return undefined
  if (type === 'object' || type === 'array') return 'json'

  return type
}

function typeOfValue(value: unknown): FieldType {
  const sample = Array.isArray(value) ? value[0] : value
  if (typeof sample === 'number') return 'number'
  if (typeof sample === 'boolean') return 'boolean'

  return 'string'
}
