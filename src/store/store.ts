/**
 * The Store interface: the only way the rest of Leadlens reaches a database.
 * Each dialect (duckdb/, postgres/) implements it; everything above it
 * speaks SQL built from bound parameters and `quoteIdentifier`.
 */

import type { SqlDialect } from './sql-dialect.js'

/** A value bound to a `$n` placeholder. Dates bind as TIMESTAMPTZ. */
export type SqlParam = string | number | boolean | bigint | Date | null

/** A row as JavaScript values: numbers, strings, booleans, ISO strings for instants. */
export type Row = Record<string, unknown>

/** A column value for bulk appends; `Date` becomes TIMESTAMPTZ. */
export type AppendValue = string | number | boolean | Date | null

export type StoreDialect = 'duckdb' | 'postgres'

export interface Store {
  readonly dialect: StoreDialect

  /** The SQL fragments that differ between dialects. */
  readonly sql: SqlDialect

  /** Where the store lives, without credentials: a file path or a redacted URL. */
  readonly location: string

  /**
   * Where ingestion keeps accepted bodies as an append-only journal (beside
   * a DuckDB file); null when they go to the `ingest_inbox` table instead.
   */
  readonly journalDirectory: string | null

  query<T = Row>(sql: string, params?: readonly SqlParam[]): Promise<T[]>

  execute(sql: string, params?: readonly SqlParam[]): Promise<void>

  /** Reads a large result in chunks of rows, holding only one chunk at a time. */
  stream<T = Row>(sql: string, params?: readonly SqlParam[]): AsyncIterable<T[]>

  /** Appends many rows to a table, in column order, the fastest way the dialect has. */
  appendRows(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly AppendValue[])[],
  ): Promise<void>

  /**
   * Replaces the rows of a session-private staging table (created on first
   * use with `columns`: name -> SQL type), readable as `sql.staged(table)`.
   */
  stage(
    table: string,
    columns: Readonly<Record<string, string>>,
    rows: readonly (readonly AppendValue[])[],
  ): Promise<void>

  /**
   * Runs one statement in a transaction of its own on a connection of its
   * own, committed when the promise resolves. It waits for no transaction
   * of the writer and never joins one: ingestion's inbox accepts requests
   * this way while the applier's transaction runs.
   */
  executeCommitted(sql: string, params?: readonly SqlParam[]): Promise<void>

  /**
   * Runs `callback` once the current transaction commits (never if it rolls
   * back); outside a transaction, at once.
   */
  afterCommit(callback: () => void): void

  /** Runs `work` in one transaction: all of it is committed, or none of it. */
  transaction<T>(work: () => Promise<T>): Promise<T>

  close(): Promise<void>
}

/**
 * Quotes an identifier for SQL: the one place a name becomes SQL text.
 * @example quoteIdentifier('user"s') // '"user""s"'
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * The column list of a CREATE TABLE from names and SQL types.
 * @example columnDefinitions({ id: 'VARCHAR' }) // '"id" VARCHAR'
 */
export function columnDefinitions(
  columns: Readonly<Record<string, string>>,
): string {
  return Object.entries(columns)
    .map(([name, type]) => `${quoteIdentifier(name)} ${type}`)
    .join(', ')
}
