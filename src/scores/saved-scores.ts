/**
 * Saved scores: read from the definitions table, by name.
 */
import { listDefinitions, readDefinition } from '../catalog/definitions.js'
import { ListError } from '../lists/list-error.js'
import { validateScoreDefinition } from './score-definition.js'

import type { Store } from '../store/store.js'
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
