/**
 * API authentication: every /api route but the OpenAPI document needs
 * `Authorization: Bearer <token>` of a person (`leadlens people add`).
 */
import { findPersonByToken } from './people.js'

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Store } from '../store/store.js'
import type { Person } from './people.js'

declare module 'fastify' {
  interface FastifyRequest {
    person?: Person
  }
}

const publicRoutes = new Set(['/api/openapi.json'])

/** Adds the bearer-token check to every /api route. */
export function registerApiAuth(app: FastifyInstance, store: Store): void {
  app.addHook(
    'onRequest',
    async function checkToken(request: FastifyRequest, reply: FastifyReply) {
      const path = request.url.split('?')[0] ?? ''
      if (!path.startsWith('/api/') || publicRoutes.has(path)) return

      const header = request.headers.authorization
      const token =
        typeof header === 'string' && /^bearer\s+/i.test(header)
          ? header.replace(/^bearer\s+/i, '').trim()
          : undefined
      const person =
        token === undefined ? undefined : await findPersonByToken(store, token)
      if (person === undefined) {
        return reply.code(401).send({
          code: 'API_TOKEN_INVALID',
          message:
            'send Authorization: Bearer <token> (leadlens people add EMAIL --role ROLE)',
        })
      }
      request.person = person
    },
  )
}
