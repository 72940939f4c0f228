/**
 * Saved definitions (lists, metrics, scores, alerts), kept whole as JSON
 * under a kind and a unique name: what `leadlens apply` and `/api/lists`
 * write, and what `leadlens list run NAME` reads.
 */
import {
  findSumProperties,
  registerRollupProperties,
} from '../rollups/rollup-properties.js'

import type { Store } from '../store/store.js'

export type DefinitionKind = 'list' | 'metric' | 'score' | 'alert'

export interface SavedDefinition {
  kind: DefinitionKind
  name: string
  definition: Record<string, unknown>
  createdAt: string
  updatedAt: string
}

type DefinitionRow = {
  kind: DefinitionKind
  name: string
  definition: string
  created_at: string
  updated_at: string
}

/** Creates or replaces a definition; returns whether it existed before. */
export async function saveDefinition(
  store: Store,
  kind: DefinitionKind,
  name: string,
  definition: Record<string, unknown>,
): Promise<{ created: boolean }> {
  const now = new Date()

  return store.transaction(async () => {
    const existing = await store.query(
      'SELECT 1 AS found FROM definitions WHERE kind = $1 AND name = $2',
      [kind, name],
    )
    await store.execute(
      `INSERT INTO definitions VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (kind, name) DO UPDATE SET definition = excluded.definition,
         updated_at = excluded.updated_at`,
      [kind, name, JSON.stringify(definition), now],
    )
    // Sums that saved definitions use are kept in the rollups from now on.
    await registerRollupProperties(store, findSumProperties(definition))

    return { created: existing.length === 0 }
  })
}

/** One definition by kind and name, or undefined. */
export async function readDefinition(
  store: Store,
  kind: DefinitionKind,
  name: string,
): Promise<SavedDefinition | undefined> {
  const rows = await store.query<DefinitionRow>(
    'SELECT * FROM definitions WHERE kind = $1 AND name = $2',
    [kind, name],
  )

  return rows[0] === undefined ? undefined : toSaved(rows[0])
}

/** Every definition of a kind, by name. */
export async function listDefinitions(
  store: Store,
  kind: DefinitionKind,
): Promise<SavedDefinition[]> {
  const rows = await store.query<DefinitionRow>(
    'SELECT * FROM definitions WHERE kind = $1 ORDER BY name',
    [kind],
  )

  return rows.map(toSaved)
}

/** Deletes a definition; returns whether there was one. */
export async function deleteDefinition(
  store: Store,
  kind: DefinitionKind,
  name: string,
): Promise<boolean> {
  const rows = await store.query(
    'DELETE FROM definitions WHERE kind = $1 AND name = $2 RETURNING name',
    [kind, name],
  )

  return rows.length > 0
}

/** What the API shows of a saved definition. */
export function toDefinitionView(saved: SavedDefinition) {
  return {
    name: saved.name,
    definition: saved.definition,
    updatedAt: saved.updatedAt,
  }
}

function toSaved(row: DefinitionRow): SavedDefinition {
  return {
    kind: row.kind,
    name: row.name,
    definition: JSON.parse(row.definition) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}
