/**
 * A fresh store for one test, removed after it: a temporary DuckDB file, or,
 * with LEADLENS_TEST_STORE=postgres, a new schema in the database at
 * LEADLENS_TEST_PG_URL (default postgres://127.0.0.1:5432/test).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import pg from 'pg'

import { duckDbDialect } from '../../src/store/duckdb/duckdb-dialect.js'
import { openStore } from '../../src/store/open-store.js'
import { postgresDialect } from '../../src/store/postgres/postgres-dialect.js'
import { parsePostgresLocation } from '../../src/store/postgres/postgres-location.js'
import { quoteIdentifier } from '../../src/store/store.js'

import type { SqlDialect } from '../../src/store/sql-dialect.js'
import type { Store, StoreDialect } from '../../src/store/store.js'

export interface TempStore {
  store: Store
  /** What to pass as `--db` to the CLI: a file path or a postgres:// URL. */
  path: string
  dispose(): Promise<void>
}

export interface TempLocation {
  /** A file path or a postgres:// URL that no store uses yet. */
  path: string
  /** Removes whatever a store made at `path`. */
  dispose(): Promise<void>
}

/** The store the tests run on, from LEADLENS_TEST_STORE (default duckdb). */
export const testStoreDialect: StoreDialect =
  process.env.LEADLENS_TEST_STORE === 'postgres' ? 'postgres' : 'duckdb'

/** The SQL dialect of the store the tests run on. */
export const testSqlDialect: SqlDialect =
  testStoreDialect === 'postgres' ? postgresDialect : duckDbDialect

/** The database that holds the tests' PostgreSQL schemas. */
export const testPostgresUrl =
  process.env.LEADLENS_TEST_PG_URL ?? 'postgres://127.0.0.1:5432/test'

/**
 * A location for a new store, not yet opened: a path in a new temporary
 * directory, or a URL naming a fresh schema. `name` ends the file name.
 */
export async function createTempLocation(
  name = 'store',
  dialect: StoreDialect = testStoreDialect,
): Promise<TempLocation> {
  if (dialect === 'postgres') {
    const schema = `leadlens_test_${randomBytes(6).toString('hex')}`
    const url = new URL(testPostgresUrl)
    url.searchParams.set('schema', schema)

    return { path: url.toString(), dispose: () => dropSchema(schema) }
  }

  const directory = await mkdtemp(join(tmpdir(), 'leadlens-test-'))

  return {
    path: join(directory, `${name}.duckdb`),
    dispose: () => rm(directory, { recursive: true, force: true }),
  }
}

/** Opens a migrated store at a new temporary location. */
export async function openTempStore(
  dialect: StoreDialect = testStoreDialect,
): Promise<TempStore> {
  const location = await createTempLocation('store', dialect)
  const store = await openStore(location.path)

  return {
    store,
    path: location.path,
    async dispose() {
      await store.close()
      await location.dispose()
    },
  }
}

/** Opens the store at `path` (a closed one: no server holds it), runs `work`, closes it. */
export async function withStore<T>(
  path: string,
  work: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openStore(path)
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}

async function dropSchema(schema: string): Promise<void> {
  const { connectionString } = parsePostgresLocation(testPostgresUrl)
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    await client.query(
      `DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`,
    )
  } finally {
    await client.end()
  }
}
