/**
 * Membership history of saved lists: each evaluation of the whole list is
 * compared with the members recorded before it; who entered and who left is
 * written with the evaluation's asOf. Evaluations older than the last one
 * recorded change nothing (a backdated run does not rewrite history).
 */
import type { Store } from '../store/store.js'

export interface ListChange {
  entityId: string
  change: 'entered' | 'left'
  at: string
  viewer: string
}

/** Records the members found at `asOf`; returns who entered and left. */
export async function recordListMembership(
  store: Store,
  listName: string,
  viewer: string,
  ids: readonly string[],
  asOf: Date,
): Promise<{ entered: number; left: number; recorded: boolean }> {
  return store.transaction(async () => {
    const last = await store.query<{ evaluated_at: string }>(
      'SELECT evaluated_at FROM list_evaluations WHERE list_name = $1 AND viewer = $2',
      [listName, viewer],
    )
    const lastAt =
      last[0] === undefined ? undefined : new Date(last[0].evaluated_at)
    if (lastAt !== undefined && asOf < lastAt) {
      return { entered: 0, left: 0, recorded: false }
    }

    await store.stage(
      'staged_list_ids',
      { entity_id: 'VARCHAR' },
      [...new Set(ids)].map((id) => [id]),
    )
    const staged = store.sql.staged('staged_list_ids')
    const entered = await store.query(
      `INSERT INTO list_changes
       SELECT CAST($1 AS VARCHAR), CAST($2 AS VARCHAR), s.entity_id, 'entered', $3
       FROM ${staged} s
       WHERE NOT EXISTS (SELECT 1 FROM list_members m
         WHERE m.list_name = $1 AND m.viewer = $2 AND m.entity_id = s.entity_id)
       RETURNING entity_id`,
      [listName, viewer, asOf],
    )
    const left = await store.query(
      `INSERT INTO list_changes
       SELECT CAST($1 AS VARCHAR), CAST($2 AS VARCHAR), m.entity_id, 'left', $3
       FROM list_members m
       WHERE m.list_name = $1 AND m.viewer = $2 AND NOT EXISTS
         (SELECT 1 FROM ${staged} s WHERE s.entity_id = m.entity_id)
       RETURNING entity_id`,
      [listName, viewer, asOf],
    )
    await store.execute(
      `DELETE FROM list_members WHERE list_name = $1 AND viewer = $2
       AND entity_id NOT IN (SELECT entity_id FROM ${staged})`,
      [listName, viewer],
    )
    await store.execute(
      `INSERT INTO list_members
       SELECT CAST($1 AS VARCHAR), CAST($2 AS VARCHAR), entity_id, $3 FROM ${staged}
       ON CONFLICT DO NOTHING`,
      [listName, viewer, asOf],
    )
    await store.execute(
      `INSERT INTO list_evaluations VALUES ($1, $2, $3, $4)
       ON CONFLICT (list_name, viewer) DO UPDATE SET evaluated_at = excluded.evaluated_at, members = excluded.members`,
      [listName, viewer, asOf, ids.length],
    )

    return { entered: entered.length, left: left.length, recorded: true }
  })
}

/** Entries and exits of a list since an instant, oldest first. */
export async function readListChanges(
  store: Store,
  listName: string,
  since: Date,
): Promise<ListChange[]> {
  const rows = await store.query<{
    entity_id: string
    change: 'entered' | 'left'
    changed_at: string
    viewer: string
  }>(
    `SELECT entity_id, change, changed_at, viewer FROM list_changes
     WHERE list_name = $1 AND changed_at >= $2
     ORDER BY changed_at, viewer, change, entity_id`,
    [listName, since],
  )

  return rows.map((row) => ({
    entityId: row.entity_id,
    change: row.change,
    at: row.changed_at,
    viewer: row.viewer,
  }))
}

/** Forgets a list's members and history (when the list is deleted). */
export async function forgetListMembership(
  store: Store,
  listName: string,
): Promise<void> {
  await store.transaction(async () => {
    for (const table of ['list_members', 'list_changes', 'list_evaluations']) {
      await store.execute(`DELETE FROM ${table} WHERE list_name = $1`, [
        listName,
      ])
    }
  })
}
