/**
 * Segment's tracking API: POST /v1/track|identify|group|page|screen|alias
 * and /v1/batch. Every message is validated here; the accepted ones are
 * answered once their body is committed to the ingestion inbox, and the
 * inbox applies them to the store moments later (see ingest-inbox.ts).
 */
import { normalizeBody } from '../ingest/normalize-body.js'

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IngestInbox } from '../ingest/ingest-inbox.js'
import type {
  MessageType,
  NormalizedMessage,
} from '../ingest/normalize-message.js'
import type { BodyChecker } from './body-checker.js'
import type { CheckedBody, MessagesSummary } from './check-body.js'

const singleRoutes: MessageType[] = [
  'track',
  'identify',
  'group',
  'page',
  'screen',
  'alias',
]

export interface IngestRouteOptions {
  inbox: IngestInbox
  /** Decodes, parses and validates bodies (in worker threads). */
  bodies: BodyChecker
  /** The source a request belongs to; undefined means refused (401). */
  authenticate(
    request: FastifyRequest,
    bodyWriteKey: string | undefined,
  ): Promise<string | undefined>
}

export function registerIngestRoutes(
  app: FastifyInstance,
  options: IngestRouteOptions,
) {
  // Thousands of requests a second: no log line for each one, only for
  // what goes wrong (rejections, refusals, errors).
  const quiet = { logLevel: 'warn' } as const
  app.post('/v1/batch', quiet, async function ingestBatch(request, reply) {
    return ingest(request, reply, options, undefined)
  })
  for (const type of singleRoutes) {
    app.post(`/v1/${type}`, quiet, async function ingestOne(request, reply) {
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
  const body = await options.bodies.check({
    raw: (request.body as Buffer | undefined) ?? Buffer.alloc(0),
    encoding: request.headers['content-encoding'],
    receivedAt,
    impliedType: impliedType ?? null,
  })
  if (!body.ok)
    return reply
      .code(body.status)
      .send({ success: false, code: body.code, message: body.message })

  const sourceId = await options.authenticate(request, body.writeKey)
  if (sourceId === undefined) {
    return reply.code(401).send({
      success: false,
      code: 'INGEST_WRITE_KEY_INVALID',
      message: 'unknown or revoked write key',
    })
  }

  const { summary, parsed } = readMessages(body, {
    sourceId,
    receivedAt,
    impliedType: impliedType ?? null,
  })
  if (!summary.ok) {
    return reply.code(400).send({
      success: false,
      code: 'INGEST_FIELD_INVALID',
      message: summary.message,
    })
  }

  const { accepted, rejected } = summary
  if (accepted > 0) {
    if (options.inbox.wouldOverflow(accepted)) {
      // Segment's clients retry a 503 with backoff.
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({
          success: false,
          code: 'INGEST_BACKLOG_FULL',
          message:
            `${options.inbox.backlog} accepted messages are waiting to be ` +
            'stored; retry in a few seconds',
        })
    }
    await options.inbox.accept({
      sourceId,
      receivedAt,
      impliedType: impliedType ?? null,
      body: body.json,
      messages: accepted,
      ...(parsed === undefined ? {} : { parsed }),
    })
  }
  if (rejected.length > 0) {
    request.log.warn(
      { sourceId, accepted, rejected: rejected.length },
      'messages rejected',
    )
  }

  return reply.code(rejected.length === 0 ? 200 : 400).send({
    success: rejected.length === 0,
    accepted,
    rejected,
  })
}

// A worker summarised the messages already; else they are validated here,
// and the applier is handed them to spare it a second parse.
function readMessages(
  body: CheckedBody,
  envelope: Parameters<typeof normalizeBody>[1],
): { summary: MessagesSummary; parsed?: NormalizedMessage[] } {
  if (body.summary !== undefined) return { summary: body.summary }

  const messages = normalizeBody(body.value, envelope)
  if (!messages.ok) return { summary: messages }

  return {
    summary: {
      ok: true,
      accepted: messages.accepted.length,
      rejected: messages.rejected,
    },
    parsed: messages.accepted,
  }
}
