/**
 * The import mapping (DESIGN.md section 5): which column is the id, how
 * columns are renamed, their types, and the zone of zoneless timestamps.
 */
import { readFile } from 'node:fs/promises'

import { parse as parseYaml } from 'yaml'
import { z } from 'zod'

import { isValidTimeZone } from '../../ingest/parse-instant.js'
import { ImportError } from './import-error.js'

const columnType = z.enum(['string', 'number', 'boolean', 'timestamp'])

const mappingSchema = z
  .object({
    id: z.string().min(1),
    columns: z.record(z.string(), z.string().min(1)).default({}),
    types: z.record(z.string(), columnType).default({}),
    timestamps: z
      .object({
        zone: z.string().refine(isValidTimeZone, 'not an IANA time zone'),
      })
      .partial()
      .default({}),
  })
  .strict()

export type ImportMapping = z.infer<typeof mappingSchema>
export type ColumnType = z.infer<typeof columnType>

/** Parses a mapping object, naming every problem with its path. */
export function parseImportMapping(
  value: unknown,
  file: string,
): ImportMapping {
  const result = mappingSchema.safeParse(value)
  if (result.success) return result.data

  throw new ImportError(
    'IMPORT_MAPPING_INVALID',
    file,
    'invalid import mapping',
    result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`,
    ),
  )
}

/** Reads and parses a mapping YAML (or JSON) file. */
export async function readImportMapping(path: string): Promise<ImportMapping> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ImportError('IMPORT_FILE_UNREADABLE', path, errorText(error))
  }

  let value: unknown
  try {
    value = parseYaml(text)
  } catch (error) {
    throw new ImportError('IMPORT_MAPPING_INVALID', path, errorText(error))
  }

  return parseImportMapping(value, path)
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
