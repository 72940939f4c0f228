/** DuckDB's SQL where it differs from PostgreSQL (see ../sql-dialect.ts). */
import type { SqlDialect } from '../sql-dialect.js'

const castTypes = {
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
} as const

export const duckDbDialect: SqlDialect = {
  name: 'duckdb',
  types: { double: 'DOUBLE', json: 'JSON' },
  staged: (table) => `temp.${table}`,

  // A JSON pointer (RFC 6901).
  jsonPath: (keys) =>
    keys
      .map((key) => `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`)
      .join(''),

  jsonPathOfKey: (column) =>
    `('/' || replace(replace(${column}, '~', '~0'), '/', '~1'))`,
  jsonText: (column, path) => `json_extract_string(${column}, ${path})`,
  jsonValue: (column, path) => `json_extract(${column}, ${path})`,
  tryCast: (text, type) => `TRY_CAST(${text} AS ${castTypes[type]})`,
  epochMs: (instant) => `epoch_ms(${instant})`,
  mergePatch: (target, patch) => `json_merge_patch(${target}, ${patch})`,
  text: (expression) => `CAST(${expression} AS VARCHAR)`,
  groupsAccountsByTableKey: false,
  lockRowsSkipLocked: '',
  setupStatements: [],
}
