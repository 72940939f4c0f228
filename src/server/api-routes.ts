/**
 * The app API under /api: stats, lists, the OpenAPI document. Errors of the
 * list language become 400 (404 for an unknown list) with every issue.
 */
import { ListError } from '../lists/list-error.js'
import { readStats } from '../catalog/read-stats.js'
import { registerApiAuth } from './api-auth.js'
import { registerEntityRoutes } from './entity-routes.js'
import { registerListRoutes, sendListError } from './list-routes.js'
import { openApiDocument } from './openapi.js'
import { forbidReps } from './permissions.js'
import { registerScoreRoutes } from './score-routes.js'

import type { IngestInbox } from '../ingest/ingest-inbox.js'
import type { FastifyInstance } from 'fastify'
import type { ScoreRefresher } from '../scores/refresh-scores.js'
import type { Store } from '../store/store.js'

export function registerApiRoutes(
  app: FastifyInstance,
  store: Store,
  refresher: ScoreRefresher,
  inbox: IngestInbox,
) {
  registerApiAuth(app, store)

  app.setErrorHandler(function handleError(error, request, reply) {
    if (error instanceof ListError) return sendListError(error, reply)
    if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        code: 'INGEST_BATCH_TOO_LARGE',
        message: 'the body is over the 500 KB batch limit',
      })
    }
    const status = (error as { statusCode?: number }).statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({
        code: 'REQUEST_INVALID',
        message: error instanceof Error ? error.message : 'bad request',
      })
    }

    request.log.error({ err: error }, 'request failed')
    return reply.code(500).send({
      code: 'INTERNAL',
      message: 'something went wrong; see the server log',
    })
  })

  // For load balancers: up, and the store answers. They ask every few
  // seconds, so only what goes wrong is logged.
  app.get('/health', { logLevel: 'warn' }, async function getHealth() {
    await store.query('SELECT 1 AS ok')
    // Accepted messages not yet in lists: a load balancer or the bench can watch it.
    return { ok: true, ingestBacklog: await inbox.readBacklog() }
  })

  app.get('/api/openapi.json', async function getOpenApi() {
    return openApiDocument
  })

  app.get('/api/stats', async function getStats(request, reply) {
    if (!forbidReps(request, reply, 'read workspace-wide counts')) return reply
    return readStats(store)
  })

  registerListRoutes(app, store)
  registerScoreRoutes(app, store, refresher)
  registerEntityRoutes(app, store)
}
