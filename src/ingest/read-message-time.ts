/**
 * A message's time: the client's timestamp read in its zone, corrected by
 * `receivedAt - sentAt` when the client clock is off by more than a couple
 * of minutes, never later than receipt. Replayed files keep their own
 * receipt times (and Segment's already-corrected timestamps).
 */
import {
  isStorableInstant,
  isValidTimeZone,
  parseInstant,
} from './parse-instant.js'

import type { ParsedInstant } from './parse-instant.js'

import type { IngestIssueCode } from './ingest-error.js'
import type { JsonObject, MessageEnvelope } from './message-envelope.js'

type Reject = (code: IngestIssueCode, path: string, message: string) => void

/** A clock skew beyond this is corrected; below it is network delay. */
export const clockSkewThresholdMs = 2 * 60 * 1000

export interface MessageTime {
  timestamp: Date
  receivedAt: Date
  original: string | null
  sentAt: Date | null
  notes: string[]
}

// A batch's messages share its sentAt: parsed once, not once a message.
let lastSentAt:
  { raw: unknown; zone: string | undefined; parsed: ParsedInstant } | undefined

function parseSentAt(raw: unknown, zone: string | undefined): ParsedInstant {
  const last = lastSentAt
  if (last !== undefined && last.raw === raw && last.zone === zone)
    return last.parsed

  const parsed = parseInstant(raw, zone)
  lastSentAt = { raw, zone, parsed }

  return parsed
}

/** Reads a message's event time, receipt and sentAt; corrects clock skew. */
export function readTime(
  message: JsonObject,
  context: JsonObject,
  envelope: MessageEnvelope,
  reject: Reject,
): MessageTime | undefined {
  const declaredZone = context.timezone
  const zone =
    typeof declaredZone === 'string' && isValidTimeZone(declaredZone)
      ? declaredZone
      : undefined
  const rawTimestamp = message.timestamp ?? message.originalTimestamp
  const rawOriginal = message.originalTimestamp ?? message.timestamp
  const rawSentAt = message.sentAt ?? envelope.batchSentAt
  const notes: string[] = []
  const zoneHelp =
    declaredZone !== undefined && zone === undefined
      ? `context.timezone ${JSON.stringify(declaredZone)} is not an IANA time zone`
      : undefined

  // A replayed message was received when it says; receipt now means nothing.
  // Stored Segment messages carry originalTimestamp beside a timestamp that
  // Segment already corrected: correcting again would move it twice.
  let receivedAt = envelope.receivedAt
  let canCorrectSkew = true
  if (
    envelope.isReplay &&
    message.originalTimestamp !== undefined &&
    message.timestamp !== undefined
  ) {
    canCorrectSkew = false
  }
  if (envelope.isReplay) {
    const own =
      message.receivedAt === undefined
        ? undefined
        : parseInstant(message.receivedAt)
    if (own?.ok) receivedAt = own.date
    else canCorrectSkew = false
  }

  let timestamp: Date | undefined = receivedAt
  if (rawTimestamp !== undefined && rawTimestamp !== null) {
    const parsed = parseInstant(rawTimestamp, zone)
    if (parsed.ok) timestamp = parsed.date
    else {
      timestamp = undefined
      reject(
        parsed.reason === 'zoneless'
          ? 'INGEST_TIMESTAMP_ZONELESS'
          : 'INGEST_TIMESTAMP_INVALID',
        'timestamp',
        parsed.reason === 'zoneless' && zoneHelp !== undefined
          ? `${parsed.message} (${zoneHelp})`
          : parsed.message,
      )
    }
  }

  let sentAt: Date | null = null
  if (rawSentAt !== undefined && rawSentAt !== null) {
    const parsed = parseSentAt(rawSentAt, zone)
    if (parsed.ok) sentAt = parsed.date
    else {
      reject(
        parsed.reason === 'zoneless'
          ? 'INGEST_TIMESTAMP_ZONELESS'
          : 'INGEST_TIMESTAMP_INVALID',
        'sentAt',
        parsed.message,
      )
    }
  }

  if (timestamp === undefined) return undefined
  if (rawTimestamp === undefined || rawTimestamp === null)
    timestamp = receivedAt

  let corrected = timestamp.getTime()
  // Only a client's own timestamp is corrected, never the receipt time.
  const hasOwnTimestamp = rawTimestamp !== undefined && rawTimestamp !== null
  if (sentAt !== null && hasOwnTimestamp && canCorrectSkew) {
    const skew = receivedAt.getTime() - sentAt.getTime()
    if (Math.abs(skew) > clockSkewThresholdMs) {
      corrected += skew
      notes.push(`client clock skew of ${skew} ms corrected`)
    }
  }
  // An event cannot have happened after Leadlens received it.
  corrected = Math.min(corrected, receivedAt.getTime())
  if (!isStorableInstant(new Date(corrected))) {
    reject(
      'INGEST_TIMESTAMP_INVALID',
      'sentAt',
      `correcting the client clock by sentAt ${JSON.stringify(rawSentAt)} ` +
        'moves the timestamp outside the years 0001 to 9999',
    )
    return undefined
  }

  return {
    timestamp: new Date(corrected),
    original:
      rawOriginal === undefined || rawOriginal === null
        ? null
        : String(rawOriginal),
    sentAt,
    receivedAt,
    notes,
  }
}
