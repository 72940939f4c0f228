/**
 * Segment's tracking API: POST /v1/track|identify|group|page|screen|alias
 * and /v1/batch. Every message goes through normalizeMessage and the group
 * commit queue; the answer comes after the commit.
 */
import { normalizeMessage } from '../ingest/normalize-message.js'
import { readBody } from './read-body.js'

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IngestIssue } from '../ingest/ingest-error.js'
import type { IngestQueue } from '../ingest/ingest-queue.js'
import type {
  MessageType,
  NormalizedMessage,
} from '../ingest/normalize-message.js'

const singleRoutes: MessageType[] = [
  'track',
  'identify',
  'group',
  'page',
  'screen',
  'alias',
]

export interface IngestRouteOptions {
  queue: IngestQueue
  /** The source a request belongs to; undefined means refused (401). */
  authenticate(
    request: FastifyRequest,
    body: unknown,
  ): Promise<string | undefined>
}

export function registerIngestRoutes(
  app: FastifyInstance,
  options: IngestRouteOptions,
) {
  app.post('/v1/batch', async function ingestBatch(request, reply) {
    return ingest(request, reply, options, undefined)
  })
  for (const type of singleRoutes) {
    app.post(`/v1/${type}`, async function ingestOne(request, reply) {
      return ingest(request, reply, options, type)
    })
  }
}

async function ingest(
  request: FastifyRequest,
  reply: FastifyReply,
  options: IngestRouteOptions,
  impliedType: MessageType | undefined,
) {
  const receivedAt = new Date()
  const body = await readBody(
    request.body as Buffer | undefined,
    request.headers['content-encoding'],
  )
  if (!body.ok)
    return reply
      .code(body.status)
      .send({ success: false, code: body.code, message: body.message })

  const sourceId = await options.authenticate(request, body.value)
  if (sourceId === undefined) {
    return reply.code(401).send({
      success: false,
      code: 'INGEST_WRITE_KEY_INVALID',
      message: 'unknown or revoked write key',
    })
  }

  const raw = body.value as Record<string, unknown> | null
  const items: unknown[] =
    impliedType === undefined
      ? Array.isArray(raw?.batch)
        ? raw.batch
        : []
      : [raw]
  if (impliedType === undefined && !Array.isArray(raw?.batch)) {
    return reply.code(400).send({
      success: false,
      code: 'INGEST_FIELD_INVALID',
      message: 'a batch body needs a batch array',
    })
  }

  const accepted: NormalizedMessage[] = []
  const rejected: IngestIssue[] = []
  items.forEach((item, index) => {
    const result = normalizeMessage(item, {
      sourceId,
      receivedAt,
      batchSentAt: raw?.sentAt,
      ...(impliedType === undefined ? {} : { impliedType }),
    })
    if (result.ok) accepted.push(result.message)
    else rejected.push(...result.issues.map((issue) => ({ ...issue, index })))
  })

  const summary = await options.queue.submit(accepted)
  for (const warning of summary.warnings) {
    // An alias refused or a value kept raw: stored, but worth a look.
    request.log.warn(
      {
        sourceId,
        messageId: warning.messageId,
        code: warning.code,
        path: warning.path,
      },
      warning.message,
    )
  }
  request.log.info(
    {
      sourceId,
      stored: summary.stored,
      duplicates: summary.duplicates,
      rejected: rejected.length,
    },
    'ingested',
  )

  const answer = {
    success: rejected.length === 0,
    stored: summary.stored,
    duplicates: summary.duplicates,
    rejected,
    warnings: summary.warnings,
  }

  return reply.code(rejected.length === 0 ? 200 : 400).send(answer)
}
