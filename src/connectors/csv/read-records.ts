/**
 * Reads the rows of a CSV file (with a header) or a JSON array of objects,
 * each with its line (CSV) or position (JSON) for error messages.
 */
import { parse as parseCsv } from 'csv-parse'

import { emptyRecord } from '../../catalog/own-property.js'
import { openTextStream } from '../../ingest/read-lines.js'
import { ImportError } from './import-error.js'

export interface SourceRecord {
  line: number
  values: Record<string, unknown>
  /** Why the row cannot be read (e.g. a wrong number of fields). */
  malformed?: string
}

/** Reads every record of a .csv or .json file (gzip understood). */
export async function readRecords(path: string): Promise<SourceRecord[]> {
  const lower = path.toLowerCase().replace(/\.gz$/, '')
  if (lower.endsWith('.json')) return readJsonRecords(path)
  if (lower.endsWith('.csv')) return readCsvRecords(path)

  throw new ImportError(
    'IMPORT_FORMAT_UNKNOWN',
    path,
    'cannot tell the format: name the file .csv or .json',
  )
}

async function readCsvRecords(path: string): Promise<SourceRecord[]> {
  const records: SourceRecord[] = []
  let header: string[] | undefined
  try {
    // Rows as arrays: the header is mapped here, onto records without a
    // prototype, so a column named __proto__ is data like any other.
    const parser = (await openTextStream(path)).pipe(
      parseCsv({
        bom: true,
        info: true,
        skip_empty_lines: true,
        relax_column_count: true,
      }),
    )
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[]
      info: { lines: number }
    }>) {
      if (header === undefined) {
        header = record
        continue
      }
      if (record.length !== header.length) {
        records.push({
          line: info.lines,
          values: emptyRecord(),
          malformed: `${record.length} fields where the header has ${header.length}`,
        })
        continue
      }
      const values = emptyRecord()
      header.forEach((column, index) => {
        values[column] = record[index]
      })
      records.push({ line: info.lines, values })
    }
  } catch (error) {
    if (error instanceof ImportError) throw error
    throw new ImportError(
      'IMPORT_FILE_UNREADABLE',
      path,
      error instanceof Error ? error.message : String(error),
    )
  }

  return records
}

async function readJsonRecords(path: string): Promise<SourceRecord[]> {
  let value: unknown
  try {
    const chunks: Buffer[] = []
    for await (const chunk of await openTextStream(path))
      chunks.push(Buffer.from(chunk))
    const text = Buffer.concat(chunks).toString('utf8')
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  } catch (error) {
    throw new ImportError(
      'IMPORT_FILE_UNREADABLE',
      path,
      error instanceof Error ? error.message : String(error),
    )
  }

  if (!Array.isArray(value)) {
    throw new ImportError(
      'IMPORT_FORMAT_UNKNOWN',
      path,
      'a JSON import must be an array of objects',
    )
  }

  // An item that is not an object is one bad row, not a bad file.
  return value.map((item, index): SourceRecord => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      return {
        line: index + 1,
        values: emptyRecord(),
        malformed: 'not an object',
      }
    }

    return { line: index + 1, values: item as Record<string, unknown> }
  })
}
