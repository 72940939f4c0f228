/**
 * The list language's errors. Validation returns every issue as data
 * (code, path inside the definition, message); `ListError` carries them
 * when a command must stop.
 */
export const listIssueCodes = [
  'LIST_DEFINITION_INVALID',
  'LIST_FIELD_UNKNOWN',
  'LIST_FIELD_NOT_APPLICABLE',
  'LIST_OPERATOR_UNKNOWN',
  'LIST_OPERATOR_TYPE',
  'LIST_VALUE_INVALID',
  'LIST_DURATION_INVALID',
  'LIST_METRIC_INVALID',
  'LIST_METRIC_UNKNOWN',
  'LIST_ME_UNBOUND',
  'LIST_COLUMN_DUPLICATE',
  'LIST_NOT_FOUND',
  'LIST_FILE_UNREADABLE',
] as const

export type ListIssueCode = (typeof listIssueCodes)[number]

export interface ListIssue {
  code: ListIssueCode
  /** Where in the definition, e.g. `where.all[2].value`. */
  path: string
  message: string
}

export class ListError extends Error {
  readonly issues: readonly ListIssue[]
  readonly source: string

  constructor(source: string, issues: readonly ListIssue[]) {
    const first = issues[0]
    super(
      first === undefined
        ? `${source}: invalid list`
        : `${source}: ${first.path ? `${first.path}: ` : ''}${first.message}`,
    )
    this.name = 'ListError'
    this.issues = issues
    this.source = source
  }

  /** Every issue, one a line, for a person. */
  describe(): string {
    return [
      `${this.source}: ${this.issues.length} problem(s) in the list definition`,
      ...this.issues.map(
        (issue) =>
          `  ${issue.path || '(top)'}: ${issue.message} [${issue.code}]`,
      ),
    ].join('\n')
  }
}
