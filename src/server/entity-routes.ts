/**
 * `GET /api/entities/:kind/:id`: one user's or account's page at asOf. A
 * rep gets 404 for what they do not own, as for anything that does not exist.
 */
import { readEntity } from '../lists/read-entity.js'
import { viewerScope } from './permissions.js'
import { readInstant } from './read-request.js'

import type { FastifyInstance } from 'fastify'
import type { Store } from '../store/store.js'

export function registerEntityRoutes(app: FastifyInstance, store: Store): void {
  app.get('/api/entities/:kind/:id', async function getEntity(request, reply) {
    const { kind, id } = request.params as { kind: string; id: string }
    if (kind !== 'users' && kind !== 'accounts') {
      return reply.code(404).send({
        code: 'ENTITY_KIND_UNKNOWN',
        message: 'kind is users or accounts',
      })
    }
    const { ownerEmail } = viewerScope(request)
    const page = await readEntity(store, kind, id, {
      asOf: readInstant((request.query as { asOf?: string }).asOf),
      ...(ownerEmail === undefined ? {} : { ownerEmail }),
    })
    if (page === undefined) {
      return reply.code(404).send({
        code: 'ENTITY_NOT_FOUND',
        message: `no ${kind === 'users' ? 'user' : 'account'} ${id} at that asOf`,
      })
    }

    return page
  })
}
