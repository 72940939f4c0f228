/**
 * Saved scores: read from the definitions table, by name.
 */
import { ownProperty } from '../catalog/own-property.js'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'

import { parse as parseYaml } from 'yaml'

import { listDefinitions, readDefinition } from '../catalog/definitions.js'
import { ListError } from '../lists/list-error.js'
import {
  builtInOutcomes,
  validateOutcomeDefinition,
} from './outcome-definition.js'
import { validateScoreDefinition } from './score-definition.js'

import type { Store } from '../store/store.js'
import type { OutcomeDefinition } from './outcome-definition.js'
import type { ScoreDefinition } from './score-definition.js'

/** Every saved score, by name. */
export async function readSavedScores(
  store: Store,
): Promise<Record<string, ScoreDefinition>> {
  const saved = await listDefinitions(store, 'score')

  return Object.fromEntries(
    saved.map((score) => [
      score.name,
      score.definition as unknown as ScoreDefinition,
    ]),
  )
}

/** Parses and checks a score definition; throws a `ListError` naming every problem. */
export function parseScoreDefinition(
  raw: unknown,
  source: string,
): ScoreDefinition {
  const { definition, issues } = validateScoreDefinition(raw)
  if (definition === undefined) throw new ListError(source, issues)

  return definition
}

/** A saved score by name. */
export async function readSavedScore(
  store: Store,
  name: string,
): Promise<ScoreDefinition | undefined> {
  const saved = await readDefinition(store, 'score', name)

  return saved === undefined
    ? undefined
    : parseScoreDefinition(saved.definition, name)
}

/** A score definition file (YAML or JSON), or else a saved score of that name. */
export async function loadScore(
  store: Store,
  nameOrPath: string,
): Promise<{ score: ScoreDefinition; isSaved: boolean }> {
  if (existsSync(nameOrPath)) {
    return {
      score: parseScoreDefinition(await readYaml(nameOrPath), nameOrPath),
      isSaved: false,
    }
  }

  const saved = await readSavedScore(store, nameOrPath)
  if (saved === undefined) {
    throw new ListError(nameOrPath, [
      {
        code: 'LIST_NOT_FOUND',
        path: '',
        message:
          'no such file and no saved score of that name (see leadlens apply)',
      },
    ])
  }

  return { score: saved, isSaved: true }
}

/** A built-in outcome (deal_won) or an outcome definition file. */
export async function loadOutcome(
  nameOrPath: string,
): Promise<OutcomeDefinition> {
  const builtIn = ownProperty(builtInOutcomes, nameOrPath)
  if (builtIn !== undefined) return builtIn
  if (!existsSync(nameOrPath)) {
    throw new ListError(nameOrPath, [
      {
        code: 'LIST_NOT_FOUND',
        path: '',
        message: `not a built-in outcome (${Object.keys(builtInOutcomes).join(', ')}) nor a file`,
      },
    ])
  }

  const { definition, issues } = validateOutcomeDefinition(
    await readYaml(nameOrPath),
  )
  if (definition === undefined) throw new ListError(nameOrPath, issues)

  return definition
}

async function readYaml(path: string): Promise<unknown> {
  try {
    return parseYaml(await readFile(path, 'utf8'))
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ListError(path, [
      { code: 'LIST_FILE_UNREADABLE', path: '', message: reason },
    ])
  }
}
