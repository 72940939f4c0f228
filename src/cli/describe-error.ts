/**
 * Turns any error into one line for a person, and tells user errors (exit
 * 1) from everything else (exit 2). Each domain error carries its own
 * user-facing message.
 */
import { ImportError } from '../connectors/csv/import-error.js'
import { IngestFileError } from '../ingest/ingest-error.js'
import { SourceError } from '../ingest/sources.js'
import { ListError } from '../lists/list-error.js'
import { PeopleError } from '../server/people.js'
import { StoreError } from '../store/store-error.js'
import { CliUserError } from './cli-error.js'

import type { StoreErrorCode } from '../store/store-error.js'

const userStoreCodes = new Set<StoreErrorCode>([
  'STORE_LOCKED',
  'STORE_URL_UNSUPPORTED',
  'STORE_URL_INVALID',
  'STORE_UNREACHABLE',
])

/** Whether the error is the user's to fix (exit status 1). */
export function isUserError(error: unknown): boolean {
  if (error instanceof CliUserError) return true
  if (error instanceof ListError) return true
  if (error instanceof ImportError) return true
  if (error instanceof SourceError) return true
  if (error instanceof IngestFileError) return true
  if (error instanceof PeopleError) return true
  if (error instanceof StoreError) return userStoreCodes.has(error.code)

  return false
}

/** The message to print for an error. */
export function describeError(error: unknown): string {
  if (error instanceof ListError) return error.describe()
  if (error instanceof ImportError) return error.describe()
  if (error instanceof StoreError) return error.userMessage
  if (error instanceof Error) return error.message

  return String(error)
}
