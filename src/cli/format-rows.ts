/**
 * Prints list results as an aligned table, CSV or JSON
 * (`{ "rows": [...], "total": N }`).
 */
import { stringify } from 'csv-stringify/sync'

import { toCsvCell } from '../lists/to-csv-cell.js'

import type { ListResult } from '../lists/run-list.js'

export type OutputFormat = 'table' | 'csv' | 'json'

export const outputFormats: readonly OutputFormat[] = ['table', 'csv', 'json']

/** Renders a result in one of the output formats. */
export function formatRows(result: ListResult, format: OutputFormat): string {
  if (format === 'json') {
    return JSON.stringify({ rows: result.rows, total: result.total }, null, 2)
  }

  if (format === 'csv') {
    return stringify(
      result.rows.map((row) => result.columns.map((c) => toCsvCell(row[c]))),
      {
        header: true,
        columns: result.columns,
      },
    )
  }

  const cells = result.rows.map((row) =>
    result.columns.map((c) => displayCell(row[c])),
  )
  const widths = result.columns.map((column, index) =>
    Math.min(
      60,
      Math.max(
        column.length,
        ...cells.map((line) => (line[index] ?? '').length),
      ),
    ),
  )
  const render = (line: string[]) =>
    line
      .map((cell, index) => cell.slice(0, 60).padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd()

  return [
    render(result.columns),
    render(widths.map((width) => '-'.repeat(width))),
    ...cells.map(render),
    `(${result.rows.length} of ${result.total} rows)`,
  ].join('\n')
}

function displayCell(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'object') return JSON.stringify(value)

  return String(value)
}
