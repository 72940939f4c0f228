/**
 * Opening the PostgreSQL store: connecting, creating its schema, and saying
 * plainly (host and port, never the password) why a server cannot be used.
 */
import pg from 'pg'

import { StoreError } from '../store-error.js'
import { quoteIdentifier } from '../store.js'
import { parsePostgresLocation } from './postgres-location.js'
import { PostgresStore } from './postgres-store.js'
import { rowTypes } from './postgres-values.js'

import type { ClientConfig } from 'pg'
import type { PostgresLocation } from './postgres-location.js'

/**
 * Connects to the server at `url` (`postgres://user@host:port/db?schema=s`),
 * creating the schema when missing; the server must be reachable.
 */
export async function openPostgresStore(url: string): Promise<PostgresStore> {
  const location = parsePostgresLocation(url)
  const readerOptions = readerSettings()
  const config: ClientConfig = {
    connectionString: location.connectionString,
    application_name: 'leadlens',
    connectionTimeoutMillis: 10_000,
    // Every session reads and writes instants in UTC, in the store's schema.
    options: `-c TimeZone=UTC -c search_path=${location.schema}`,
    types: rowTypes,
  }

  const connectWriter = async () => {
    const client = new pg.Client(config)
    client.on('error', () => undefined) // the next statement reports it
    try {
      await client.connect()
    } catch (error) {
      throw describeConnectError(location, error)
    }
    return client
  }
  const writer = await connectWriter()

  try {
    await createSchema(writer, location.schema)
  } catch (error) {
    await writer.end()
    throw describeConnectError(location, error)
  }

  const pool = new pg.Pool({
    ...config,
    options: `${config.options} ${readerOptions}`,
    max: 8,
  })
  pool.on('error', () => undefined) // an idle connection dropped: pg discards it

  return new PostgresStore(location, pool, writer, connectWriter)
}

/**
 * Settings of the read connections, which run lists and scores: sorts and
 * hashes over whole tables get 64 MB (`LEADLENS_PG_WORK_MEM`) rather than
 * PostgreSQL's default 4 MB, which spills them to disk. JIT compilation is
 * off: on the bench's list (d) it spent 1.7 s compiling a 1.7 s query, and
 * a list is read once, not long enough to repay it. The write connection
 * keeps the defaults: its statements are small batches on keys.
 */
function readerSettings(): string {
  const workMem = process.env.LEADLENS_PG_WORK_MEM ?? '64MB'
  if (!/^\d+(kB|MB|GB)$/.test(workMem)) {
    throw new StoreError(
      'STORE_URL_INVALID',
      `LEADLENS_PG_WORK_MEM=${workMem} is not a size like 64MB`,
    )
  }

  return `-c work_mem=${workMem} -c jit=off`
}

async function createSchema(writer: pg.Client, schema: string): Promise<void> {
  const found = await writer.query(
    'SELECT 1 FROM pg_namespace WHERE nspname = $1',
    [schema],
  )
  if (found.rowCount !== 0) return

  try {
    await writer.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`)
  } catch (error) {
    // Another process created it at the same moment.
    if ((error as { code?: string }).code !== '23505') throw error
  }
}

function describeConnectError(
  location: PostgresLocation,
  error: unknown,
): StoreError {
  const code = (error as { code?: string }).code ?? ''
  const text = error instanceof Error ? error.message : String(error)
  const where = `PostgreSQL at ${location.server}`

  if (
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH)$/.test(code)
  ) {
    return new StoreError(
      'STORE_UNREACHABLE',
      `cannot reach ${where} (${location.redacted}): ${code}`,
      {
        cause: error,
        userMessage:
          `Cannot reach ${where} (${code}). Start the server, or check ` +
          'the host and port given with --db.',
      },
    )
  }
  if (/timeout/i.test(text)) {
    return new StoreError(
      'STORE_UNREACHABLE',
      `cannot reach ${where} (${location.redacted}): ${text}`,
      {
        cause: error,
        userMessage: `${where} did not answer in time. Check the host and port given with --db.`,
      },
    )
  }

  return new StoreError(
    'STORE_OPEN_FAILED',
    `cannot open ${location.redacted}: ${text}`,
    { cause: error, userMessage: `Cannot open the store at ${where}: ${text}` },
  )
}
