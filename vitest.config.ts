/**
 * `npm test` runs the whole suite twice: once on DuckDB, once on PostgreSQL
 * (each test's store from test/support/temp-store.ts). When PostgreSQL is
 * not reachable the postgres run is skipped, and the run says so at the
 * start and at the end. LEADLENS_TEST_STORE=duckdb|postgres runs one only.
 */
import { userInfo } from 'node:os'

import pg from 'pg'
import { defineConfig } from 'vitest/config'

import type { TestProjectConfiguration } from 'vitest/config'
import type { Reporter } from 'vitest/node'

const postgresUrl =
  process.env.LEADLENS_TEST_PG_URL ?? 'postgres://127.0.0.1:5432/test'
const chosen = process.env.LEADLENS_TEST_STORE

/** Why PostgreSQL cannot be used for tests, or undefined when it can. */
async function postgresUnavailable(): Promise<string | undefined> {
  const url = new URL(postgresUrl)
  if (url.username === '')
    url.username = process.env.PGUSER || userInfo().username
  const client = new pg.Client({
    connectionString: url.toString(),
    connectionTimeoutMillis: 3_000,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('SELECT 1')

    return undefined
  } catch (error) {
    const code = (error as { code?: string }).code
    const text = error instanceof Error ? error.message : String(error)

    return code === undefined ? text : `${code}: ${text}`
  } finally {
    await client.end().catch(() => undefined)
  }
}

function storeProject(store: 'duckdb' | 'postgres'): TestProjectConfiguration {
  return {
    extends: true,
    test: {
      name: store,
      env: { LEADLENS_TEST_STORE: store },
    },
  }
}

export default defineConfig(async () => {
  const stores: ('duckdb' | 'postgres')[] =
    chosen === 'duckdb' || chosen === 'postgres'
      ? [chosen]
      : ['duckdb', 'postgres']

  // Asked for explicitly, PostgreSQL must be there: its tests fail without it.
  const skipped = chosen === undefined ? await postgresUnavailable() : undefined
  const notice =
    skipped === undefined
      ? undefined
      : `PostgreSQL tests SKIPPED: ${postgresUrl} is not reachable (${skipped}). ` +
        'Only the DuckDB run happened. Start PostgreSQL (see .ci/run) or set ' +
        'LEADLENS_TEST_PG_URL.'
  if (notice !== undefined) console.warn(`\n${notice}\n`)

  const skipNotice: Reporter = {
    onTestRunEnd() {
      if (notice !== undefined) console.warn(`\n${notice}\n`)
    },
  }

  return {
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      // DuckDB files and servers are per test file; two cores, so keep it modest.
      maxWorkers: 2,
      reporters: ['default', skipNotice],
      projects: stores
        .filter((store) => store === 'duckdb' || notice === undefined)
        .map(storeProject),
    },
  }
})
