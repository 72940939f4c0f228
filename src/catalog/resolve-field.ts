/**
 * The catalog of fields a list can filter, sort and show: a namespaced name
 * (`user.email`, `account.employees`, `crm.owner.email`, an event property)
 * becomes a SQL expression of a known type and the joins it needs. Property
 * names reach SQL only as bound JSON pointers, never as text.
 */
import { ownProperty } from './own-property.js'
import type { PropertyScope, PropertyTypeMap } from './property-catalog.js'
import type { PropertyType } from './property-type.js'
import type { SqlDialect } from '../store/sql-dialect.js'
import type { SqlParam } from '../store/store.js'

export type FieldType = Exclude<PropertyType, 'object' | 'array'> | 'json'

/** Joins a field may need beyond the list's own entity table. */
export type JoinName =
  'user_account' | 'account_company' | 'user_contact' | 'owner' | 'billing'

export interface ResolvedField {
  sql: string
  type: FieldType
  joins: JoinName[]
  isEmail?: boolean
  /** The only values the field takes (e.g. a quadrant), for validation. */
  allowedValues?: readonly string[]
}

export type FieldIssueCode = 'LIST_FIELD_UNKNOWN' | 'LIST_FIELD_NOT_APPLICABLE'

export type FieldResolution =
  | { ok: true; field: ResolvedField }
  | { ok: false; code: FieldIssueCode; message: string }

export interface FieldContext {
  of: 'users' | 'accounts'
  types: PropertyTypeMap
  /** The store's SQL where dialects differ. */
  sql: SqlDialect
  /** Binds a value and returns its placeholder. */
  bindValue(value: SqlParam): string
}

interface Column {
  sql: string
  type: FieldType
  /** Emails compare case-insensitively: values are lower-cased to match. */
  isEmail?: boolean
}

const userColumns: Record<string, Column> = {
  id: { sql: 'u.user_id', type: 'string' },
  email: { sql: 'u.email', type: 'string', isEmail: true },
  // A user's signup: the imported or identified created_at, else first seen.
  created_at: {
    sql: 'coalesce(u.created_at, u.first_seen_at)',
    type: 'timestamp',
  },
  first_seen: { sql: 'u.first_seen_at', type: 'timestamp' },
  last_seen: { sql: 'u.last_seen_at', type: 'timestamp' },
  is_anonymous: { sql: 'u.is_anonymous', type: 'boolean' },
}

const accountColumns: Record<string, Column> = {
  id: { sql: 'a.account_id', type: 'string' },
  name: { sql: 'a.name', type: 'string' },
  domain: { sql: 'a.domain', type: 'string' },
  created_at: {
    sql: 'coalesce(a.created_at, a.first_seen_at)',
    type: 'timestamp',
  },
  first_seen: { sql: 'a.first_seen_at', type: 'timestamp' },
}

const companyColumns: Record<string, Column> = {
  id: { sql: 'cc.company_id', type: 'string' },
  name: { sql: 'cc.name', type: 'string' },
  domain: { sql: 'cc.domain', type: 'string' },
  owner_id: { sql: 'cc.owner_id', type: 'string' },
}

const contactColumns: Record<string, Column> = {
  id: { sql: 'ct.contact_id', type: 'string' },
  email: { sql: 'lower(ct.email)', type: 'string', isEmail: true },
  company_id: { sql: 'ct.company_id', type: 'string' },
  owner_id: { sql: 'ct.owner_id', type: 'string' },
}

const ownerColumns: Record<string, Column> = {
  id: { sql: 'co.owner_id', type: 'string' },
  // Lower-cased, so `$me` (a lower-cased email) compares exactly.
  email: { sql: 'lower(co.email)', type: 'string', isEmail: true },
  name: { sql: 'co.name', type: 'string' },
}

// The account's billing: its best subscription (active, then trialing,
// then past due, then the latest) and the MRR of all its live ones.
const billingColumns: Record<string, Column> = {
  plan: { sql: 'bl.plan', type: 'string' },
  status: { sql: 'bl.status', type: 'string' },
  mrr: { sql: 'coalesce(bl.mrr, 0)', type: 'number' },
  trial_end: { sql: 'bl.trial_end', type: 'timestamp' },
  current_period_end: { sql: 'bl.current_period_end', type: 'timestamp' },
  customer_id: { sql: 'bl.customer_id', type: 'string' },
  currency: { sql: 'bl.currency', type: 'string' },
}

/** Columns of each related collection, for bare names inside `related:`. */
export const relatedColumns = {
  'crm.deals': {
    alias: 'd',
    bag: 'd.properties',
    scope: 'crm_deal' as PropertyScope,
    columns: {
      id: { sql: 'd.deal_id', type: 'string' },
      stage: { sql: 'd.stage', type: 'string' },
      amount: { sql: 'd.amount', type: 'number' },
      created_at: { sql: 'd.created_at', type: 'timestamp' },
      closed_at: { sql: 'd.closed_at', type: 'timestamp' },
      // When the deal ended, or started if it has no close date.
      closed_or_created_at: {
        sql: 'coalesce(d.closed_at, d.created_at)',
        type: 'timestamp',
      },
      owner_id: { sql: 'd.owner_id', type: 'string' },
    } as Record<string, Column>,
  },
  'crm.contacts': {
    alias: 'rc',
    bag: 'rc.properties',
    scope: 'crm_contact' as PropertyScope,
    columns: {
      id: { sql: 'rc.contact_id', type: 'string' },
      email: { sql: 'lower(rc.email)', type: 'string', isEmail: true },
      owner_id: { sql: 'rc.owner_id', type: 'string' },
    } as Record<string, Column>,
  },
  'billing.subscriptions': {
    alias: 'bsub',
    bag: "'{}'",
    scope: 'billing' as PropertyScope,
    columns: {
      id: { sql: 'bsub.subscription_id', type: 'string' },
      status: { sql: 'bsub.status', type: 'string' },
      plan: { sql: 'bsub.plan', type: 'string' },
      mrr: { sql: 'bsub.mrr', type: 'number' },
      quantity: { sql: 'bsub.quantity', type: 'number' },
      trial_end: { sql: 'bsub.trial_end', type: 'timestamp' },
      canceled_at: { sql: 'bsub.canceled_at', type: 'timestamp' },
      created_at: { sql: 'bsub.created_at', type: 'timestamp' },
    } as Record<string, Column>,
  },
  'billing.invoices': {
    alias: 'binv',
    bag: "'{}'",
    scope: 'billing' as PropertyScope,
    columns: {
      id: { sql: 'binv.invoice_id', type: 'string' },
      status: { sql: 'binv.status', type: 'string' },
      amount_paid: { sql: 'binv.amount_paid', type: 'number' },
      amount_due: { sql: 'binv.amount_due', type: 'number' },
      paid_at: { sql: 'binv.paid_at', type: 'timestamp' },
      created_at: { sql: 'binv.created_at', type: 'timestamp' },
    } as Record<string, Column>,
  },
  users: {
    alias: 'ru',
    bag: 'ru.traits',
    scope: 'user' as PropertyScope,
    columns: {
      id: { sql: 'ru.user_id', type: 'string' },
      email: { sql: 'ru.email', type: 'string', isEmail: true },
      created_at: {
        sql: 'coalesce(ru.created_at, ru.first_seen_at)',
        type: 'timestamp',
      },
      first_seen: { sql: 'ru.first_seen_at', type: 'timestamp' },
      last_seen: { sql: 'ru.last_seen_at', type: 'timestamp' },
      is_anonymous: { sql: 'ru.is_anonymous', type: 'boolean' },
    } as Record<string, Column>,
  },
} as const

export type RelationName = keyof typeof relatedColumns

export const relationNames = Object.keys(relatedColumns) as RelationName[]

const namespaceHelp =
  'fields are user.*, account.*, crm.company.*, crm.contact.* (users), ' +
  'crm.owner.{id,email,name}, billing.*, score.<name>.*; related records ' +
  '(crm.deals, crm.contacts, billing.subscriptions, billing.invoices, ' +
  'users) are filtered with { related: ..., where: ... }'

/** Resolves a namespaced field for a list of users or accounts. */
export function resolveField(
  name: string,
  context: FieldContext,
): FieldResolution {
  const parts = name.split('.')
  const [namespace] = parts

  if (namespace === 'user' && parts.length > 1) {
    if (context.of === 'accounts') {
      return notApplicable(
        `${name} is a user field and this is a list of accounts; use a ` +
          "metric over the account's users or { related: users, where: ... }",
      )
    }
    return resolveIn(
      name,
      parts.slice(1).join('.'),
      userColumns,
      'u.traits',
      'user',
      [],
      context,
    )
  }

  if (namespace === 'account' && parts.length > 1) {
    const joins: JoinName[] = context.of === 'users' ? ['user_account'] : []
    return resolveIn(
      name,
      parts.slice(1).join('.'),
      accountColumns,
      'a.traits',
      'account',
      joins,
      context,
    )
  }

  if (namespace === 'crm' && parts.length > 2) {
    const [, object] = parts
    const key = parts.slice(2).join('.')
    const accountJoins: JoinName[] =
      context.of === 'users'
        ? ['user_account', 'account_company']
        : ['account_company']

    if (object === 'company') {
      return resolveIn(
        name,
        key,
        companyColumns,
        'cc.properties',
        'crm_company',
        accountJoins,
        context,
      )
    }
    if (object === 'contact') {
      if (context.of === 'accounts') {
        return notApplicable(
          `${name} is a contact field; on a list of accounts use { related: crm.contacts, where: ... }`,
        )
      }
      return resolveIn(
        name,
        key,
        contactColumns,
        'ct.properties',
        'crm_contact',
        ['user_contact'],
        context,
      )
    }
    if (object === 'owner') {
      const column = ownProperty(ownerColumns, key)
      const joins: JoinName[] =
        context.of === 'users'
          ? ['user_contact', 'user_account', 'account_company', 'owner']
          : ['account_company', 'owner']
      if (column !== undefined) return { ok: true, field: { ...column, joins } }
      return unknown(
        `unknown field ${JSON.stringify(name)}; owner fields: crm.owner.id, crm.owner.email, crm.owner.name`,
      )
    }
  }

  if (namespace === 'billing' && parts.length === 2) {
    const column = ownProperty(billingColumns, parts[1] ?? '')
    const joins: JoinName[] =
      context.of === 'users' ? ['user_account', 'billing'] : ['billing']
    if (column !== undefined) return { ok: true, field: { ...column, joins } }
    return unknown(
      `unknown field ${JSON.stringify(name)}; billing fields: ` +
        Object.keys(billingColumns)
          .map((n) => `billing.${n}`)
          .join(', ') +
        '; subscriptions and invoices: { related: billing.subscriptions | billing.invoices, where: ... }',
    )
  }

  return unknown(`unknown field ${JSON.stringify(name)}; ${namespaceHelp}`)
}

/** Resolves a bare name inside `{ related: R, where: ... }`. */
export function resolveRelatedField(
  relation: RelationName,
  name: string,
  context: FieldContext,
): FieldResolution {
  const spec = relatedColumns[relation]
  return resolveIn(name, name, spec.columns, spec.bag, spec.scope, [], context)
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
    sql: typedJson(context, 'e.properties', name.split('.'), type),
    type,
    joins: [],
  }
}

function resolveIn(
  name: string,
  key: string,
  columns: Record<string, Column>,
  bag: string,
  scope: PropertyScope,
  joins: JoinName[],
  context: FieldContext,
): FieldResolution {
  const column = ownProperty(columns, key)
  if (column !== undefined) return { ok: true, field: { ...column, joins } }

  const known = context.types.get(scope)
  const type = toFieldType(known?.get(key))
  if (type === undefined) {
    const prefix = name.slice(0, name.length - key.length)
    const names = [
      ...new Set([
        ...Object.keys(columns),
        ...[...(known?.keys() ?? [])].sort(),
      ]),
    ].slice(0, 40)
    return unknown(
      `unknown field ${JSON.stringify(name)}; known: ` +
        names.map((n) => `${prefix}${n}`).join(', '),
    )
  }

  return {
    ok: true,
    field: {
      sql: typedJson(context, bag, key.split('.'), type),
      type,
      joins,
    },
  }
}

function unknown(message: string): FieldResolution {
  return { ok: false, code: 'LIST_FIELD_UNKNOWN', message }
}

function notApplicable(message: string): FieldResolution {
  return { ok: false, code: 'LIST_FIELD_NOT_APPLICABLE', message }
}

/**
 * SQL reading the property at `keys` of a JSON column as `type`; a value
 * that does not fit is NULL. The keys reach SQL only as a bound value.
 */
export function typedJson(
  context: Pick<FieldContext, 'sql' | 'bindValue'>,
  column: string,
  keys: readonly string[],
  type: FieldType,
): string {
  const { sql } = context
  const path = context.bindValue(sql.jsonPath(keys))
  const text = sql.jsonText(column, path)
  switch (type) {
    case 'number':
      return sql.tryCast(text, 'double')
    case 'boolean':
      return sql.tryCast(text, 'boolean')
    case 'timestamp':
      return sql.tryCast(text, 'timestamp')
    case 'json':
      return sql.jsonValue(column, path)
    default:
      return text
  }
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
