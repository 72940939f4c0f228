/**
 * Reads a list definition from a YAML or JSON file and validates its shape.
 */
import { readFile } from 'node:fs/promises'

import { parse as parseYaml } from 'yaml'

import { validateListDefinition } from './validate-list-definition.js'
import { ListError } from './list-error.js'

import type { ListDefinition } from './list-definition.js'

/** Parses and validates a definition object; throws a `ListError` naming every problem. */
export function parseListDefinition(
  raw: unknown,
  source: string,
): ListDefinition {
  const { definition, issues } = validateListDefinition(raw)
  if (definition === undefined) throw new ListError(source, issues)

  return definition
}

/** Reads a definition file (YAML or JSON). */
export async function readListDefinition(
  path: string,
): Promise<ListDefinition> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ListError(path, [
      { code: 'LIST_FILE_UNREADABLE', path: '', message: reason },
    ])
  }

  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ListError(path, [
      {
        code: 'LIST_DEFINITION_INVALID',
        path: '',
        message: `not valid YAML or JSON: ${reason}`,
      },
    ])
  }

  return parseListDefinition(raw, path)
}
