/**
 * The server store: PostgreSQL through `pg`. Reads outside a transaction use
 * a pool; writes and transactions go through one dedicated connection, one
 * at a time, as in the DuckDB store.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import Cursor from 'pg-cursor'

import { StoreError, describeQueryError as queryError } from '../store-error.js'
import { columnDefinitions, quoteIdentifier } from '../store.js'
import { WriteTurns } from '../write-turns.js'
import { postgresDialect } from './postgres-dialect.js'
import { bindParams, rowTypes, toCopyLine } from './postgres-values.js'

import type { PostgresLocation } from './postgres-location.js'
import type { AppendValue, Row, SqlParam, Store } from '../store.js'

/** Rows a `stream()` chunk holds. */
const streamChunkRows = 2_000

/** Rows written to COPY at a time. */
const copyChunkRows = 1_000

export class PostgresStore implements Store {
  readonly dialect = 'postgres'
  readonly sql = postgresDialect
  readonly location: string
  /** Accepted bodies go to the shared `ingest_inbox` table. */
  readonly journalDirectory = null
  /** The schema the store's tables live in. */
  readonly schema: string
  private readonly pool: pg.Pool
  private writer: pg.Client
  /** Set when the writer's connection ends or fails; the next turn reconnects. */
  private writerLost = false
  private isClosing = false
  private readonly connectWriter: () => Promise<pg.Client>
  private readonly writes = new WriteTurns()

  constructor(
    location: PostgresLocation,
    pool: pg.Pool,
    writer: pg.Client,
    connectWriter: () => Promise<pg.Client>,
  ) {
    this.location = location.redacted
    this.schema = location.schema
    this.pool = pool
    this.writer = writer
    this.connectWriter = connectWriter
    this.watchWriter(writer)
  }

  private watchWriter(client: pg.Client): void {
    const lost = () => {
      if (client === this.writer && !this.isClosing) this.writerLost = true
    }
    client.on('error', lost)
    client.on('end', lost)
  }

  /**
   * The writer for the statement about to run. A connection lost between
   * turns (a server restart, a terminated backend) is opened again; one lost
   * inside a transaction fails it, since its earlier statements are gone.
   */
  private async writerForTurn(isBegin = false): Promise<pg.Client> {
    if (!this.writerLost) return this.writer
    if (this.writes.isInsideTransaction && !isBegin) {
      throw new StoreError(
        'STORE_CONNECTION_LOST',
        `the connection to ${this.location} was lost inside a transaction`,
      )
    }

    const lost = this.writer
    const fresh = await this.connectWriter()
    this.writer = fresh
    this.writerLost = false
    this.watchWriter(fresh)
    // Its temporary staging tables went with the old session.
    this.writes.stagingTables.clear()
    lost.end().catch(() => undefined)

    return fresh
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

    return isRead && !this.writes.isInsideTransaction
      ? run(this.pool)
      : this.writes.run(async () => run(await this.writerForTurn()))
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
    await this.writes.run(() => this.runOnWriter(sql, params))
  }

  /** Runs a statement on the writer; the caller holds the write turn. */
  private async runOnWriter(
    sql: string,
    params: readonly SqlParam[] = [],
  ): Promise<void> {
    const { text, values } = bindParams(sql, params)
    // A transaction's BEGIN may reconnect: nothing of it is lost yet.
    const writer = await this.writerForTurn(sql === 'BEGIN')
    try {
      await writer.query(text, values)
    } catch (error) {
      throw queryError(sql, error)
    }
  }

  async executeCommitted(
    sql: string,
    params: readonly SqlParam[] = [],
  ): Promise<void> {
    // A pooled connection runs in autocommit: committed when it answers.
    const { text, values } = bindParams(sql, params)
    try {
      await this.pool.query(text, values)
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

    await this.writes.run(() => this.copy(table, columns, rows))
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
      const writer = await this.writerForTurn()
      await pipeline(Readable.from(chunks), writer.query(copyFrom(sql)))
    } catch (error) {
      throw queryError(`append to ${table}`, error)
    }
  }

  async stage(
    table: string,
    columns: Readonly<Record<string, string>>,
    rows: readonly (readonly AppendValue[])[],
  ): Promise<void> {
    const name = `pg_temp.${quoteIdentifier(table)}`
    await this.writes.stage(table, {
      // A writer reopened now has none of the old session's staging tables.
      ready: () => this.writerForTurn(),
      create: async () => {
        await this.runOnWriter(`DROP TABLE IF EXISTS ${name}`)
        await this.runOnWriter(
          `CREATE TEMP TABLE ${quoteIdentifier(table)} (${columnDefinitions(columns)})`,
        )
      },
      clear: () => this.runOnWriter(`TRUNCATE ${name}`),
      fill: async () => {
        if (rows.length > 0)
          await this.copy(`pg_temp.${table}`, Object.keys(columns), rows)
      },
    })
  }

  afterCommit(callback: () => void): void {
    this.writes.afterCommit(callback)
  }

  transaction<T>(work: () => Promise<T>): Promise<T> {
    const statements = {
      begin: () => this.runOnWriter('BEGIN'),
      commit: () => this.runOnWriter('COMMIT'),
      rollback: async () => {
        await this.writer.query('ROLLBACK').catch(() => undefined)
      },
    }

    return this.writes.transaction(statements, work)
  }

  async close(): Promise<void> {
    await this.writes.drain()
    this.isClosing = true
    await this.writer.end()
    await this.pool.end()
  }
}
