/**
 * Rollups rebuilt from the raw events: all of them (a store filled by
 * other means than ingestion, or a repair), or only some keys (after an
 * identity link moved events between people).
 */
import {
  addToEventDaySums,
  addToEventDays,
  attributedEventsSql,
} from './attributed-events.js'
import { numericPropertySql, utcDayStartSql } from './rollup-sql.js'

import type { SqlDialect } from '../store/sql-dialect.js'
import type { Store } from '../store/store.js'

/** Staging table of rollup keys to recompute: (account_id, event, day). */
export const rollupKeysTable = 'rollup_keys'

export const rollupKeyColumns = {
  account_id: 'VARCHAR',
  event: 'VARCHAR',
  day: 'TIMESTAMPTZ',
} as const

/** Days of events rebuilt per transaction: bounds the memory a rebuild takes. */
const sliceDays = 7

/**
 * Replaces every rollup row with one computed from the raw events, a slice
 * of whole UTC days per transaction: one transaction over a 50M-event store
 * overruns DuckDB's memory limit at commit. Each slice is replaced whole
 * (ingestion may run in between; a slice read later counts its events), so
 * the rollups are right slice by slice and all of them once it returns.
 */
export async function rebuildRollups(store: Store): Promise<void> {
  const [range] = await store.query<{
    first: string | null
    last: string | null
  }>(
    `SELECT min(timestamp) AS first, max(timestamp) AS last FROM events
     WHERE type = 'track' AND event IS NOT NULL`,
  )
  const day = 86_400_000
  const first =
    range?.first == null ? 0 : Math.floor(Date.parse(range.first) / day) * day
  const end = range?.last == null ? 0 : Date.parse(range.last) + 1

  // Rows of days no event falls in any more.
  await store.transaction(async () => {
    for (const table of ['account_event_days', 'account_event_day_sums']) {
      await store.execute(`DELETE FROM ${table} WHERE day < $1 OR day >= $2`, [
        new Date(first),
        new Date(end),
      ])
    }
  })

  const attributed = attributedEventsSql({
    events: 'e.timestamp >= $1 AND e.timestamp < $2',
  })
  for (let start = first; start < end; start += sliceDays * day) {
    const bounds = [new Date(start), new Date(start + sliceDays * day)]
    await store.transaction(async () => {
      for (const table of ['account_event_days', 'account_event_day_sums']) {
        await store.execute(
          `DELETE FROM ${table} WHERE day >= $1 AND day < $2`,
          bounds,
        )
      }
      await store.execute(
        `INSERT INTO account_event_days
         SELECT a.account_id, a.event, ${utcDayStartSql('a.timestamp')},
           count(*), min(a.timestamp), max(a.timestamp)
         FROM (${attributed}) a
         GROUP BY 1, 2, 3`,
        bounds,
      )
      await store.execute(
        `INSERT INTO account_event_day_sums ${sumsSelect(store.sql, attributed, 'rollup_properties')}`,
        bounds,
      )
    })
  }

  // PostgreSQL plans from statistics and reads its covering index without
  // the table only where the visibility map says so; after rewriting every
  // row, both would wait for autovacuum, which may take minutes. (Each slice
  // commits on its own, so this never runs inside a caller's transaction.)
  if (store.dialect === 'postgres') {
    await store.execute('VACUUM (ANALYZE) account_event_days')
    await store.execute('VACUUM (ANALYZE) account_event_day_sums')
  }
}

/**
 * SELECT of sums rows from attributed events `a` for the (event, property)
 * pairs of `pairsTable`; days with no numeric value are left out.
 */
export function sumsSelect(
  sql: SqlDialect,
  attributed: string,
  pairsTable: string,
): string {
  const value = numericPropertySql(
    sql,
    'a.properties',
    sql.jsonPathOfKey('r.property'),
  )

  return `SELECT a.account_id, a.event, r.property,
      ${utcDayStartSql('a.timestamp')} AS day, sum(${value}) AS total
    FROM (${attributed}) a JOIN ${pairsTable} r ON r.event = a.event
    GROUP BY 1, 2, 3, 4
    HAVING sum(${value}) IS NOT NULL`
}

/**
 * Recomputes from raw events the rollup rows of the keys staged in
 * `rollup_keys` (inside the caller's transaction).
 */
export async function recomputeRollupKeys(store: Store): Promise<void> {
  const keys = store.sql.staged(rollupKeysTable)
  const [range] = await store.query<{
    first: string | null
    last: string | null
  }>(`SELECT min(day) AS first, max(day) AS last FROM ${keys}`)
  if (range?.first == null || range.last == null) return

  // Bounding the scan by time lets the store skip blocks of other days.
  const attributed = attributedEventsSql({
    events: `e.timestamp >= $1 AND e.timestamp < $2`,
    accounts: (column) => `${column} IN (SELECT account_id FROM ${keys})`,
  })
  const bounds = [
    new Date(range.first),
    new Date(new Date(range.last).getTime() + 86_400_000),
  ]
  const keyMatch = `k.account_id = a.account_id AND k.event = a.event
      AND a.timestamp >= k.day AND a.timestamp < k.day + INTERVAL '24 hours'`

  for (const table of ['account_event_days', 'account_event_day_sums']) {
    await store.execute(
      `DELETE FROM ${table} USING ${keys} k
       WHERE ${table}.account_id = k.account_id
         AND ${table}.event = k.event AND ${table}.day = k.day`,
    )
  }
  await store.execute(
    `INSERT INTO account_event_days
     SELECT a.account_id, a.event, k.day,
       count(*), min(a.timestamp), max(a.timestamp)
     FROM (${attributed}) a JOIN (SELECT DISTINCT * FROM ${keys}) k ON ${keyMatch}
     GROUP BY 1, 2, 3
     ${addToEventDays}`,
    bounds,
  )

  await store.execute(
    `INSERT INTO account_event_day_sums
     ${sumsSelect(
       store.sql,
       `SELECT a.* FROM (${attributed}) a
        JOIN (SELECT DISTINCT * FROM ${keys}) k ON ${keyMatch}`,
       'rollup_properties',
     )}
     ${addToEventDaySums}`,
    bounds,
  )
}

/**
 * INSERT staging the rollup keys that links in `linksTable` (alias_id,
 * user_id) can change. A link merges a user and its aliases into one
 * person, so each one's events naming no account gain the accounts of the
 * others: the keys are, per linked user, the accounts of one of the people
 * x the (event, day) of the events of another. An event and an account of
 * the same person were counted together before and still are, so they
 * stage nothing: linking a fresh anonymous id (no events, no accounts yet)
 * to a user with a long history recomputes nothing, where staging every
 * account x every event day of the user made each such link rescan the
 * user's accounts' activity (on PostgreSQL, 4.4 s for a batch of 2,000
 * such links to users of 2,000 events each; 0.48 s now).
 */
export function rebuildKeysOfLinks(
  sql: SqlDialect,
  linksTable: string,
): string {
  const people = `SELECT alias_id AS person_id, user_id AS linked_to
    FROM ${linksTable}
    UNION SELECT user_id, user_id FROM ${linksTable}`

  return `INSERT INTO ${sql.staged(rollupKeysTable)}
    SELECT DISTINCT a.account_id, d.event, d.day
    FROM (SELECT DISTINCT p.linked_to, p.person_id, m.account_id
      FROM (${people}) p JOIN memberships m ON m.user_id = p.person_id) a
    JOIN (SELECT DISTINCT p.linked_to, p.person_id, e.event,
        ${utcDayStartSql('e.timestamp')} AS day
      FROM (${people}) p JOIN events e ON e.person_id = p.person_id
      WHERE e.type = 'track' AND e.event IS NOT NULL
        AND e.account_id IS NULL) d
    ON d.linked_to = a.linked_to AND d.person_id <> a.person_id`
}
