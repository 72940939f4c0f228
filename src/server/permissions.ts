/**
 * Roles on the API. Admins and managers read everything and edit
 * definitions; reps read only the users and accounts they own in the CRM
 * (enforced in every list and score query) and edit nothing.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

/** What a request may see: `$me`, and for a rep, the owner filter. */
export function viewerScope(request: FastifyRequest): {
  me?: string
  ownerEmail?: string
} {
  const person = request.person
  if (person === undefined) return {}

  return person.role === 'rep'
    ? { me: person.email, ownerEmail: person.email }
    : { me: person.email }
}

/** Whether the person may only see what they own. */
export function isRep(request: FastifyRequest): boolean {
  return request.person?.role === 'rep'
}

/** Answers 403 unless the person may edit definitions; returns whether they may. */
export function requireEditor(
  request: FastifyRequest,
  reply: FastifyReply,
): boolean {
  if (request.person?.role === 'admin' || request.person?.role === 'manager')
    return true

  void reply.code(403).send({
    code: 'API_ROLE_FORBIDDEN',
    message: 'only admins and managers change lists and scores',
  })
  return false
}

/** Answers 403 for reps; returns whether the person may go on. */
export function forbidReps(
  request: FastifyRequest,
  reply: FastifyReply,
  what: string,
): boolean {
  if (!isRep(request)) return true

  void reply
    .code(403)
    .send({ code: 'API_ROLE_FORBIDDEN', message: `reps cannot ${what}` })
  return false
}
