/**
 * `score.<name>.{fit,usage,total,fit_level,usage_level,quadrant}` in lists:
 * the saved score compiled as a subquery at the list's own asOf and joined
 * once per score. On a list of users an account score is the user's
 * account's.
 */
import { ownProperty } from '../catalog/own-property.js'
import { compileScore } from './compile-score.js'
import { quadrants } from './score-definition.js'

const levels = ['high', 'medium', 'low'] as const

import type {
  CompileContext,
  ScoreFieldResolver,
} from '../lists/compile-context.js'
import type { ScoreDefinition } from './score-definition.js'

const fieldTypes = {
  fit: 'number',
  usage: 'number',
  total: 'number',
  fit_level: 'string',
  usage_level: 'string',
  quadrant: 'string',
} as const

/** A resolver for the compiler over these saved scores. */
export function scoreFieldResolver(
  scores: Readonly<Record<string, ScoreDefinition>>,
): ScoreFieldResolver {
  return function resolveScoreField(context, scoreName, field, path) {
    const score = ownProperty(scores, scoreName)
    if (score === undefined) {
      const known = Object.keys(scores)
      context.issues.push({
        code: 'LIST_FIELD_UNKNOWN',
        path,
        message:
          `no saved score named ${JSON.stringify(scoreName)}` +
          (known.length > 0 ? `; scores: ${known.join(', ')}` : ''),
      })
      return undefined
    }
    const type = ownProperty<'number' | 'string'>(fieldTypes, field)
    if (type === undefined) {
      context.issues.push({
        code: 'LIST_FIELD_UNKNOWN',
        path,
        message: `score fields are ${Object.keys(fieldTypes)
          .map((f) => `score.${scoreName}.${f}`)
          .join(', ')}`,
      })
      return undefined
    }

    const alias = joinScore(context, score, path)
    if (alias === undefined) return undefined
    const allowedValues =
      field === 'quadrant'
        ? quadrants
        : field.endsWith('_level')
          ? levels
          : undefined

    return {
      sql: `${alias}.${field}`,
      type,
      ...(allowedValues ? { allowedValues } : {}),
    }
  }
}

function joinScore(
  context: CompileContext,
  score: ScoreDefinition,
  path: string,
): string | undefined {
  const existing = context.scoreJoins.get(score.name)
  if (existing !== undefined) return existing.alias

  let key: string
  if (score.of === context.of)
    key = context.of === 'users' ? 'u.user_id' : 'a.account_id'
  else if (score.of === 'accounts' && context.of === 'users') {
    context.joins.add('user_account')
    key = 'ua.account_id'
  } else {
    context.issues.push({
      code: 'LIST_FIELD_NOT_APPLICABLE',
      path,
      message: `score ${score.name} scores users; a list of accounts cannot show it`,
    })
    return undefined
  }

  // Nested scores do not refer to other scores, so no resolver inside.
  const { resolveScoreField: _none, ...options } = context.options
  const compiled = compileScore(
    score,
    { ...options, timezone: context.zone },
    context.params,
  )
  const alias = `sc${context.scoreJoins.size}`
  context.scoreJoins.set(score.name, {
    alias,
    sql: `LEFT JOIN (${compiled.sql}) ${alias} ON ${alias}.entity_id = ${key}`,
  })

  return alias
}
