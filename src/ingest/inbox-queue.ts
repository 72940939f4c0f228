/**
 * Where the ingestion inbox keeps accepted bodies until they are applied.
 * Two kinds: the `ingest_inbox` table (PostgreSQL, and DuckDB in memory),
 * which several servers can share, and the accept journal beside a DuckDB
 * file (see journal-queue.ts), which commits an accept for a fraction of a
 * DuckDB commit's cost.
 */
import { applyInboxBatch, moveToFailed } from './apply-inbox.js'
import { bytesOf } from './body-bytes.js'

import type { Store } from '../store/store.js'
import type { BodyJson } from './body-bytes.js'
import type {
  AppliedBatch,
  ApplyLimits,
  PreparedMessages,
} from './apply-inbox.js'
import type { BodyEnvelope } from './normalize-body.js'
import type { NormalizedMessage } from './normalize-message.js'

export interface InboxEntry extends BodyEnvelope {
  /** The request body's JSON: text, or its UTF-8 bytes as they came. */
  body: BodyJson
  /** How many of its messages were accepted. */
  messages: number
  /** Those messages, as the route parsed them; kept to spare a second parse. */
  parsed?: NormalizedMessage[]
}

/** An accepted entry and the token of its parsed copy, if one was kept. */
export interface QueuedEntry {
  entry: InboxEntry
  token: string | null
}

export interface InboxQueue {
  /**
   * Whether appends may run at once (each request on its own, the queue
   * grouping their syncs); else the inbox groups requests into one append.
   */
  readonly appendsOverlap: boolean

  /** Reads what an earlier process left; call before anything else. */
  open(): Promise<void>

  /** Makes `entries` durable: once this resolves, a crash loses none. */
  append(entries: readonly QueuedEntry[]): Promise<void>

  /** Messages accepted (by any process sharing the queue) and not applied. */
  countWaiting(): Promise<number>

  /** When the oldest waiting entry was received (ms), or undefined. */
  oldestWaiting(): Promise<number | undefined>

  /**
   * Applies the oldest entries within `limits` in one transaction that
   * also takes them off the queue; null when none wait. Throws an
   * InboxBatchError naming the entries when it fails.
   */
  applyBatch(
    limits: ApplyLimits,
    prepared: PreparedMessages,
  ): Promise<AppliedBatch | null>

  /** Moves entry `id`, whole, to `ingest_failed`; its messages, or 0 if gone. */
  moveToFailed(id: number, reason: string): Promise<number>

  close(): Promise<void>
}

/** Rows per accept statement: 7 bound values each. */
const rowsPerInsert = 500

/** The `ingest_inbox` table: shared by every server on the store. */
export class TableQueue implements InboxQueue {
  readonly appendsOverlap = false
  private readonly store: Store

  constructor(store: Store) {
    this.store = store
  }

  async open(): Promise<void> {}

  async append(entries: readonly QueuedEntry[]): Promise<void> {
    for (let at = 0; at < entries.length; at += rowsPerInsert)
      await this.insert(entries.slice(at, at + rowsPerInsert))
  }

  private async insert(entries: readonly QueuedEntry[]): Promise<void> {
    const rows: string[] = []
    const params: (string | number | Date | null)[] = []
    for (const { entry, token } of entries) {
      const at = params.length
      rows.push(
        `(${[1, 2, 3, 4, 5, 6, 7].map((n) => `$${at + n}`).join(', ')})`,
      )
      params.push(
        entry.sourceId,
        entry.receivedAt,
        entry.impliedType,
        typeof entry.body === 'string'
          ? entry.body
          : bytesOf(entry.body).toString('utf8'),
        entry.messages,
        Buffer.byteLength(entry.body),
        token,
      )
    }

    await this.store.executeCommitted(
      `INSERT INTO ingest_inbox
       (source_id, received_at, implied_type, body, messages, bytes, token)
       VALUES ${rows.join(', ')}`,
      params,
    )
  }

  /** Rows in the table, whatever their message counts. */
  async countEntries(): Promise<number> {
    const rows = await this.store.query<{ entries: number }>(
      'SELECT count(*) AS entries FROM ingest_inbox',
    )

    return Number(rows[0]?.entries ?? 0)
  }

  async countWaiting(): Promise<number> {
    const rows = await this.store.query<{ messages: number }>(
      'SELECT coalesce(sum(messages), 0) AS messages FROM ingest_inbox',
    )

    return Number(rows[0]?.messages ?? 0)
  }

  async oldestWaiting(): Promise<number | undefined> {
    const rows = await this.store.query<{ oldest: string | Date | null }>(
      'SELECT min(received_at) AS oldest FROM ingest_inbox',
    )
    const oldest = rows[0]?.oldest
    if (oldest === null || oldest === undefined) return undefined

    return new Date(oldest).getTime()
  }

  applyBatch(
    limits: ApplyLimits,
    prepared: PreparedMessages,
  ): Promise<AppliedBatch | null> {
    return applyInboxBatch(this.store, limits, prepared)
  }

  moveToFailed(id: number, reason: string): Promise<number> {
    return moveToFailed(this.store, id, reason)
  }

  async close(): Promise<void> {}
}
