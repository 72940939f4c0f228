/**
 * Saved lists: find a list by name or file, run it and record its
 * membership history.
 */
import { existsSync } from 'node:fs'

import { readDefinition } from '../catalog/definitions.js'
import { ListError } from './list-error.js'
import { recordListMembership } from './list-membership.js'
import {
  parseListDefinition,
  readListDefinition,
} from './read-list-definition.js'
import { runList } from './run-list.js'

import type { Store } from '../store/store.js'
import type { ListDefinition } from './list-definition.js'
import type { ListResult, RunListOptions } from './run-list.js'

export interface LoadedList {
  definition: ListDefinition
  /** Set when the list is a saved one (so its history is recorded). */
  savedName?: string
}

/** A list definition file, or else a saved list of that name. */
export async function loadList(
  store: Store,
  nameOrPath: string,
): Promise<LoadedList> {
  if (existsSync(nameOrPath))
    return { definition: await readListDefinition(nameOrPath) }

  const saved = await readDefinition(store, 'list', nameOrPath)
  if (saved === undefined) {
    throw new ListError(nameOrPath, [
      {
        code: 'LIST_NOT_FOUND',
        path: '',
        message:
          'no such file and no saved list of that name (see leadlens apply)',
      },
    ])
  }

  return {
    definition: parseListDefinition(saved.definition, nameOrPath),
    savedName: saved.name,
  }
}

/** Whether a definition uses `$me` anywhere, so its members depend on the viewer. */
export function usesMe(definition: ListDefinition): boolean {
  return JSON.stringify(definition.where ?? null).includes('"$me"')
}

/**
 * Runs a list; for a saved list, evaluates all of it once more without a
 * limit when needed, to record who entered and left.
 */
export async function runAndRecord(
  store: Store,
  loaded: LoadedList,
  options: RunListOptions,
): Promise<ListResult & { entered?: number; left?: number }> {
  const asOf = options.asOf ?? new Date()
  const result = await runList(store, loaded.definition, { ...options, asOf })
  if (loaded.savedName === undefined) return result

  // Members are what the definition shows (its own limit applies), whatever
  // page size the caller asked for.
  const { limit: _pageSize, ...unpaged } = options
  const expected = Math.min(result.total, loaded.definition.limit ?? Infinity)
  const all =
    result.rows.length === expected
      ? result
      : await runList(store, loaded.definition, { ...unpaged, asOf })
  // A list seen through $me or a rep's ownership has one history per person.
  const viewer =
    options.ownerEmail !== undefined
      ? options.ownerEmail.toLowerCase()
      : usesMe(loaded.definition)
        ? (options.me ?? '').toLowerCase()
        : ''
  const recorded = await recordListMembership(
    store,
    loaded.savedName,
    viewer,
    all.ids,
    asOf,
  )

  return { ...result, entered: recorded.entered, left: recorded.left }
}
