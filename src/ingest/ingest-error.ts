/**
 * Ingestion's closed set of issue codes. A rejected message is data (an
 * `IngestIssue`), never a thrown error: the rest of its batch goes on.
 */
export const ingestIssueCodes = [
  'INGEST_JSON_INVALID',
  'INGEST_NOT_AN_OBJECT',
  'INGEST_TYPE_UNKNOWN',
  'INGEST_ID_MISSING',
  'INGEST_EVENT_MISSING',
  'INGEST_GROUP_ID_MISSING',
  'INGEST_PREVIOUS_ID_MISSING',
  'INGEST_FIELD_INVALID',
  'INGEST_TIMESTAMP_INVALID',
  'INGEST_TIMESTAMP_ZONELESS',
  'INGEST_MESSAGE_TOO_LARGE',
  'INGEST_BATCH_TOO_LARGE',
] as const

export type IngestIssueCode = (typeof ingestIssueCodes)[number]

/** Why one message was rejected: its place in the input, a code, a message. */
export interface IngestIssue {
  /** Position in the batch (0-based), when the input was a batch. */
  index?: number
  /** Line in the file (1-based), when the input was a file. */
  line?: number
  code: IngestIssueCode
  /** The field at fault, e.g. `timestamp` or `properties`. */
  path: string
  message: string
}

/** Things stored but worth a look: a value kept raw, an alias refused. */
export type IngestWarningCode =
  | 'INGEST_PROPERTY_TYPE_MISMATCH'
  | 'INGEST_ALIAS_REFUSED'
  | 'INGEST_SENT_AT_IGNORED'

export interface IngestWarning {
  messageId: string
  code: IngestWarningCode
  path: string
  message: string
}

/** Segment's limits, named in the errors that enforce them. */
export const messageSizeLimitBytes = 32 * 1024
export const batchSizeLimitBytes = 500 * 1024

/** A file that cannot be read as messages: missing, a folder, broken gzip. */
export class IngestFileError extends Error {
  readonly file: string

  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`)
    this.name = 'IngestFileError'
    this.file = file
  }
}
