/**
 * Record imports' errors. A problem with the whole import (mapping, file)
 * throws an `ImportError`; a problem with one row is an `ImportIssue`, and
 * the other rows are stored.
 */
export type ImportErrorCode =
  | 'IMPORT_KIND_UNKNOWN'
  | 'IMPORT_MAPPING_INVALID'
  | 'IMPORT_FILE_UNREADABLE'
  | 'IMPORT_FORMAT_UNKNOWN'
  | 'IMPORT_COLUMN_MISSING'

export type ImportIssueCode =
  | 'IMPORT_ID_MISSING'
  | 'IMPORT_VALUE_INVALID'
  | 'IMPORT_TIMESTAMP_ZONELESS'
  | 'IMPORT_ROW_MALFORMED'

export interface ImportIssue {
  file: string
  /** 1-based line in a CSV file, or 1-based position in a JSON array. */
  line: number
  column: string
  code: ImportIssueCode
  message: string
}

export class ImportError extends Error {
  readonly code: ImportErrorCode
  readonly file: string
  readonly issues: readonly string[]

  constructor(
    code: ImportErrorCode,
    file: string,
    message: string,
    issues: readonly string[] = [],
  ) {
    super(message)
    this.name = 'ImportError'
    this.code = code
    this.file = file
    this.issues = issues
  }

  /** The message with every issue on its own line. */
  describe(): string {
    const head = `${this.file}: ${this.message}`

    return this.issues.length === 0
      ? head
      : [head, ...this.issues.map((issue) => `  ${issue}`)].join('\n')
  }
}
