/**
 * Turns one raw Segment-spec message into a `NormalizedMessage`, or into the
 * list of issues that reject it: shape, ids, size and time.
 */
import { createHash, randomUUID } from 'node:crypto'

import { messageSizeLimitBytes } from './ingest-error.js'
import { messageTypes } from './message-types.js'
import { inspectMessage } from './inspect-message.js'
import { readTime } from './read-message-time.js'
import { sanitizeText } from './sanitize-text.js'

import type { IngestIssue, IngestIssueCode } from './ingest-error.js'
import type { JsonObject, MessageEnvelope } from './message-envelope.js'
import type { MessageType } from './message-types.js'

export type { JsonObject, MessageEnvelope } from './message-envelope.js'
export { messageTypes } from './message-types.js'
export type { MessageType } from './message-types.js'

export interface NormalizedMessage {
  sourceId: string
  type: MessageType
  messageId: string
  userId: string | null
  anonymousId: string | null
  /** A track's event name, or a page's / screen's name. */
  event: string | null
  /** The account a `group` call names. */
  groupId: string | null
  previousId: string | null
  /** `context.groupId`: the one account this message is attributed to. */
  contextGroupId: string | null
  /** Event time: the client's timestamp, corrected for clock skew. */
  timestamp: Date
  originalTimestamp: string | null
  sentAt: Date | null
  receivedAt: Date
  /** Properties of track/page/screen; traits of identify/group. */
  properties: JsonObject
  context: JsonObject
  /** Non-fatal notes, e.g. a skew that was corrected. */
  notes: string[]
}

/** Objects and arrays nest at most this deep in a message. */
export const maxNestingDepth = 64

export type NormalizeResult =
  | { ok: true; message: NormalizedMessage }
  | { ok: false; issues: IngestIssue[] }

/** Validates and normalises one message; collects every issue it has. */
export function normalizeMessage(
  raw: unknown,
  envelope: MessageEnvelope,
): NormalizeResult {
  const issues: IngestIssue[] = []
  const reject = (code: IngestIssueCode, path: string, message: string) =>
    issues.push({ code, path, message })

  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    reject('INGEST_NOT_AN_OBJECT', '', 'a message must be a JSON object')

    return { ok: false, issues }
  }

  // One walk answers depth, text and (roughly) size; the exact size and a
  // sanitized copy are made only when it says they may be needed.
  const inspection = inspectMessage(raw, maxNestingDepth)
  if (inspection.tooDeep) {
    reject(
      'INGEST_FIELD_INVALID',
      '',
      `the message nests deeper than ${maxNestingDepth} levels`,
    )
    return { ok: false, issues }
  }

  const size =
    inspection.sizeBound <= messageSizeLimitBytes
      ? inspection.sizeBound
      : Buffer.byteLength(JSON.stringify(raw), 'utf8')
  if (size > messageSizeLimitBytes) {
    reject(
      'INGEST_MESSAGE_TOO_LARGE',
      '',
      `message is ${size} bytes, over the 32 KB limit ` +
        `(${messageSizeLimitBytes} bytes)`,
    )

    return { ok: false, issues }
  }
  // JSON.parse keeps every input key, `__proto__` too, as an own data
  // property, so the parsed objects are used as they are.
  const message = inspection.hasSuspectText
    ? sanitizeText(raw as JsonObject)
    : (raw as JsonObject)

  const type = readType(message, envelope, reject)
  const userId = readId(message, 'userId', reject)
  const anonymousId = readId(message, 'anonymousId', reject)
  const context = readObject(message, 'context', reject)
  const properties = readObject(
    message,
    type === 'identify' || type === 'group' ? 'traits' : 'properties',
    reject,
  )

  if (type !== undefined && type !== 'alias' && !userId && !anonymousId) {
    reject(
      'INGEST_ID_MISSING',
      'userId',
      'a message needs a userId or an anonymousId',
    )
  }

  const event = readEventName(message, type, reject)
  const groupId = type === 'group' ? readId(message, 'groupId', reject) : null
  if (type === 'group' && !groupId) {
    reject('INGEST_GROUP_ID_MISSING', 'groupId', 'a group call needs a groupId')
  }

  const previousId =
    type === 'alias' ? readId(message, 'previousId', reject) : null
  if (type === 'alias' && (!previousId || !userId)) {
    reject(
      'INGEST_PREVIOUS_ID_MISSING',
      previousId ? 'userId' : 'previousId',
      'an alias call needs both a previousId and a userId',
    )
  }

  const contextGroupId = readContextGroupId(context)
  const time = readTime(message, context, envelope, reject)

  if (issues.length > 0 || type === undefined || time === undefined) {
    return { ok: false, issues }
  }

  return {
    ok: true,
    message: {
      sourceId: envelope.sourceId,
      type,
      messageId:
        readMessageId(message) ??
        (time.original === null
          ? randomMessageId()
          : contentMessageId(message)),
      userId,
      anonymousId,
      event,
      groupId,
      previousId,
      contextGroupId,
      timestamp: time.timestamp,
      originalTimestamp: time.original,
      sentAt: time.sentAt,
      receivedAt: time.receivedAt,
      properties,
      context,
      notes: time.notes,
    },
  }
}

type Reject = (code: IngestIssueCode, path: string, message: string) => void

function readType(
  message: JsonObject,
  envelope: MessageEnvelope,
  reject: Reject,
): MessageType | undefined {
  // On /v1/track and the like the route says what the message is.
  const value = envelope.impliedType ?? message.type
  if (typeof value === 'string') {
    const lower = value.toLowerCase()
    const known = messageTypes.find((type) => type === lower)
    if (known) return known
  }

  reject(
    'INGEST_TYPE_UNKNOWN',
    'type',
    `type ${JSON.stringify(value ?? null)} is not one of ` +
      messageTypes.join(', '),
  )

  return undefined
}

// Segment accepts numeric ids and treats them as strings.
function readId(message: JsonObject, key: string, reject: Reject) {
  const value = message[key]
  if (value === undefined || value === null || value === '') return null
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)

  reject('INGEST_FIELD_INVALID', key, `${key} must be a string or a number`)

  return null
}

function readObject(
  message: JsonObject,
  key: string,
  reject: Reject,
): JsonObject {
  const value = message[key]
  if (value === undefined || value === null) return {}
  if (typeof value === 'object' && !Array.isArray(value)) {
    return value as JsonObject
  }

  reject('INGEST_FIELD_INVALID', key, `${key} must be a JSON object`)

  return {}
}

function readEventName(
  message: JsonObject,
  type: MessageType | undefined,
  reject: Reject,
): string | null {
  if (type === 'track') {
    const event = message.event
    if (typeof event === 'string' && event.trim() !== '') return event

    reject(
      'INGEST_EVENT_MISSING',
      'event',
      'a track call needs an event name (a non-empty string)',
    )

    return null
  }

  if (type === 'page' || type === 'screen') {
    const name = message.name
    return typeof name === 'string' && name !== '' ? name : null
  }

  return null
}

function readContextGroupId(context: JsonObject): string | null {
  const value = context.groupId
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)

  return null
}

function readMessageId(message: JsonObject): string | null {
  const value = message.messageId
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)

  return null
}

// Without a messageId, the content itself is the id, so an identical resend
// is still a duplicate.
// Without a messageId or a timestamp, two identical calls are two events.
function randomMessageId(): string {
  return `generated-${randomUUID()}`
}

function contentMessageId(message: JsonObject): string {
  const hash = createHash('sha256').update(JSON.stringify(message))

  return `content-${hash.digest('hex').slice(0, 32)}`
}
