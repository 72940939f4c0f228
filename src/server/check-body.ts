/**
 * One ingestion body checked as the routes need it: decoded, parsed, its
 * `writeKey` (for clients that send the key in the body) and, when asked,
 * its messages validated. Runs in the route's thread or in a checking
 * worker (see body-checker.ts); both give the same answer.
 */
import { normalizeBody } from '../ingest/normalize-body.js'
import { readBody } from './read-body.js'

import type { IngestIssue } from '../ingest/ingest-error.js'
import type { MessageType } from '../ingest/normalize-message.js'
import type { BodyResult } from './read-body.js'

/** What the messages of a body came to: counts and issues, not the messages. */
export type MessagesSummary =
  | { ok: true; accepted: number; rejected: IngestIssue[] }
  | { ok: false; message: string }

export type BodyFailure = Extract<BodyResult, { ok: false }>

export interface CheckedBody {
  ok: true
  /**
   * The body's JSON as UTF-8 bytes (decompressed, without a byte-order
   * mark): what the inbox keeps. Bytes rather than text, so that the
   * journal writes them as they came, without decoding and encoding again.
   */
  json: Buffer
  /** The `writeKey` field of the body, if it has one. */
  writeKey: string | undefined
  /** The parsed body: set when checked in the route's thread. */
  value?: unknown
  /** The validated messages: set when checked in a worker. */
  summary?: MessagesSummary
}

export interface CheckRequest {
  raw: Buffer
  encoding: string | undefined
  receivedAt: Date
  impliedType: MessageType | null
}

/** Decodes and parses a body; with `validate`, summarises its messages too. */
export async function checkBody(
  request: CheckRequest,
  validate: boolean,
): Promise<CheckedBody | BodyFailure> {
  const body = await readBody(request.raw, request.encoding)
  if (!body.ok) return body

  const writeKey = readBodyWriteKey(body.value)
  if (!validate)
    return { ok: true, json: body.json, writeKey, value: body.value }

  // The source only labels the messages, which a worker does not keep: the
  // applier normalises the stored body again with the real one.
  const messages = normalizeBody(body.value, {
    sourceId: '',
    receivedAt: request.receivedAt,
    impliedType: request.impliedType,
  })
  const summary: MessagesSummary = messages.ok
    ? {
        ok: true,
        accepted: messages.accepted.length,
        rejected: messages.rejected,
      }
    : { ok: false, message: messages.message }

  return { ok: true, json: body.json, writeKey, summary }
}

function readBodyWriteKey(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || !('writeKey' in body))
    return undefined
  const key = (body as { writeKey: unknown }).writeKey

  return typeof key === 'string' && key !== '' ? key : undefined
}
