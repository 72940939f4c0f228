/**
 * Reads the rows of a CSV file (with a header) or a JSON array of objects,
 * each with its line (CSV) or position (JSON) for error messages.
 */
import { readFile } from 'node:fs/promises'

import { parse as parseCsv } from 'csv-parse'

import { openTextStream } from '../../ingest/read-lines.js'
import { ImportError } from './import-error.js'

export interface SourceRecord {
  line: number
  values: Record<string, unknown>
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
  try {
    const parser = (await openTextStream(path)).pipe(
      parseCsv({
        columns: true,
        bom: true,
        info: true,
        skip_empty_lines: true,
      }),
    )
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>
      info: { lines: number }
    }>) {
      records.push({ line: info.lines, values: record })
    }
  } catch (error) {
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
    const text = await readFile(path, 'utf8')
    value = JSON.parse(text)
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

  return value.map((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ImportError(
        'IMPORT_FORMAT_UNKNOWN',
        path,
        `item ${index + 1} is not an object`,
      )
    }

    return { line: index + 1, values: item as Record<string, unknown> }
  })
}
