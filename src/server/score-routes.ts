/**
 * Scores over HTTP: saved scores (create, read, update, delete), every
 * entity's score at an asOf, one entity's explanation, the history of
 * changes, and a backtest against an outcome.
 */
import {
  deleteDefinition,
  listDefinitions,
  readDefinition,
  saveDefinition,
  toDefinitionView,
} from '../catalog/definitions.js'
import { ListError } from '../lists/list-error.js'
import { parseListDefinition } from '../lists/read-list-definition.js'
import { compileOptionsForStore, runList } from '../lists/run-list.js'
import { backtestScore } from '../scores/backtest-score.js'
import { compileScore } from '../scores/compile-score.js'
import {
  builtInOutcomes,
  validateOutcomeDefinition,
} from '../scores/outcome-definition.js'
import { explainScore, runScore } from '../scores/run-score.js'
import { parseScoreDefinition, readSavedScore } from '../scores/saved-scores.js'
import { readScoreChanges } from '../scores/score-history.js'
import { ownProperty } from '../catalog/own-property.js'
import { forbidReps, requireEditor, viewerScope } from './permissions.js'
import { readInstant, readJson } from './read-request.js'

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ScoreRefresher } from '../scores/refresh-scores.js'
import type { OutcomeDefinition } from '../scores/outcome-definition.js'
import type { Store } from '../store/store.js'

export function registerScoreRoutes(
  app: FastifyInstance,
  store: Store,
  refresher: ScoreRefresher,
): void {
  app.get('/api/scores', async function getScores() {
    const saved = await listDefinitions(store, 'score')
    return { scores: saved.map(toDefinitionView) }
  })

  app.get('/api/scores/:name', async function getScore(request, reply) {
    const { name } = request.params as { name: string }
    const saved = await readDefinition(store, 'score', name)
    if (saved === undefined) return notFound(reply, name)

    return toDefinitionView(saved)
  })

  app.put('/api/scores/:name', async function putScore(request, reply) {
    if (!requireEditor(request, reply)) return reply
    const { name } = request.params as { name: string }
    const body = readJson(request) as Record<string, unknown> | null
    const score = parseScoreDefinition({ ...(body ?? {}), name }, 'definition')
    // Compiling checks every field and metric against the catalog.
    compileScore(score, await compileOptionsForStore(store))
    const { created } = await saveDefinition(
      store,
      'score',
      name,
      score as unknown as Record<string, unknown>,
    )
    refresher.trigger('definition')

    return reply.code(created ? 201 : 200).send({ name, definition: score })
  })

  app.delete('/api/scores/:name', async function removeScore(request, reply) {
    if (!requireEditor(request, reply)) return reply
    const { name } = request.params as { name: string }
    if (!(await deleteDefinition(store, 'score', name)))
      return notFound(reply, name)

    return reply.code(204).send()
  })

  app.get('/api/scores/:name/rows', async function scoreRows(request, reply) {
    const { name } = request.params as { name: string }
    const query = request.query as { asOf?: string; limit?: string }
    const score = await readSavedScore(store, name)
    if (score === undefined) return notFound(reply, name)

    const asOf = readInstant(query.asOf)
    const limit =
      query.limit === undefined
        ? undefined
        : Math.max(1, Number(query.limit) || 1)
    const owned = await ownedIds(store, request, score.of, asOf)
    const all = await runScore(store, score, {
      asOf,
      ...(limit === undefined || owned !== undefined ? {} : { limit }),
    })
    const rows =
      owned === undefined
        ? all
        : all.filter((row) => owned.has(row.id)).slice(0, limit)

    return { asOf: asOf.toISOString(), rows }
  })

  app.get(
    '/api/scores/:name/explain/:entity',
    async function explain(request, reply) {
      const { name, entity } = request.params as {
        name: string
        entity: string
      }
      const query = request.query as { asOf?: string }
      const score = await readSavedScore(store, name)
      if (score === undefined) return notFound(reply, name)

      const asOf = readInstant(query.asOf)
      // A rep asking about an account they do not own learns nothing of it.
      const owned = await ownedIds(store, request, score.of, asOf)
      const explanation =
        owned !== undefined && !owned.has(entity)
          ? undefined
          : await explainScore(store, score, entity, { asOf })
      if (explanation === undefined) {
        return reply.code(404).send({
          code: 'SCORE_ENTITY_NOT_FOUND',
          message: `${entity} does not exist at that asOf`,
        })
      }

      return explanation
    },
  )

  app.get('/api/scores/:name/changes', async function changes(request, reply) {
    const { name } = request.params as { name: string }
    const query = request.query as { since?: string; entity?: string }
    const score = await readSavedScore(store, name)
    if (score === undefined) return notFound(reply, name)

    const all = await readScoreChanges(store, name, {
      since: query.since === undefined ? new Date(0) : readInstant(query.since),
      ...(query.entity === undefined ? {} : { entityId: query.entity }),
    })
    const owned = await ownedIds(store, request, score.of, new Date())

    return {
      changes:
        owned === undefined
          ? all
          : all.filter((change) => owned.has(change.entityId)),
    }
  })

  app.post(
    '/api/scores/:name/backtest',
    async function backtest(request, reply) {
      if (!forbidReps(request, reply, 'backtest scores over every account')) {
        return reply
      }
      const { name } = request.params as { name: string }
      const body = (readJson(request) ?? {}) as {
        outcome?: unknown
        asOf?: string
        horizon?: string
      }
      const score = await readSavedScore(store, name)
      if (score === undefined) return notFound(reply, name)

      return backtestScore(store, score, readOutcome(body.outcome), {
        asOf: readInstant(body.asOf),
        horizon: body.horizon ?? '90d',
      })
    },
  )
}

// For a rep, the ids of the users or accounts they own; for others, all.
async function ownedIds(
  store: Store,
  request: FastifyRequest,
  of: 'users' | 'accounts',
  asOf: Date,
): Promise<Set<string> | undefined> {
  const { ownerEmail } = viewerScope(request)
  if (ownerEmail === undefined) return undefined

  const definition = parseListDefinition(
    { name: 'owned', of, columns: [of === 'users' ? 'user.id' : 'account.id'] },
    'owned',
  )
  return new Set((await runList(store, definition, { asOf, ownerEmail })).ids)
}

function readOutcome(value: unknown): OutcomeDefinition {
  if (typeof value === 'string') {
    const builtIn = ownProperty(builtInOutcomes, value)
    if (builtIn !== undefined) return builtIn
  }
  const { definition, issues } = validateOutcomeDefinition(value)
  if (definition === undefined) throw new ListError('outcome', issues)

  return definition
}

function notFound(reply: FastifyReply, name: string) {
  return reply
    .code(404)
    .send({ code: 'SCORE_NOT_FOUND', message: `no saved score named ${name}` })
}
