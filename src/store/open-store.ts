/**
 * Opens the store named by `--db` / `LEADLENS_DB`: a DuckDB file path (the
 * default) or a `postgres://` URL; runs migrations on open.
 */
import { resolve } from 'node:path'

import { openDuckDbStore } from './duckdb/duckdb-store.js'
import { migrateStore } from './schema.js'
import { StoreError } from './store-error.js'

import type { Store } from './store.js'

export const defaultStorePath = './.leadlens/leadlens.duckdb'

/** Opens and migrates the store at `location` (a path, `:memory:` or a URL). */
export async function openStore(location: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    // TODO(issue 5): the PostgreSQL store; until then a postgres URL is refused.
    throw new StoreError(
      'STORE_URL_UNSUPPORTED',
      'postgres:// stores are not implemented yet',
      {
        userMessage:
          'PostgreSQL stores are not available in this version; ' +
          'use a DuckDB file path with --db.',
      },
    )
  }
  if (/^[a-z]+:\/\//i.test(location)) {
    throw new StoreError(
      'STORE_URL_UNSUPPORTED',
      `unsupported store URL scheme in ${redactUrl(location)}`,
    )
  }

  const path = location === ':memory:' ? location : resolve(location)
  const store = await openDuckDbStore(path)
  try {
    await migrateStore(store)
  } catch (error) {
    await store.close()
    throw error
  }

  return store
}

/** A URL with its password replaced, safe to print. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}
