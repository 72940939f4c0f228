/**
 * The registry of numeric properties that rollups sum: the (event,
 * property) pairs of `{ sum: E, property: P }` metrics in saved
 * definitions. A pair is backfilled from raw events when registered; a sum
 * on a pair not registered reads raw events.
 */
import { addToEventDaySums, attributedEventsSql } from './attributed-events.js'
import { sumsSelect } from './rebuild-rollups.js'

import type { Store } from '../store/store.js'

export interface SumProperty {
  event: string
  property: string
}

/** The key of a pair in {@link readRollupProperties}' set. */
export function sumPropertyKey(event: string, property: string): string {
  return `${event}\u0000${property}`
}

/** The registered pairs, as {@link sumPropertyKey} keys. */
export async function readRollupProperties(store: Store): Promise<Set<string>> {
  const rows = await store.query<SumProperty>(
    'SELECT event, property FROM rollup_properties',
  )

  return new Set(rows.map((row) => sumPropertyKey(row.event, row.property)))
}

/**
 * Every `{ sum, property }` metric inside a definition, at any depth.
 * @example findSumProperties({ sort: [{ metric: { sum: 'Paid', property: 'usd' } }] })
 * // [{ event: 'Paid', property: 'usd' }]
 */
export function findSumProperties(definition: unknown): SumProperty[] {
  const found: SumProperty[] = []
  const visit = (value: unknown, depth: number) => {
    if (depth > 64 || value === null || typeof value !== 'object') return
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1)
      return
    }

    const record = value as Record<string, unknown>
    if (typeof record.sum === 'string' && typeof record.property === 'string') {
      found.push({ event: record.sum, property: record.property })
    }
    for (const child of Object.values(record)) visit(child, depth + 1)
  }
  visit(definition, 0)

  return found
}

/**
 * Registers pairs not yet registered and backfills their sums from raw
 * events, inside the caller's transaction.
 */
export async function registerRollupProperties(
  store: Store,
  pairs: readonly SumProperty[],
): Promise<void> {
  const known = await readRollupProperties(store)
  const fresh = new Map<string, SumProperty>()
  for (const pair of pairs) {
    const key = sumPropertyKey(pair.event, pair.property)
    if (!known.has(key)) fresh.set(key, pair)
  }
  if (fresh.size === 0) return

  await store.stage(
    'rollup_new_properties',
    { event: 'VARCHAR', property: 'VARCHAR' },
    [...fresh.values()].map((pair) => [pair.event, pair.property]),
  )
  const staged = store.sql.staged('rollup_new_properties')
  await store.execute(
    `INSERT INTO rollup_properties
     SELECT event, property, $1 FROM ${staged}`,
    [new Date()],
  )
  await store.execute(
    `INSERT INTO account_event_day_sums
     ${sumsSelect(
       store.sql,
       attributedEventsSql({
         events: `e.event IN (SELECT event FROM ${staged})`,
       }),
       staged,
     )}
     ${addToEventDaySums}`,
  )
}
