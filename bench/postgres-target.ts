/**
 * The PostgreSQL the benchmarks also run on: a fresh schema in the database
 * named by `LEADLENS_BENCH_PG_URL` (default the local server's `test`),
 * dropped afterwards. When no server answers, the PostgreSQL figures are
 * skipped with the reason, never faked.
 */
import pg from 'pg'

import { parsePostgresLocation } from '../src/store/postgres/postgres-location.js'

export const benchPostgresUrl =
  process.env.LEADLENS_BENCH_PG_URL ?? 'postgres://127.0.0.1:5432/test'

export type PostgresTarget =
  | { ok: true; url: string; drop(): Promise<void> }
  | { ok: false; reason: string }

/** A new empty schema for one benchmark run, as a store URL. */
export async function createBenchSchema(
  label: string,
): Promise<PostgresTarget> {
  const schema = `leadlens_bench_${label}_${Date.now()}`
  const { connectionString, redacted } = parsePostgresLocation(benchPostgresUrl)
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: 3_000,
  })
  try {
    await client.connect()
    await client.query(`CREATE SCHEMA "${schema}"`)
  } catch (error) {
    await client.end().catch(() => undefined)
    const text = error instanceof Error ? error.message : String(error)
    return {
      ok: false,
      reason: `no PostgreSQL at ${redacted}: ${text}`,
    }
  }
  await client.end()

  const url = new URL(benchPostgresUrl)
  url.searchParams.set('schema', schema)

  return {
    ok: true,
    url: url.toString(),
    async drop() {
      const dropper = new pg.Client({ connectionString })
      await dropper.connect()
      try {
        await dropper.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      } finally {
        await dropper.end()
      }
    },
  }
}
