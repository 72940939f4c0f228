/**
 * The inbox applier's one step: the oldest accepted bodies, normalised again
 * with the envelope they arrived with, written by `writeMessages` and deleted
 * from the inbox in the same transaction. A body that cannot be applied
 * moves to `ingest_failed`, whole, with the error.
 */
import { messageTypes } from './message-types.js'
import { normalizeBody } from './normalize-body.js'
import { writeMessages } from './write-messages.js'

import type { Store } from '../store/store.js'
import type { BodyEnvelope } from './normalize-body.js'
import type { MessageType, NormalizedMessage } from './normalize-message.js'
import type { WriteResult } from './write-messages.js'

export interface ApplyLimits {
  /** Entries (request bodies) per transaction. */
  maxEntries: number
  /** Messages per transaction; the first entry is always taken. */
  maxMessages: number
  /** Body bytes per transaction; the first entry is always taken. */
  maxBytes: number
}

export interface AppliedBatch {
  entries: number
  /** Messages the entries were accepted with. */
  messages: number
  /** The tokens of the entries applied. */
  tokens: string[]
  result: WriteResult
}

/** An applier step that failed, naming the entries it held. */
export class InboxBatchError extends Error {
  readonly entryIds: readonly number[]
  readonly tokens: readonly string[]

  constructor(
    entryIds: readonly number[],
    tokens: readonly string[],
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super(`applying inbox entries ${describeIds(entryIds)} failed: ${reason}`, {
      cause,
    })
    this.name = 'InboxBatchError'
    this.entryIds = entryIds
    this.tokens = tokens
  }
}

export interface EntryHead {
  id: number
  messages: number
  bytes: number
  token: string | null
}

/** The messages an entry's token names, parsed when it was accepted; undefined if unknown. */
export type PreparedMessages = (
  token: string,
) => NormalizedMessage[] | undefined

interface Entry {
  id: number
  source_id: string
  received_at: string
  implied_type: string | null
  body: string
}

/** Applies the oldest entries within `limits` in one transaction; null when there are none. */
export async function applyInboxBatch(
  store: Store,
  limits: ApplyLimits,
  prepared: PreparedMessages = () => undefined,
): Promise<AppliedBatch | null> {
  let chosen: EntryHead[] = []
  try {
    return await store.transaction(async () => {
      const heads = await store.query<EntryHead>(
        `SELECT id, messages, bytes, token FROM ingest_inbox
         ORDER BY id LIMIT $1${store.sql.lockRowsSkipLocked}`,
        [limits.maxEntries],
      )
      if (heads.length === 0) return null

      chosen = takeWithin(heads.map(toHead), limits)
      const parsed = new Map(
        chosen.map((head) => [
          head.id,
          head.token === null ? undefined : prepared(head.token),
        ]),
      )
      await store.stage(
        'staged_inbox_ids',
        { id: store.sql.types.double, reread: 'BOOLEAN' },
        chosen.map((head) => [head.id, parsed.get(head.id) === undefined]),
      )
      const ids = `SELECT id FROM ${store.sql.staged('staged_inbox_ids')}`
      const bodies = [...parsed.values()].includes(undefined)
        ? await readBodies(store)
        : new Map<number, Entry>()

      const messages: NormalizedMessage[] = []
      for (const head of chosen) {
        const entry = bodies.get(head.id)
        messages.push(
          ...(parsed.get(head.id) ??
            (entry === undefined ? [] : messagesOf(entry))),
        )
        // Long batches leave the event loop free for requests between bodies.
        if (entry !== undefined)
          await new Promise((resolve) => setImmediate(resolve))
      }
      const result = await writeMessages(store, messages)
      await store.execute(`DELETE FROM ingest_inbox WHERE id IN (${ids})`)

      return {
        entries: chosen.length,
        messages: chosen.reduce((sum, head) => sum + head.messages, 0),
        tokens: chosen.flatMap((head) =>
          head.token === null ? [] : [head.token],
        ),
        result,
      }
    })
  } catch (error) {
    throw new InboxBatchError(
      chosen.map((head) => head.id),
      chosen.flatMap((head) => (head.token === null ? [] : [head.token])),
      error,
    )
  }
}

/**
 * Moves one entry, whole, from the inbox to `ingest_failed`; its message
 * count, or 0 when another applier holds it or has applied it meanwhile.
 */
export async function moveToFailed(
  store: Store,
  id: number,
  error: string,
): Promise<number> {
  return store.transaction(async () => {
    const taken = await store.query<{ messages: number }>(
      `SELECT messages FROM ingest_inbox WHERE id = $1${store.sql.lockRowsSkipLocked}`,
      [id],
    )
    if (taken.length === 0) return 0

    await store.execute(
      `INSERT INTO ingest_failed
       SELECT id, source_id, received_at, implied_type, body, messages, $2, $3
       FROM ingest_inbox WHERE id = $1`,
      [id, new Date(), error.slice(0, 2_000)],
    )
    await store.execute('DELETE FROM ingest_inbox WHERE id = $1', [id])

    return Number(taken[0]?.messages ?? 0)
  })
}

function toHead(row: EntryHead): EntryHead {
  return {
    id: Number(row.id),
    messages: Number(row.messages),
    bytes: Number(row.bytes),
    token: row.token,
  }
}

// The bodies of the staged entries no parsed copy is known for.
async function readBodies(store: Store): Promise<Map<number, Entry>> {
  const reread = await store.query<Entry>(
    `SELECT i.id, i.source_id, i.received_at, i.implied_type, i.body
     FROM ingest_inbox i JOIN ${store.sql.staged('staged_inbox_ids')} s
       ON s.id = i.id AND s.reread`,
  )

  return new Map(reread.map((entry) => [Number(entry.id), entry]))
}

/** The oldest entries, in order, while they fit; the first one always. */
export function takeWithin<Head extends Omit<EntryHead, 'token'>>(
  heads: readonly Head[],
  limits: ApplyLimits,
): Head[] {
  const taken: Head[] = []
  let messages = 0
  let bytes = 0
  for (const head of heads) {
    messages += head.messages
    bytes += head.bytes
    const fits = messages <= limits.maxMessages && bytes <= limits.maxBytes
    if (taken.length > 0 && !fits) break
    taken.push(head)
  }

  return taken
}

function messagesOf(entry: Entry): NormalizedMessage[] {
  const impliedType =
    messageTypes.find((type) => type === entry.implied_type) ?? null

  return normalizeStoredBody(entry.body, {
    sourceId: entry.source_id,
    receivedAt: new Date(entry.received_at),
    impliedType: impliedType as MessageType | null,
  })
}

/** The messages of a stored body, normalised with the envelope it arrived with. */
export function normalizeStoredBody(
  body: string,
  envelope: BodyEnvelope,
): NormalizedMessage[] {
  const normalized = normalizeBody(JSON.parse(body), envelope)

  return normalized.ok ? normalized.accepted : []
}

function describeIds(ids: readonly number[]): string {
  if (ids.length === 0) return '(none chosen)'
  if (ids.length === 1) return String(ids[0])

  return `${ids[0]}..${ids.at(-1)} (${ids.length})`
}

/** Moves every body of `ingest_failed` back to the inbox, oldest first; how many. */
export async function requeueFailed(store: Store): Promise<number> {
  return store.transaction(async () => {
    const rows = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM ingest_failed',
    )
    // bytes only bounds an apply batch's size: characters are near enough.
    await store.execute(
      `INSERT INTO ingest_inbox
       (source_id, received_at, implied_type, body, messages, bytes)
       SELECT source_id, received_at, implied_type, body, messages, length(body)
       FROM ingest_failed ORDER BY id`,
    )
    await store.execute('DELETE FROM ingest_failed')

    return Number(rows[0]?.n ?? 0)
  })
}
