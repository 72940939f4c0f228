/**
 * Copies the bench's generated workspace from its DuckDB file into a
 * PostgreSQL store, so both stores are measured on the very same rows.
 *
 * Each table goes through CSV: DuckDB writes it (`COPY ... TO`, in slices
 * of rows for the large tables) and PostgreSQL reads it over the wire
 * (`COPY ... FROM STDIN`), one slice exported while the previous one loads.
 * The PostgreSQL schema comes from the product's own migrations
 * (`openStore`), so only rows travel; a table's secondary indexes are
 * dropped before its rows arrive and built again after, as for any bulk
 * load. Run once per bench.
 */
import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'

import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'

import { parsePostgresLocation } from '../src/store/postgres/postgres-location.js'
import { quoteIdentifier } from '../src/store/store.js'

import type { Store } from '../src/store/store.js'

/** Rows per CSV slice: about 1 GB of events text. */
const sliceRows = 5_000_000

export interface CopyFigures {
  seconds: number
  rowsByTable: Record<string, number>
  secondsByTable: Record<string, number>
}

/**
 * Copies `tables` from `source` (DuckDB) to the PostgreSQL at `url`, whose
 * tables must exist and be empty. `directory` holds the CSV slices.
 */
export async function copyToPostgres(
  source: Store,
  url: string,
  tables: readonly string[],
  directory: string,
): Promise<CopyFigures> {
  const location = parsePostgresLocation(url)
  const client = new pg.Client({
    connectionString: location.connectionString,
    options: `-c search_path=${location.schema}`,
  })
  await client.connect()
  const started = performance.now()
  const rowsByTable: Record<string, number> = {}
  const secondsByTable: Record<string, number> = {}
  try {
    for (const table of tables) {
      const tableStarted = performance.now()
      const columns = await columnsOf(source, table)
      const [count] = await source.query<{ n: number }>(
        `SELECT count(*) AS n FROM ${quoteIdentifier(table)}`,
      )
      const rows = Number(count?.n ?? 0)
      const list = columns.map(quoteIdentifier).join(', ')
      // As a bulk load would: secondary indexes built once, after the rows.
      const indexes = await client.query<{ name: string; definition: string }>(
        `SELECT i.indexname AS name, i.indexdef AS definition
         FROM pg_indexes i JOIN pg_index x
           ON x.indexrelid = format('%I.%I', i.schemaname, i.indexname)::regclass
         WHERE i.schemaname = current_schema() AND i.tablename = $1
           AND NOT x.indisunique`,
        [table],
      )
      for (const index of indexes.rows)
        await client.query(`DROP INDEX ${quoteIdentifier(index.name)}`)
      let loading: Promise<void> = Promise.resolve()
      for (let offset = 0; offset < rows; offset += sliceRows) {
        const file = join(directory, `${table}-${offset}.csv`)
        await source.execute(
          `COPY (SELECT ${list} FROM ${quoteIdentifier(table)}
             WHERE rowid >= ${offset} AND rowid < ${offset + sliceRows})
           TO '${file.replaceAll("'", "''")}' (FORMAT csv, HEADER false)`,
        )
        await loading
        loading = loadSlice(client, table, list, file)
      }
      await loading
      for (const index of indexes.rows) await client.query(index.definition)
      await client.query(`ANALYZE ${quoteIdentifier(table)}`)
      rowsByTable[table] = rows
      secondsByTable[table] = (performance.now() - tableStarted) / 1000
    }
  } finally {
    await client.end()
  }

  return {
    seconds: (performance.now() - started) / 1000,
    rowsByTable,
    secondsByTable,
  }
}

async function loadSlice(
  client: pg.Client,
  table: string,
  columns: string,
  file: string,
): Promise<void> {
  const copy = client.query(
    copyFrom(
      `COPY ${quoteIdentifier(table)} (${columns}) FROM STDIN WITH (FORMAT csv)`,
    ),
  )
  await pipeline(createReadStream(file), copy)
  await rm(file, { force: true })
}

async function columnsOf(store: Store, table: string): Promise<string[]> {
  const rows = await store.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_name = $1 AND table_schema = 'main'
     ORDER BY ordinal_position`,
    [table],
  )

  return rows.map((row) => row.column_name)
}
