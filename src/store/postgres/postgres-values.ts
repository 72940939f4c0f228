/**
 * Values between JavaScript and PostgreSQL, shaped as the DuckDB store
 * shapes them: bound parameters typed as DuckDB binds them, rows read back
 * as plain values, and rows written as COPY text.
 */
import pg from 'pg'

import { StoreError } from '../store-error.js'

import type { CustomTypesConfig } from 'pg'
import type { AppendValue, SqlParam } from '../store.js'

const oids = {
  int8: 20,
  json: 114,
  jsonb: 3802,
  numeric: 1700,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
} as const

/** Whole numbers and decimals as numbers when exact enough, else as text (as DuckDB's bigints). */
function parseNumber(text: string): number | string {
  const value = Number(text)

  return Number.isSafeInteger(value) || !/^-?\d+$/.test(text) ? value : text
}

const parsers = new Map<number, (text: string) => unknown>([
  [oids.int8, parseNumber],
  [oids.numeric, parseNumber],
  // DuckDB hands JSON columns back as compact JSON text; so does this store.
  [oids.json, (text) => JSON.stringify(JSON.parse(text))],
  [oids.jsonb, (text) => JSON.stringify(JSON.parse(text))],
  [oids.timestamptz, (text) => toIsoText(`${text.replace(' ', 'T')}`)],
  // Zoneless values are UTC here, as in DuckDB (the session zone is UTC).
  [oids.timestamp, (text) => toIsoText(`${text.replace(' ', 'T')}Z`)],
  [oids.date, (text) => toIsoText(`${text}T00:00:00Z`)],
])

/** An instant as ISO UTC text; `infinity` and the like stay as they are. */
function toIsoText(text: string): string {
  const instant = new Date(text.replace(/([+-]\d\d)$/, '$1:00'))

  return Number.isNaN(instant.getTime()) ? text : instant.toISOString()
}

/** Type parsers for every connection of the store. */
export const rowTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    parsers.get(oid) ??
    pg.types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
}

// DuckDB binds numbers as DOUBLE and Dates as TIMESTAMPTZ; PostgreSQL would
// guess from context (and read a Date sent as text in some INSERT ... SELECT
// as text), so such placeholders get an explicit cast. Strings and nulls stay
// untyped, so that PostgreSQL reads them as the column or operand needs.
const castOf = (param: SqlParam): string => {
  if (typeof param === 'number') return '::double precision'
  if (typeof param === 'boolean') return '::boolean'
  if (typeof param === 'bigint') return '::bigint'
  if (param instanceof Date) return '::timestamptz'

  return ''
}

// Quoted text, quoted names, comments and placeholders, in one pass.
const placeholderPattern =
  /'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\$(\d+)(?!\d)/g

/** `sql` with its typed placeholders cast, and the values as `pg` sends them. */
export function bindParams(
  sql: string,
  params: readonly SqlParam[],
): { text: string; values: unknown[] } {
  if (params.length === 0) return { text: sql, values: [] }

  const text = sql.replace(placeholderPattern, (match, index?: string) => {
    if (index === undefined) return match
    const param = params[Number(index) - 1]

    return param === undefined ? match : `${match}${castOf(param)}`
  })
  const values = params.map((param) => {
    if (param instanceof Date) return param.toISOString()
    if (typeof param === 'bigint') return param.toString()

    return param
  })

  return { text, values }
}

/**
 * One row in COPY's text format: tab-separated, `\N` for NULL, backslash,
 * tab, newline and carriage return escaped; instants as ISO UTC.
 * @example toCopyLine(['a\tb', null, 1]) // 'a\\tb\t\\N\t1\n'
 */
export function toCopyLine(row: readonly AppendValue[]): string {
  return `${row.map(toCopyField).join('\t')}\n`
}

function toCopyField(value: AppendValue | undefined): string {
  if (value === null || value === undefined) return '\\N'
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (typeof value === 'number') return String(value)
  if (value.includes('\0')) {
    throw new StoreError(
      'STORE_QUERY_FAILED',
      'a value holds a NUL character, which PostgreSQL text cannot store',
    )
  }

  return value.replace(/[\\\t\n\r]/g, (character) => copyEscapes[character]!)
}

const copyEscapes: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
}
