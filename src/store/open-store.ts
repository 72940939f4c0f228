/**
 * Opens the store named by `--db` / `LEADLENS_DB`: a DuckDB file path (the
 * default) or a `postgres://` URL; runs migrations on open.
 */
import { resolve } from 'node:path'

import { openDuckDbStore } from './duckdb/duckdb-store.js'
import { openPostgresStore } from './postgres/open-postgres-store.js'
import { redactPassword } from './postgres/postgres-location.js'
import { migrateStore } from './schema.js'
import { StoreError } from './store-error.js'

import type { Store } from './store.js'

export const defaultStorePath = './.leadlens/leadlens.duckdb'

/** Whether `location` names a PostgreSQL server rather than a DuckDB file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location)
}

/** Opens and migrates the store at `location` (a path, `:memory:` or a URL). */
export async function openStore(location: string): Promise<Store> {
  if (!isPostgresUrl(location) && /^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new StoreError(
      'STORE_URL_UNSUPPORTED',
      `unsupported store URL scheme in ${redactPassword(location)}`,
      {
        userMessage:
          `Unsupported store ${redactPassword(location)}: use a DuckDB file ` +
          'path or a postgres:// URL with --db.',
      },
    )
  }

  const store = isPostgresUrl(location)
    ? await openPostgresStore(location)
    : await openDuckDbStore(
        location === ':memory:' ? location : resolve(location),
      )
  try {
    await migrateStore(store)
  } catch (error) {
    await store.close()
    throw error
  }

  return store
}
