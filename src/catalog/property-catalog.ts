/**
 * The store's memory of property types, per scope (`user`, `account`,
 * `event`, `crm_company`, ...): read, and extended with first-seen types.
 */
import type { Store } from '../store/store.js'
import type { PropertyType } from './property-type.js'

export type PropertyScope =
  | 'user'
  | 'account'
  | 'event'
  | 'crm_company'
  | 'crm_contact'
  | 'crm_deal'
  | 'crm_owner'
  | 'billing'

/** scope -> property name -> type */
export type PropertyTypeMap = Map<PropertyScope, Map<string, PropertyType>>

// Types change rarely and only grow; a short cache saves a query per write.
// Other processes sharing a server store see new types within the TTL.
const cacheTtlMs = 5_000
const cache = new WeakMap<Store, { types: PropertyTypeMap; readAt: number }>()

/** Reads the recorded types of every property (cached for a few seconds). */
export async function readPropertyTypes(
  store: Store,
): Promise<PropertyTypeMap> {
  const cached = cache.get(store)
  if (cached !== undefined && Date.now() - cached.readAt < cacheTtlMs) {
    return cached.types
  }

  const types = await queryPropertyTypes(store)
  // Read inside a transaction, types may not survive it: cache once committed.
  store.afterCommit(() => cache.set(store, { types, readAt: Date.now() }))

  return types
}

async function queryPropertyTypes(
  store: Store,
  scope?: PropertyScope,
): Promise<PropertyTypeMap> {
  const rows = await store.query<{
    scope: PropertyScope
    name: string
    type: PropertyType
  }>(
    scope === undefined
      ? 'SELECT scope, name, type FROM property_types'
      : 'SELECT scope, name, type FROM property_types WHERE scope = $1',
    scope === undefined ? [] : [scope],
  )

  const map: PropertyTypeMap = new Map()
  for (const row of rows) {
    const inner = map.get(row.scope) ?? new Map<string, PropertyType>()
    inner.set(row.name, row.type)
    map.set(row.scope, inner)
  }

  return map
}

/** Records types of properties seen for the first time; known ones stay. */
export async function recordPropertyTypes(
  store: Store,
  seen: PropertyTypeMap,
  at: Date,
): Promise<void> {
  const rows: [string, string, string, Date][] = []
  for (const [scope, names] of seen) {
    for (const [name, type] of names) rows.push([scope, name, type, at])
  }
  if (rows.length === 0) return

  await store.stage(
    'staged_property_types',
    {
      scope: 'VARCHAR',
      name: 'VARCHAR',
      type: 'VARCHAR',
      first_seen_at: 'TIMESTAMPTZ',
    },
    rows,
  )
  await store.execute(
    `INSERT INTO property_types SELECT * FROM ${store.sql.staged('staged_property_types')} ` +
      'ON CONFLICT DO NOTHING',
  )
  // Until the transaction commits, only this process may see these types;
  // a rollback makes the cache wrong, so it is dropped rather than merged.
  cache.delete(store)
  // A read earlier in this transaction caches at commit; this runs after it.
  store.afterCommit(() => cache.delete(store))
}
