/**
 * Runs a list: compiles it against the store's catalog and settings, at
 * `asOf`, and returns `{ rows, total }` with columns named as defined.
 */
import { listDefinitions } from '../catalog/definitions.js'
import { readPropertyTypes } from '../catalog/property-catalog.js'
import { readRollupProperties } from '../rollups/rollup-properties.js'
import { readSavedScores } from '../scores/saved-scores.js'
import { scoreFieldResolver } from '../scores/score-fields.js'
import { readWorkspaceSettings } from '../store/workspace-settings.js'
import { compileList, entityIdColumn, totalColumn } from './compile-list.js'

import type { Row, Store } from '../store/store.js'
import type { CompileOptions } from './compile-context.js'
import type { CompiledList } from './compile-list.js'
import type { ListDefinition, MetricSpec } from './list-definition.js'
import type { ListIssue } from './list-error.js'

export interface RunListOptions {
  asOf?: Date
  me?: string
  limit?: number
  offset?: number
  namedMetrics?: Record<string, MetricSpec>
  /** Restricts rows to entities this rep owns in the CRM. */
  ownerEmail?: string
  /** Whether metrics may read the rollups (default); false reads raw events. */
  useRollups?: boolean
}

export interface ListResult {
  columns: string[]
  rows: Row[]
  total: number
  /** The entity id of each row, in order (users' or accounts' ids). */
  ids: string[]
  warnings: ListIssue[]
}

/** The compile options this store implies: catalog, settings, saved definitions. */
export async function compileOptionsForStore(
  store: Store,
  options: RunListOptions = {},
): Promise<CompileOptions> {
  const types = await readPropertyTypes(store)
  const settings = await readWorkspaceSettings(store)
  const events = await store.query<{ name: string }>(
    'SELECT name FROM event_names',
  )

  return {
    sql: store.sql,
    asOf: options.asOf ?? new Date(),
    timezone: settings.timezone,
    types,
    knownEvents: new Set(events.map((row) => row.name)),
    namedMetrics: options.namedMetrics ?? (await readNamedMetrics(store)),
    resolveScoreField: scoreFieldResolver(await readSavedScores(store)),
    ...(options.useRollups === false
      ? {}
      : { rollups: { sums: await readRollupProperties(store) } }),
    ...(options.me === undefined ? {} : { me: options.me }),
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(options.offset === undefined ? {} : { offset: options.offset }),
    ...(options.ownerEmail === undefined
      ? {}
      : { ownerEmail: options.ownerEmail }),
  }
}

/** Compiles a list for this store: its property types and time zone. */
export async function compileListForStore(
  store: Store,
  definition: ListDefinition,
  options: RunListOptions = {},
): Promise<CompiledList> {
  return compileList(definition, await compileOptionsForStore(store, options))
}

/** Runs a list and returns its rows and the total number of matches. */
export async function runList(
  store: Store,
  definition: ListDefinition,
  options: RunListOptions = {},
): Promise<ListResult> {
  const compiled = await compileListForStore(store, definition, options)
  const result = await store.query(compiled.sql, compiled.params)
  // Past the last page there is no row to carry the total: count alone.
  const total =
    result.length === 0 && (options.offset ?? 0) > 0
      ? await countList(store, definition, options)
      : Number(result[0]?.[totalColumn] ?? 0)
  const rows = result.map((row) => {
    const clean: Row = {}
    for (const column of compiled.columns) clean[column] = row[column] ?? null
    return clean
  })

  return {
    columns: compiled.columns,
    rows,
    total,
    ids: result.map((row) => String(row[entityIdColumn])),
    warnings: compiled.warnings,
  }
}

/** The metrics saved by `leadlens apply`, by name. */
export async function readNamedMetrics(
  store: Store,
): Promise<Record<string, MetricSpec>> {
  const saved = await listDefinitions(store, 'metric')

  return Object.fromEntries(
    saved.map((metric) => [metric.name, metric.definition as MetricSpec]),
  )
}

async function countList(
  store: Store,
  definition: ListDefinition,
  options: RunListOptions,
): Promise<number> {
  const { offset: _offset, ...first } = options
  const compiled = await compileListForStore(store, definition, {
    ...first,
    limit: 1,
  })
  const rows = await store.query(compiled.sql, compiled.params)

  return Number(rows[0]?.[totalColumn] ?? 0)
}
