/** The store's error codes: opening, locking and running statements. */
export type StoreErrorCode =
  | 'STORE_LOCKED'
  | 'STORE_URL_UNSUPPORTED'
  | 'STORE_URL_INVALID'
  | 'STORE_UNREACHABLE'
  | 'STORE_OPEN_FAILED'
  | 'STORE_QUERY_FAILED'
  | 'STORE_MIGRATION_FAILED'
  | 'STORE_CONNECTION_LOST'

/** An error from the store, with a code, a developer message and a user message. */
export class StoreError extends Error {
  readonly code: StoreErrorCode
  readonly userMessage: string

  constructor(
    code: StoreErrorCode,
    message: string,
    options: { userMessage?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause })
    this.name = 'StoreError'
    this.code = code
    this.userMessage = options.userMessage ?? message
  }
}

/**
 * A failed statement as a StoreError naming the statement's start (a
 * StoreError passes through).
 */
export function describeQueryError(sql: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error
  const text = error instanceof Error ? error.message : String(error)
  const head = sql.replace(/\s+/g, ' ').trim().slice(0, 120)

  return new StoreError('STORE_QUERY_FAILED', `${text} (in: ${head})`, {
    cause: error,
  })
}
