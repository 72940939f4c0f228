/**
 * Reading API request bodies and query values, with errors that name what
 * was wrong (as list-language issues, answered with 400).
 */
import { parseZonedIsoInstant } from '../ingest/parse-instant.js'
import { ListError } from '../lists/list-error.js'

import type { FastifyRequest } from 'fastify'

/** The JSON body of a request (bodies arrive raw: see create-app). */
export function readJson(request: FastifyRequest): unknown {
  const raw = request.body as Buffer | undefined
  try {
    return JSON.parse((raw ?? Buffer.from('null')).toString('utf8'))
  } catch {
    throw new ListError('request', [
      {
        code: 'LIST_DEFINITION_INVALID',
        path: '',
        message: 'the body is not valid JSON',
      },
    ])
  }
}

/** An `asOf`-style instant: ISO 8601 with a zone; now when absent. */
export function readInstant(text: string | undefined): Date {
  if (text === undefined) return new Date()
  const date = parseZonedIsoInstant(text)
  if (date === undefined) {
    throw new ListError('request', [
      {
        code: 'LIST_VALUE_INVALID',
        path: 'asOf',
        message: 'asOf is an ISO 8601 instant with a zone',
      },
    ])
  }
  return date
}
