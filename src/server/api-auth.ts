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

const publicRoutes = new Set(['/api/openapi.json', '/health'])

/**
 * Whether a matched route needs a person's token: every route does, but
 * ingestion (write keys, checked by its handlers), the OpenAPI document and
 * no route at all (a 404 shows nothing). Judged on the route the router
 * matched, never on the raw URL, so `/%61pi/lists` is checked as `/api/lists`.
 */
export function needsPersonToken(route: string | undefined): boolean {
  if (route === undefined || route === '') return false
  if (route.startsWith('/v1/')) return false

  return !publicRoutes.has(route)
}

/** Adds the bearer-token check to every route that needs one. */
export function registerApiAuth(app: FastifyInstance, store: Store): void {
  app.addHook(
    'onRequest',
    async function checkToken(request: FastifyRequest, reply: FastifyReply) {
      if (!needsPersonToken(request.routeOptions.url)) return

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
