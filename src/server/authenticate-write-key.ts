/**
 * Finds the write key of an ingestion request: HTTP Basic auth with the key
 * as user name (what Segment's and RudderStack's clients send), else
 * `writeKey` in the body.
 */
import { findSourceByWriteKey } from '../ingest/sources.js'

import type { FastifyRequest } from 'fastify'
import type { Store } from '../store/store.js'

/** The write key a request carries (`bodyWriteKey`: its body's), or undefined. */
export function readWriteKey(
  request: FastifyRequest,
  bodyWriteKey: string | undefined,
): string | undefined {
  const header = request.headers.authorization
  if (typeof header === 'string' && /^basic\s+/i.test(header)) {
    const decoded = Buffer.from(
      header.replace(/^basic\s+/i, ''),
      'base64',
    ).toString('utf8')
    const user = decoded.split(':')[0]
    if (user) return user
  }

  return bodyWriteKey
}

/** Resolves a request to its source id, or undefined for 401. */
export function authenticateWriteKey(store: Store) {
  return async function authenticate(
    request: FastifyRequest,
    bodyWriteKey: string | undefined,
  ): Promise<string | undefined> {
    const key = readWriteKey(request, bodyWriteKey)
    if (key === undefined) return undefined

    return findSourceByWriteKey(store, key)
  }
}
