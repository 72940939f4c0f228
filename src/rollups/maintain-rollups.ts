/**
 * Keeps the rollups exact inside the write transaction that changes what
 * they count: a batch's new events, new memberships (which bring their
 * person's earlier events to the account) and identity links (which move
 * events and memberships between people).
 */
import { addToEventDaySums, addToEventDays } from './attributed-events.js'
import {
  rebuildKeysOfLinks,
  recomputeRollupKeys,
  rollupKeyColumns,
  rollupKeysTable,
  sumsSelect,
} from './rebuild-rollups.js'
import { utcDayStartSql } from './rollup-sql.js'

import type { NormalizedMessage } from '../ingest/normalize-message.js'
import type { IdentityResolution } from '../ingest/resolve-identity.js'
import type { AppendValue, Store } from '../store/store.js'

const dayMs = 86_400_000

/** The UTC midnight starting the day of `instant`. */
export function utcDayStart(instant: Date): Date {
  return new Date(Math.floor(instant.getTime() / dayMs) * dayMs)
}

/**
 * Adds a batch's track events (already appended) to the rollups: counts
 * grouped in JavaScript, then one upsert per rollup for the accounts they
 * name or their person's memberships.
 */
export async function addEventsToRollups(
  store: Store,
  messages: readonly NormalizedMessage[],
  identity: IdentityResolution,
): Promise<void> {
  const groups = new Map<string, AppendValue[]>()
  const tracked = messages.filter((m) => m.type === 'track' && m.event !== null)
  if (tracked.length === 0) return

  for (const message of tracked) {
    const personId = identity.personOf(message) || null
    const day = utcDayStart(message.timestamp)
    const key = [personId, message.contextGroupId, message.event, day.getTime()]
      .map(String)
      .join('\u0000')
    const group = groups.get(key)
    if (group === undefined) {
      groups.set(key, [
        personId,
        message.contextGroupId,
        message.event,
        day,
        1,
        message.timestamp,
        message.timestamp,
      ])
      continue
    }
    group[4] = Number(group[4]) + 1
    if (message.timestamp < (group[5] as Date)) group[5] = message.timestamp
    if (message.timestamp > (group[6] as Date)) group[6] = message.timestamp
  }

  await store.stage(
    'rollup_batch',
    {
      person_id: 'VARCHAR',
      account_id: 'VARCHAR',
      event: 'VARCHAR',
      day: 'TIMESTAMPTZ',
      events: store.sql.types.double,
      first_at: 'TIMESTAMPTZ',
      last_at: 'TIMESTAMPTZ',
    },
    [...groups.values()],
  )
  await store.execute(
    `INSERT INTO account_event_days
     SELECT account_id, event, day, CAST(sum(events) AS BIGINT),
       min(first_at), max(last_at)
     FROM (
       SELECT b.account_id, b.event, b.day, b.events, b.first_at, b.last_at
       FROM ${store.sql.staged('rollup_batch')} b WHERE b.account_id IS NOT NULL
       UNION ALL
       SELECT m.account_id, b.event, b.day, b.events, b.first_at, b.last_at
       FROM ${store.sql.staged('rollup_batch')} b JOIN memberships m ON m.user_id = b.person_id
       WHERE b.account_id IS NULL
     ) a
     GROUP BY 1, 2, 3
     ${addToEventDays}`,
  )

  await addBatchSums(store, tracked, identity)
}

// Sums read the property with the same SQL as raw metrics do, so the batch's
// events of registered names are staged with their properties.
async function addBatchSums(
  store: Store,
  tracked: readonly NormalizedMessage[],
  identity: IdentityResolution,
): Promise<void> {
  const registered = await store.query<{ event: string }>(
    'SELECT DISTINCT event FROM rollup_properties',
  )
  const names = new Set(registered.map((row) => row.event))
  const rows = tracked
    .filter((m) => m.event !== null && names.has(m.event))
    .map((m): AppendValue[] => [
      identity.personOf(m) || null,
      m.contextGroupId,
      m.event,
      m.timestamp,
      JSON.stringify(m.properties),
    ])
  if (rows.length === 0) return

  await store.stage(
    'rollup_batch_properties',
    {
      person_id: 'VARCHAR',
      account_id: 'VARCHAR',
      event: 'VARCHAR',
      timestamp: 'TIMESTAMPTZ',
      properties: store.sql.types.json,
    },
    rows,
  )
  await store.execute(
    `INSERT INTO account_event_day_sums
     ${sumsSelect(
       store.sql,
       `SELECT b.account_id, b.event, b.timestamp, b.properties
        FROM ${store.sql.staged('rollup_batch_properties')} b WHERE b.account_id IS NOT NULL
        UNION ALL
        SELECT m.account_id, b.event, b.timestamp, b.properties
        FROM ${store.sql.staged('rollup_batch_properties')} b
        JOIN memberships m ON m.user_id = b.person_id
        WHERE b.account_id IS NULL`,
       'rollup_properties',
     )}
     ${addToEventDaySums}`,
  )
}

/**
 * Before memberships staged in `<stagedTable>` (user_id, account_id)
 * are inserted: adds to each new one's account the earlier events of its
 * person that name no account. Memberships that already exist change
 * nothing.
 */
export async function addMembershipsToRollups(
  store: Store,
  stagedTable: string,
): Promise<void> {
  const fresh = await store.query<{ user_id: string; account_id: string }>(
    `SELECT DISTINCT s.user_id, s.account_id FROM ${store.sql.staged(stagedTable)} s
     WHERE NOT EXISTS (SELECT 1 FROM memberships m
       WHERE m.user_id = s.user_id AND m.account_id = s.account_id)`,
  )
  if (fresh.length === 0) return

  await store.stage(
    'rollup_new_memberships',
    { user_id: 'VARCHAR', account_id: 'VARCHAR' },
    fresh.map((row) => [row.user_id, row.account_id]),
  )
  const events = `SELECT n.account_id, e.event, e.timestamp, e.properties
    FROM ${store.sql.staged('rollup_new_memberships')} n JOIN events e ON e.person_id = n.user_id
    WHERE e.type = 'track' AND e.event IS NOT NULL AND e.account_id IS NULL`

  await store.execute(
    `INSERT INTO account_event_days
     SELECT a.account_id, a.event, ${utcDayStartSql('a.timestamp')},
       count(*), min(a.timestamp), max(a.timestamp)
     FROM (${events}) a
     GROUP BY 1, 2, 3
     ${addToEventDays}`,
  )
  await store.execute(
    `INSERT INTO account_event_day_sums
     ${sumsSelect(store.sql, events, 'rollup_properties')}
     ${addToEventDaySums}`,
  )
}

/**
 * Before identity links staged in `staged_links` are applied: stages
 * the rollup keys they can change (in each linked group, one person's
 * accounts x the days and names of another's unattributed events; see
 * rebuildKeysOfLinks).
 */
export async function stageRelinkedRollupKeys(store: Store): Promise<void> {
  await store.stage(rollupKeysTable, rollupKeyColumns, [])
  await store.execute(
    rebuildKeysOfLinks(store.sql, store.sql.staged('staged_links')),
  )
}

/** After the links are applied: recomputes the staged keys from raw events. */
export async function recomputeRelinkedRollups(store: Store): Promise<void> {
  await recomputeRollupKeys(store)
}
