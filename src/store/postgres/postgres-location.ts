/**
 * A `postgres://` store URL: what to connect to, which schema to live in,
 * and how to name it without its password.
 */
import { userInfo } from 'node:os'

import { StoreError } from '../store-error.js'

export interface PostgresLocation {
  /** The URL pg connects with: the store's own parameters taken out. */
  connectionString: string
  /** The schema the store's tables live in; `public` unless `?schema=` says. */
  schema: string
  /** `host:port`, for messages. */
  server: string
  /** The URL without its password, safe to print. */
  redacted: string
}

// Lower case only: search_path folds unquoted names, and one spelling avoids
// two stores that differ by case.
const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/

/** Parses a store URL; a malformed one is a StoreError naming what is wrong. */
export function parsePostgresLocation(url: string): PostgresLocation {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (error) {
    throw invalid(`${redactPassword(url)} is not a valid URL`, error)
  }

  const schema = parsed.searchParams.get('schema') ?? 'public'
  if (!schemaPattern.test(schema)) {
    throw invalid(
      `schema ${JSON.stringify(schema)} in ${redactPassword(url)} must be ` +
        'lower-case letters, digits and _ (at most 63, not starting with a digit)',
    )
  }
  parsed.searchParams.delete('schema')
  // As libpq (psql) does: without a user, PGUSER, else the OS user.
  if (parsed.username === '') {
    parsed.username = process.env.PGUSER || userInfo().username
  }

  const redacted = new URL(url)
  if (redacted.password !== '') redacted.password = '***'

  return {
    connectionString: parsed.toString(),
    schema,
    server: `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`,
    redacted: redacted.toString(),
  }
}

/** A URL with its password replaced, for messages about a URL that does not parse. */
export function redactPassword(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
}

function invalid(message: string, cause?: unknown): StoreError {
  return new StoreError('STORE_URL_INVALID', message, {
    cause,
    userMessage: `Invalid --db URL: ${message}.`,
  })
}
