/**
 * What SQL differs between the stores, and nothing else: each store exposes
 * one of these as `store.sql`, and code above the store writes portable SQL
 * with these fragments where the dialects part ways.
 */
import type { SqlParam, StoreDialect } from './store.js'

export interface SqlDialect {
  readonly name: StoreDialect

  /** Column types whose names differ (VARCHAR, TIMESTAMPTZ, BOOLEAN, INTEGER do not). */
  readonly types: { readonly double: string; readonly json: string }

  /**
   * A session-private staging table made by `store.stage(table, ...)`.
   * @example sql.staged('staged_ids') // DuckDB: 'temp.staged_ids'
   */
  staged(table: string): string

  /**
   * The value to bind for a path of keys into a JSON document, for
   * `jsonText` and `jsonValue`.
   * @example sql.jsonPath(['plan', 'tier']) // DuckDB: '/plan/tier'
   */
  jsonPath(keys: readonly string[]): SqlParam

  /**
   * SQL for the path to one top-level key held in a text column, as
   * `jsonPath([key])` would bind it.
   */
  jsonPathOfKey(column: string): string

  /** The text at a bound `jsonPath` in a JSON column; NULL when missing or JSON null. */
  jsonText(column: string, path: string): string

  /** The JSON value at a bound `jsonPath` in a JSON column. */
  jsonValue(column: string, path: string): string

  /** `text` as a double, a boolean or an instant; NULL when it is not one. */
  tryCast(text: string, type: 'double' | 'boolean' | 'timestamp'): string

  /** Milliseconds since the epoch of an instant, as a number. */
  epochMs(instant: string): string

  /** RFC 7396: `patch` applied to `target`; a null in the patch deletes. */
  mergePatch(target: string, patch: string): string

  /** Any value as text, numbers as DuckDB writes them (`250.0` for a double). */
  text(expression: string): string

  /**
   * What ends a SELECT that takes rows for this transaction alone: other
   * writers skip them (PostgreSQL); DuckDB has a single writing process.
   */
  readonly lockRowsSkipLocked: string

  /**
   * Whether account metrics group by `accounts.account_id` rather than by
   * their union's own column, so the planner knows how many groups come.
   */
  readonly groupsAccountsByTableKey: boolean

  /** Statements that give the store the functions this dialect relies on. */
  readonly setupStatements: readonly string[]
}
