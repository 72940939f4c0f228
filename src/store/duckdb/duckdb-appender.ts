/**
 * Rows into a DuckDB table through its appender, one data chunk (2,048
 * rows) at a time, inside the writer's transaction. Each value is set in
 * the chunk's vectors; for 20,000 events this costs about half the CPU of
 * the JSON-array INSERT (duckdb-bulk-insert.ts), which stays for the
 * columns and values the appender is not given here. Between chunks the
 * event loop takes its turn, so requests are served during a large append.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBTimestampTZValue,
  INTEGER,
  TIMESTAMPTZ,
  VARCHAR,
} from '@duckdb/node-api'

import type { DuckDBAppender, DuckDBType, DuckDBValue } from '@duckdb/node-api'
import type { AppendValue } from '../store.js'

/** How one column's values go into a chunk; `fits` says whether a value can. */
export interface ChunkColumn {
  type: DuckDBType
  fits(value: AppendValue): boolean
  convert(value: AppendValue): DuckDBValue
}

const rowsPerChunk = 2_048

const isText = (value: AppendValue) =>
  value === null || typeof value === 'string'
const isNumber = (value: AppendValue) =>
  value === null || typeof value === 'number'
const isWholeNumber = (value: AppendValue) =>
  value === null || (typeof value === 'number' && Number.isSafeInteger(value))
const same = (value: AppendValue) => value as DuckDBValue

const timestampTz: ChunkColumn = {
  type: TIMESTAMPTZ,
  fits: (value) =>
    value === null ||
    (value instanceof Date && Number.isFinite(value.getTime())),
  // Microseconds since the epoch: exact for every Date.
  convert: (value) =>
    value === null
      ? null
      : new DuckDBTimestampTZValue(BigInt((value as Date).getTime()) * 1000n),
}

const columnsByType: Readonly<Record<string, ChunkColumn>> = {
  VARCHAR: { type: VARCHAR, fits: isText, convert: same },
  // JSON is text to the appender; the writers make it with JSON.stringify.
  JSON: { type: VARCHAR, fits: isText, convert: same },
  DOUBLE: { type: DOUBLE, fits: isNumber, convert: same },
  INTEGER: {
    type: INTEGER,
    fits: (value) =>
      isWholeNumber(value) && Math.abs((value as number | null) ?? 0) < 2 ** 31,
    convert: same,
  },
  BIGINT: {
    type: BIGINT,
    fits: isWholeNumber,
    convert: (value) => (value === null ? null : BigInt(value as number)),
  },
  BOOLEAN: {
    type: BOOLEAN,
    fits: (value) => value === null || typeof value === 'boolean',
    convert: same,
  },
  TIMESTAMPTZ: timestampTz,
  'TIMESTAMP WITH TIME ZONE': timestampTz,
}

/** The chunk column for a SQL type, or undefined when the appender is not used for it. */
export function chunkColumnOf(sqlType: string): ChunkColumn | undefined {
  return columnsByType[sqlType.trim().toUpperCase()]
}

/** Whether every value of `rows` fits its column. */
export function rowsFit(
  columns: readonly ChunkColumn[],
  rows: readonly (readonly AppendValue[])[],
): boolean {
  return rows.every(
    (row) =>
      row.length === columns.length &&
      columns.every((column, index) => column.fits(row[index] ?? null)),
  )
}

/** Appends `rows` (which must fit, see rowsFit) and flushes. */
export async function appendInChunks(
  appender: DuckDBAppender,
  columns: readonly ChunkColumn[],
  rows: readonly (readonly AppendValue[])[],
): Promise<void> {
  const types = columns.map((column) => column.type)
  for (let at = 0; at < rows.length; at += rowsPerChunk) {
    const part = rows.slice(at, at + rowsPerChunk)
    const chunk = DuckDBDataChunk.create(types, part.length)
    columns.forEach((column, index) => {
      chunk.setColumnValues(
        index,
        part.map((row) => column.convert(row[index] ?? null)),
      )
    })
    appender.appendDataChunk(chunk)
    if (at + rowsPerChunk < rows.length)
      await new Promise((resolve) => setImmediate(resolve))
  }
  appender.flushSync()
}
