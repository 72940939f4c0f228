/**
 * A fresh store in a temporary DuckDB file for one test, removed after it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { openStore } from '../../src/store/open-store.js'

import type { Store } from '../../src/store/store.js'

export interface TempStore {
  store: Store
  path: string
  dispose(): Promise<void>
}

/** Opens a migrated store in a new temporary directory. */
export async function openTempStore(): Promise<TempStore> {
  const directory = await mkdtemp(join(tmpdir(), 'leadlens-test-'))
  const path = join(directory, 'store.duckdb')
  const store = await openStore(path)

  return {
    store,
    path,
    async dispose() {
      await store.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}
