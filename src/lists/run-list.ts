/**
 * Runs a list: compiles it against the store's catalog and settings, at
 * `asOf`, and returns `{ rows, total }` with columns named as defined.
 */
import { readPropertyTypes } from '../catalog/property-catalog.js'
import { readWorkspaceSettings } from '../store/workspace-settings.js'
import { compileList, totalColumn } from './compile-list.js'

import type { Row, Store } from '../store/store.js'
import type { CompiledList } from './compile-list.js'
import type { ListDefinition } from './list-definition.js'

export interface RunListOptions {
  asOf?: Date
  me?: string
  limit?: number
}

export interface ListResult {
  columns: string[]
  rows: Row[]
  total: number
}

/** Compiles a list for this store: its property types and time zone. */
export async function compileListForStore(
  store: Store,
  definition: ListDefinition,
  options: RunListOptions = {},
): Promise<CompiledList> {
  const [types, settings] = await Promise.all([
    readPropertyTypes(store),
    readWorkspaceSettings(store),
  ])

  return compileList(definition, {
    asOf: options.asOf ?? new Date(),
    timezone: settings.timezone,
    types,
    ...(options.me === undefined ? {} : { me: options.me }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  })
}

/** Runs a list and returns its rows and the total number of matches. */
export async function runList(
  store: Store,
  definition: ListDefinition,
  options: RunListOptions = {},
): Promise<ListResult> {
  const compiled = await compileListForStore(store, definition, options)
  const result = await store.query(compiled.sql, compiled.params)
  const total = Number(result[0]?.[totalColumn] ?? 0)
  const rows = result.map((row) => {
    const clean: Row = {}
    for (const column of compiled.columns) clean[column] = row[column] ?? null
    return clean
  })

  return { columns: compiled.columns, rows, total }
}
