/**
 * Many rows into a DuckDB table as one INSERT: each column travels as one
 * JSON array bound as text, and DuckDB parses and unnests them side by side.
 * Serialising a column is one native JSON.stringify on the event loop; the
 * parsing runs on DuckDB's threads. Whole rows of values of their columns'
 * kinds go through the appender instead (duckdb-appender.ts), a data chunk
 * at a time, for about half the CPU; this INSERT takes the rest (partial
 * column lists, values to cast).
 */
import { quoteIdentifier } from '../store.js'

import type { AppendValue } from '../store.js'

type Encoding = 'VARCHAR' | 'DOUBLE' | 'BOOLEAN' | 'INSTANT' | 'NUMBER_TEXT'

export interface BulkInsert {
  sql: string
  /** One JSON array per column, each to bind as VARCHAR. */
  params: string[]
}

/** The INSERT of `rows` (values in `columns` order) into `table`. */
export function bulkInsert(
  table: string,
  columns: readonly string[],
  rows: readonly (readonly AppendValue[])[],
): BulkInsert {
  const encodings = columns.map((_, index) => encodingOf(rows, index))
  const params = encodings.map((encoding, index) =>
    JSON.stringify(rows.map((row) => encode(row[index] ?? null, encoding))),
  )
  const selects = encodings.map((encoding, index) =>
    decode(
      `unnest(from_json($${index + 1}, '${jsonArrayType(encoding)}'))`,
      encoding,
    ),
  )
  const names = columns.map(quoteIdentifier).join(', ')

  return {
    sql: `INSERT INTO ${table} (${names}) SELECT ${selects.join(', ')}`,
    params,
  }
}

// What the column's values are, from the first one that is not null.
// Numbers that JSON cannot hold (NaN, infinities) travel as text.
function encodingOf(
  rows: readonly (readonly AppendValue[])[],
  index: number,
): Encoding {
  let encoding: Encoding = 'VARCHAR'
  for (const row of rows) {
    const value = row[index] ?? null
    if (value === null) continue
    if (typeof value === 'string') return 'VARCHAR'
    if (typeof value === 'boolean') return 'BOOLEAN'
    if (value instanceof Date) return 'INSTANT'
    if (!Number.isFinite(value)) return 'NUMBER_TEXT'
    encoding = 'DOUBLE'
  }

  return encoding
}

function encode(value: AppendValue, encoding: Encoding): unknown {
  if (value === null) return null
  // Microseconds since the epoch: exact for every Date.
  if (encoding === 'INSTANT') return (value as Date).getTime() * 1000
  if (encoding === 'NUMBER_TEXT') return String(value)

  return value
}

function jsonArrayType(encoding: Encoding): string {
  if (encoding === 'INSTANT') return '["BIGINT"]'
  if (encoding === 'NUMBER_TEXT') return '["VARCHAR"]'

  return `["${encoding}"]`
}

function decode(expression: string, encoding: Encoding): string {
  if (encoding === 'INSTANT') return `make_timestamptz(${expression})`
  if (encoding === 'NUMBER_TEXT') return `CAST(${expression} AS DOUBLE)`

  return expression
}
