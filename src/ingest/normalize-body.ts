/**
 * The messages of one ingestion request body: a `batch` array on /v1/batch,
 * else the body itself as the message its route names. The route calls it
 * to answer; the inbox applier calls it again on the stored body, with the
 * same envelope, and gets the same messages.
 */
import { normalizeMessage } from './normalize-message.js'

import type { IngestIssue } from './ingest-error.js'
import type { MessageType, NormalizedMessage } from './normalize-message.js'

export interface BodyEnvelope {
  sourceId: string
  receivedAt: Date
  /** The type a single-message route implies; null on /v1/batch. */
  impliedType: MessageType | null
}

export type BodyMessages =
  | { ok: true; accepted: NormalizedMessage[]; rejected: IngestIssue[] }
  | { ok: false; message: string }

/** Normalises every message of a parsed body; `rejected` issues carry the message's index. */
export function normalizeBody(
  value: unknown,
  envelope: BodyEnvelope,
): BodyMessages {
  const body = value as Record<string, unknown> | null
  const isBatch = envelope.impliedType === null
  if (isBatch && !Array.isArray(body?.batch)) {
    return { ok: false, message: 'a batch body needs a batch array' }
  }

  const items: unknown[] = isBatch ? (body?.batch as unknown[]) : [body]
  const accepted: NormalizedMessage[] = []
  const rejected: IngestIssue[] = []
  const messageEnvelope = {
    sourceId: envelope.sourceId,
    receivedAt: envelope.receivedAt,
    batchSentAt: body?.sentAt,
    ...(envelope.impliedType === null
      ? {}
      : { impliedType: envelope.impliedType }),
  }
  items.forEach((item, index) => {
    const result = normalizeMessage(item, messageEnvelope)
    if (result.ok) accepted.push(result.message)
    else rejected.push(...result.issues.map((issue) => ({ ...issue, index })))
  })

  return { ok: true, accepted, rejected }
}
