/**
 * The server store: PostgreSQL through `pg`. Reads outside a transaction use
 * a pool; writes and transactions go through one dedicated connection, one
 * at a time, as in the DuckDB store.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import Cursor from 'pg-cursor'

import { StoreError } from '../store-error.js'
import { quoteIdentifier } from '../store.js'
import { postgresDialect } from './postgres-dialect.js'
import { bindParams, rowTypes, toCopyLine } from './postgres-values.js'

import type { PostgresLocation } from './postgres-location.js'
import type { AppendValue, Row, SqlParam, Store } from '../store.js'

/** Rows a `stream()` chunk holds. */
const streamChunkRows = 2_000

/** Rows written to COPY at a time. */
const copyChunkRows = 1_000

/** Runs tasks one at a time, in the order they were queued. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    this.tail = result.catch(() => undefined)

    return result
  }
}

export class PostgresStore implements Store {
  readonly dialect = 'postgres'
  readonly sql = postgresDialect
  readonly location: string
  /** The schema the store's tables live in. */
  readonly schema: string
  private readonly pool: pg.Pool
  private readonly writer: pg.Client
  private readonly writeLock = new Mutex()
  private readonly insideTransaction = new AsyncLocalStorage<true>()
  private readonly stagingTables = new Set<string>()
  private afterCommitCallbacks: (() => void)[] = []

  constructor(location: PostgresLocation, pool: pg.Pool, writer: pg.Client) {
    this.location = location.redacted
    this.schema = location.schema
    this.pool = pool
    this.writer = writer
  }

  /** Runs `task` on the writer: directly inside a transaction, else in turn. */
  private onWriter<T>(task: () => Promise<T>): Promise<T> {
    if (this.insideTransaction.getStore()) return task()

    return this.writeLock.run(task)
  }

  async query<T = Row>(
    sql: string,
    params: readonly SqlParam[] = [],
  ): Promise<T[]> {
    const isRead = /^\s*(SELECT|WITH)\b/i.test(sql)
    const { text, values } = bindParams(sql, params)
    const run = async (target: pg.Pool | pg.Client) => {
      try {
        const result = await target.query({ text, values, types: rowTypes })

        return result.rows as T[]
      } catch (error) {
        throw queryError(sql, error)
      }
    }

    return isRead && !this.insideTransaction.getStore()
      ? run(this.pool)
      : this.onWriter(() => run(this.writer))
  }

  async *stream<T = Row>(
    sql: string,
    params: readonly SqlParam[] = [],
  ): AsyncIterable<T[]> {
    // A pooled connection, so a long export blocks no writer.
    const client = await this.pool.connect()
    const { text, values } = bindParams(sql, params)
    const cursor = client.query(
      new Cursor<T>(text, values, { types: rowTypes }),
    )
    try {
      for (;;) {
        const rows = await cursor.read(streamChunkRows)
        if (rows.length === 0) break
        yield rows
      }
    } catch (error) {
      throw queryError(sql, error)
    } finally {
      await cursor.close().catch(() => undefined)
      client.release()
    }
  }

  async execute(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    await this.onWriter(() => this.runOnWriter(sql, params))
  }

  /** Runs a statement on the writer; the caller holds the write turn. */
  private async runOnWriter(
    sql: string,
    params: readonly SqlParam[] = [],
  ): Promise<void> {
    const { text, values } = bindParams(sql, params)
    try {
      await this.writer.query(text, values)
    } catch (error) {
      throw queryError(sql, error)
    }
  }

  async appendRows(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly AppendValue[])[],
  ): Promise<void> {
    if (rows.length === 0) return

    await this.onWriter(() => this.copy(table, columns, rows))
  }

  /** Bulk loads rows with COPY ... FROM STDIN, in COPY's text format. */
  private async copy(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly AppendValue[])[],
  ): Promise<void> {
    const isStaged = table.startsWith('pg_temp.')
    const name = isStaged
      ? `pg_temp.${quoteIdentifier(table.slice('pg_temp.'.length))}`
      : quoteIdentifier(table)
    const sql = `COPY ${name} (${columns.map(quoteIdentifier).join(', ')}) FROM STDIN`

    function* lines(): Generator<string> {
      for (let start = 0; start < rows.length; start += copyChunkRows) {
        yield rows
          .slice(start, start + copyChunkRows)
          .map((row) =>
            toCopyLine(columns.map((_, index) => row[index] ?? null)),
          )
          .join('')
      }
    }

    try {
      // Encoding happens before COPY starts, so a bad value aborts nothing.
      const chunks = [...lines()]
      await pipeline(Readable.from(chunks), this.writer.query(copyFrom(sql)))
    } catch (error) {
      throw queryError(`append to ${table}`, error)
    }
  }

  async stage(
    table: string,
    columns: Readonly<Record<string, string>>,
    rows: readonly (readonly AppendValue[])[],
  ): Promise<void> {
    await this.onWriter(async () => {
      const name = `pg_temp.${quoteIdentifier(table)}`
      if (!this.stagingTables.has(table)) {
        const definition = Object.entries(columns)
          .map(([column, type]) => `${quoteIdentifier(column)} ${type}`)
          .join(', ')
        await this.runOnWriter(`DROP TABLE IF EXISTS ${name}`)
        await this.runOnWriter(
          `CREATE TEMP TABLE ${quoteIdentifier(table)} (${definition})`,
        )
        this.stagingTables.add(table)
      } else {
        await this.runOnWriter(`TRUNCATE ${name}`)
      }
      if (rows.length > 0) {
        await this.copy(`pg_temp.${table}`, Object.keys(columns), rows)
      }
    })
  }

  afterCommit(callback: () => void): void {
    if (this.insideTransaction.getStore())
      this.afterCommitCallbacks.push(callback)
    else callback()
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    // Nested calls join the outer transaction.
    if (this.insideTransaction.getStore()) return work()

    return this.writeLock.run(() =>
      this.insideTransaction.run(true, async () => {
        await this.runOnWriter('BEGIN')
        this.afterCommitCallbacks = []
        try {
          const result = await work()
          await this.runOnWriter('COMMIT')
          const callbacks = this.afterCommitCallbacks
          this.afterCommitCallbacks = []
          for (const callback of callbacks) callback()

          return result
        } catch (error) {
          this.afterCommitCallbacks = []
          await this.writer.query('ROLLBACK').catch(() => undefined)
          // Staging tables made in this transaction are gone with it.
          this.stagingTables.clear()
          throw error
        }
      }),
    )
  }

  async close(): Promise<void> {
    await this.writeLock.run(async () => undefined)
    await this.writer.end()
    await this.pool.end()
  }
}

function queryError(sql: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error
  const text = error instanceof Error ? error.message : String(error)
  const head = sql.replace(/\s+/g, ' ').trim().slice(0, 120)

  return new StoreError('STORE_QUERY_FAILED', `${text} (in: ${head})`, {
    cause: error,
  })
}
