/**
 * The app API under /api: stats and list previews so far.
 */
import { ListError } from '../lists/list-error.js'
import { parseListDefinition } from '../lists/read-list-definition.js'
import { runList } from '../lists/run-list.js'
import { readStats } from '../store/read-stats.js'

import type { FastifyInstance } from 'fastify'
import type { Store } from '../store/store.js'

export function registerApiRoutes(app: FastifyInstance, store: Store) {
  app.get('/api/stats', async function getStats() {
    return readStats(store)
  })

  app.post('/api/lists/preview', async function previewList(request, reply) {
    const raw = request.body as Buffer | undefined
    let body: { definition?: unknown; asOf?: string; limit?: number }
    try {
      body = JSON.parse(
        (raw ?? Buffer.alloc(0)).toString('utf8'),
      ) as typeof body
    } catch {
      return reply.code(400).send({
        code: 'API_JSON_INVALID',
        message: 'the body is not valid JSON',
      })
    }

    try {
      const definition = parseListDefinition(
        body.definition ?? body,
        'definition',
      )
      const asOf = body.asOf === undefined ? new Date() : new Date(body.asOf)
      const result = await runList(store, definition, {
        asOf,
        limit: body.limit ?? 50,
      })

      return { rows: result.rows, total: result.total, columns: result.columns }
    } catch (error) {
      if (error instanceof ListError) {
        return reply
          .code(400)
          .send({ code: 'LIST_INVALID', issues: error.issues })
      }
      throw error
    }
  })
}
