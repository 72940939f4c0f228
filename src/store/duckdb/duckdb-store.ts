/**
 * The embedded store: one DuckDB file, one connection, writes serialised.
 */
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'

import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBInstance,
  DuckDBTimestampTZValue,
  SQLNULL,
  TIMESTAMPTZ,
  VARCHAR,
} from '@duckdb/node-api'

import { StoreError, describeQueryError as queryError } from '../store-error.js'
import { columnDefinitions, quoteIdentifier } from '../store.js'
import { Mutex, WriteTurns } from '../write-turns.js'
import { appendInChunks, chunkColumnOf, rowsFit } from './duckdb-appender.js'
import { bulkInsert } from './duckdb-bulk-insert.js'
import { duckDbDialect } from './duckdb-dialect.js'

import type {
  DuckDBConnection,
  DuckDBPreparedStatement,
  DuckDBType,
  DuckDBValue,
} from '@duckdb/node-api'
import type { AppendValue, Row, SqlParam, Store } from '../store.js'
import type { ChunkColumn } from './duckdb-appender.js'

/** Statements the committer connection keeps prepared, at most. */
const preparedStatementsKept = 64

/** Opens (creating if needed) a DuckDB file, or `:memory:`. */
export async function openDuckDbStore(path: string): Promise<DuckDbStore> {
  if (path !== ':memory:') await mkdir(dirname(path), { recursive: true })

  let instance: DuckDBInstance
  try {
    instance = await DuckDBInstance.create(path)
  } catch (error) {
    throw describeOpenError(path, error)
  }

  const connection = await instance.connect()
  // DuckDB would take 80% of the machine; big sorts spill to disk instead.
  const memoryLimit = process.env.LEADLENS_DUCKDB_MEMORY ?? '3GB'
  await connection.run(
    `SET memory_limit = '${memoryLimit.replace(/[^0-9A-Za-z.]/g, '')}'`,
  )
  // Checkpoints rewrite the file; fewer of them keep commits short under load.
  await connection.run("SET checkpoint_threshold = '256MB'")
  const reader = await instance.connect()
  const committer = await instance.connect()
  for (const each of [connection, reader, committer])
    await each.run("SET TimeZone = 'UTC'")

  return new DuckDbStore(path, instance, connection, reader, committer)
}

function describeOpenError(path: string, error: unknown): StoreError {
  const text = error instanceof Error ? error.message : String(error)

  if (/lock/i.test(text)) {
    return new StoreError('STORE_LOCKED', `${path} is locked: ${text}`, {
      cause: error,
      userMessage:
        `The store ${path} is held by another process (a running ` +
        '`leadlens serve`, most likely). Stop that process, send the data ' +
        'through its HTTP API, or choose another store with --db.',
    })
  }

  return new StoreError('STORE_OPEN_FAILED', `cannot open ${path}: ${text}`, {
    cause: error,
  })
}

/**
 * Writes go through one connection, one transaction at a time; reads outside
 * a transaction use a second connection, so they see only committed data and
 * never land inside another caller's transaction.
 */
export class DuckDbStore implements Store {
  readonly dialect = 'duckdb'
  readonly sql = duckDbDialect
  readonly location: string
  readonly journalDirectory: string | null
  private readonly instance: DuckDBInstance
  private readonly connection: DuckDBConnection
  private readonly reader: DuckDBConnection
  /** Auto-committed statements beside the writer's transactions. */
  private readonly committer: DuckDBConnection
  private readonly writes = new WriteTurns()
  private readonly readLock = new Mutex()
  private readonly commitLock = new Mutex()
  /** Each table's columns and types, read once, for the appender. */
  private readonly tableColumns = new Map<
    string,
    { name: string; type: string }[]
  >()
  private readonly committerStatements = new Map<
    string,
    DuckDBPreparedStatement
  >()

  constructor(
    location: string,
    instance: DuckDBInstance,
    connection: DuckDBConnection,
    reader: DuckDBConnection,
    committer: DuckDBConnection,
  ) {
    this.location = location
    // Beside the file, so that moving a store moves what it accepted.
    this.journalDirectory = location === ':memory:' ? null : `${location}.inbox`
    this.instance = instance
    this.connection = connection
    this.reader = reader
    this.committer = committer
  }

  async query<T = Row>(
    sql: string,
    params: readonly SqlParam[] = [],
  ): Promise<T[]> {
    const isRead = /^\s*(SELECT|WITH)\b/i.test(sql)
    const connection =
      isRead && !this.writes.isInsideTransaction ? this.reader : undefined
    const run = async (target: DuckDBConnection) => {
      try {
        const { values, types } = bindParams(params)
        const result = await target.runAndReadAll(sql, values, types)

        return result.getRowObjectsJS().map((row) => toPlainRow(row) as T)
      } catch (error) {
        throw queryError(sql, error)
      }
    }

    return connection === undefined
      ? this.writes.run(() => run(this.connection))
      : this.readLock.run(() => run(connection))
  }

  async *stream<T = Row>(
    sql: string,
    params: readonly SqlParam[] = [],
  ): AsyncIterable<T[]> {
    // A connection of its own, so a long export blocks no other reader.
    const connection = await this.instance.connect()
    try {
      await connection.run("SET TimeZone = 'UTC'")
      const { values, types } = bindParams(params)
      const result = await connection.stream(sql, values, types)
      for await (const rows of result.yieldRowObjectJs()) {
        yield rows.map((row) => toPlainRow(row) as T)
      }
    } catch (error) {
      throw queryError(sql, error)
    } finally {
      connection.closeSync()
    }
  }

  async execute(sql: string, params: readonly SqlParam[] = []): Promise<void> {
    await this.writes.run(() => this.runOnWriter(sql, params))
  }

  /** Runs a statement on the writer; the caller holds the write turn. */
  private runOnWriter(sql: string, params: readonly SqlParam[] = []) {
    return runStatement(this.connection, sql, params)
  }

  async executeCommitted(
    sql: string,
    params: readonly SqlParam[] = [],
  ): Promise<void> {
    await this.commitLock.run(async () => {
      try {
        const statement = await this.committerStatement(sql)
        const { values, types } = bindParams(params)
        statement.bind(values, types)
        try {
          await statement.run()
        } finally {
          // A kept statement must not keep its values (request bodies).
          statement.clearBindings()
        }
      } catch (error) {
        throw queryError(sql, error)
      }
    })
  }

  // The ingestion inbox commits the same few statements thousands of times
  // a second: prepared once, each costs one trip to DuckDB, not three.
  private async committerStatement(
    sql: string,
  ): Promise<DuckDBPreparedStatement> {
    const cached = this.committerStatements.get(sql)
    if (cached !== undefined) {
      // Map order is use order: the oldest is evicted first.
      this.committerStatements.delete(sql)
      this.committerStatements.set(sql, cached)
      return cached
    }

    const statement = await this.committer.prepare(sql)
    this.committerStatements.set(sql, statement)
    if (this.committerStatements.size > preparedStatementsKept) {
      const [oldestSql, oldest] = this.committerStatements.entries().next()
        .value as [string, DuckDBPreparedStatement]
      this.committerStatements.delete(oldestSql)
      oldest.destroySync()
    }

    return statement
  }

  async appendRows(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly AppendValue[])[],
  ): Promise<void> {
    if (rows.length === 0) return

    // The appender writes a chunk at a time: in a transaction of its own
    // when the caller has none, so the rows land all or none.
    if (this.writes.isInsideTransaction)
      return this.append(table, columns, rows)
    await this.transaction(() => this.append(table, columns, rows))
  }

  private async append(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly AppendValue[])[],
    sqlTypes?: readonly string[],
  ): Promise<void> {
    const isTemporary = table.startsWith('temp.')
    const bare = isTemporary ? table.slice('temp.'.length) : table
    try {
      const chunkColumns = await this.chunkColumnsOf(bare, columns, sqlTypes)
      if (chunkColumns !== undefined && rowsFit(chunkColumns, rows)) {
        const appender = await this.connection.createAppender(
          bare,
          'main',
          isTemporary ? 'temp' : null,
        )
        try {
          await appendInChunks(appender, chunkColumns, rows)
        } finally {
          appender.closeSync()
        }
        return
      }

      const name = isTemporary
        ? `temp.${quoteIdentifier(bare)}`
        : quoteIdentifier(bare)
      const insert = bulkInsert(name, columns, rows)
      await this.connection.run(
        insert.sql,
        insert.params,
        insert.params.map(() => VARCHAR),
      )
    } catch (error) {
      throw queryError(`append to ${table}`, error)
    }
  }

  // How each column goes into an appender's chunk: from `sqlTypes` (a
  // staging table), else from the table's own columns, which `columns`
  // must name whole and in order. Undefined: use the INSERT instead.
  private async chunkColumnsOf(
    table: string,
    columns: readonly string[],
    sqlTypes: readonly string[] | undefined,
  ): Promise<ChunkColumn[] | undefined> {
    let types = sqlTypes
    if (types === undefined) {
      const known = await this.readTableColumns(table)
      const isWhole =
        known.length === columns.length &&
        known.every((column, index) => column.name === columns[index])
      if (!isWhole) return undefined
      types = known.map((column) => column.type)
    }

    const chunkColumns = types.map(chunkColumnOf)
    return chunkColumns.every((column) => column !== undefined)
      ? (chunkColumns as ChunkColumn[])
      : undefined
  }

  private async readTableColumns(
    table: string,
  ): Promise<{ name: string; type: string }[]> {
    const cached = this.tableColumns.get(table)
    if (cached !== undefined) return cached

    const result = await this.connection.runAndReadAll(
      `SELECT column_name, data_type FROM duckdb_columns()
       WHERE database_name = current_database() AND schema_name = 'main'
         AND table_name = $1 ORDER BY column_index`,
      [table],
    )
    const columns = result
      .getRows()
      .map(([name, type]) => ({ name: String(name), type: String(type) }))
    this.tableColumns.set(table, columns)

    return columns
  }

  async stage(
    table: string,
    columns: Readonly<Record<string, string>>,
    rows: readonly (readonly AppendValue[])[],
  ): Promise<void> {
    const name = quoteIdentifier(table)
    await this.writes.stage(table, {
      create: () =>
        this.runOnWriter(
          `CREATE OR REPLACE TEMP TABLE ${name} (${columnDefinitions(columns)})`,
        ),
      // Made again rather than emptied: DuckDB keeps deleted rows as
      // versions that every later scan of the table steps over until a
      // checkpoint (ten 20,000-row batches made one UPDATE 16x slower).
      clear: () =>
        this.runOnWriter(
          `CREATE OR REPLACE TEMP TABLE ${name} (${columnDefinitions(columns)})`,
        ),
      fill: async () => {
        if (rows.length > 0)
          await this.append(
            `temp.${table}`,
            Object.keys(columns),
            rows,
            Object.values(columns),
          )
      },
    })
  }

  afterCommit(callback: () => void): void {
    this.writes.afterCommit(callback)
  }

  transaction<T>(work: () => Promise<T>): Promise<T> {
    const statements = {
      begin: () => this.execute('BEGIN TRANSACTION'),
      commit: () => this.execute('COMMIT'),
      rollback: async () => {
        await this.connection.run('ROLLBACK').catch(() => undefined)
      },
    }

    return this.writes.transaction(statements, work)
  }

  async close(): Promise<void> {
    await this.writes.drain()
    await this.readLock.run(async () => undefined)
    await this.commitLock.run(async () => undefined)
    for (const statement of this.committerStatements.values())
      statement.destroySync()
    this.committerStatements.clear()
    this.committer.closeSync()
    this.reader.closeSync()
    this.connection.closeSync()
    this.instance.closeSync()
  }
}

async function runStatement(
  connection: DuckDBConnection,
  sql: string,
  params: readonly SqlParam[],
): Promise<void> {
  try {
    const { values, types } = bindParams(params)
    await connection.run(sql, values, types)
  } catch (error) {
    throw queryError(sql, error)
  }
}

function toTimestampTz(date: Date): DuckDBTimestampTZValue {
  return new DuckDBTimestampTZValue(BigInt(date.getTime()) * 1000n)
}

function bindParams(params: readonly SqlParam[]): {
  values: DuckDBValue[]
  types: DuckDBType[]
} {
  const values: DuckDBValue[] = []
  const types: DuckDBType[] = []

  for (const param of params) {
    if (param === null) {
      values.push(null)
      types.push(SQLNULL)
    } else if (typeof param === 'string') {
      values.push(param)
      types.push(VARCHAR)
    } else if (typeof param === 'number') {
      values.push(param)
      types.push(DOUBLE)
    } else if (typeof param === 'boolean') {
      values.push(param)
      types.push(BOOLEAN)
    } else if (typeof param === 'bigint') {
      values.push(param)
      types.push(BIGINT)
    } else {
      values.push(toTimestampTz(param))
      types.push(TIMESTAMPTZ)
    }
  }

  return { values, types }
}

/** DuckDB's JS values made plain: safe bigints to numbers, instants to ISO strings. */
function toPlainRow(row: Record<string, unknown>): Row {
  const plain: Row = {}
  for (const [key, value] of Object.entries(row))
    plain[key] = toPlainValue(value)

  return plain
}

function toPlainValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const asNumber = Number(value)

    return Number.isSafeInteger(asNumber) ? asNumber : value.toString()
  }
  if (value instanceof Date) return value.toISOString()

  return value
}
