/**
 * The inbox of a DuckDB file: accepted bodies go to the accept journal
 * beside it (each written as it comes, syncs shared), and the applier
 * moves the store's `ingest_journal.applied_to` in the same transaction as
 * the writes, so a crash applies a body wholly or not at all, and never
 * twice. Rows in the `ingest_inbox` table (left by an earlier version, or
 * failed bodies moved back by `leadlens inbox apply --retry-failed`) are
 * applied first, through the table's own queue.
 */
import { AcceptJournal, JournalError } from './accept-journal.js'
import {
  InboxBatchError,
  normalizeStoredBody,
  takeWithin,
} from './apply-inbox.js'
import { TableQueue } from './inbox-queue.js'
import { writeMessages } from './write-messages.js'

import type { Store } from '../store/store.js'
import type {
  AppliedBatch,
  ApplyLimits,
  PreparedMessages,
} from './apply-inbox.js'
import type { InboxQueue, QueuedEntry } from './inbox-queue.js'
import type { NormalizedMessage } from './normalize-message.js'

interface JournalLog {
  warn(details: object, message: string): void
}

export class JournalQueue implements InboxQueue {
  readonly appendsOverlap = true
  private readonly store: Store
  private readonly directory: string
  private readonly table: TableQueue
  private readonly log: JournalLog | undefined
  private opened: AcceptJournal | undefined
  /** Rows waiting in `ingest_inbox`: while there are any, they go first. */
  private tableRows = 0

  constructor(store: Store, directory: string, log?: JournalLog) {
    this.store = store
    this.directory = directory
    this.table = new TableQueue(store)
    this.log = log
  }

  async open(): Promise<void> {
    const expected = await readJournalPosition(this.store)
    let id = expected.id
    if (id === null) {
      // Make the id known to the store first: a crash before the journal
      // exists then leaves a store that makes it on next open.
      if (await AcceptJournal.isPresent(this.directory))
        throw new JournalError(strayJournal(this.directory, this.store))
      id = AcceptJournal.newId()
      await this.store.execute('UPDATE ingest_journal SET journal_id = $1', [
        id,
      ])
    }

    this.opened = await AcceptJournal.open(
      this.directory,
      { id, appliedTo: expected.appliedTo },
      { log: this.log },
    )
    this.tableRows = await this.table.countEntries()
  }

  async append(entries: readonly QueuedEntry[]): Promise<void> {
    await this.journal.append(
      entries.map(({ entry }) => entry),
      entries.map(({ token }) => token),
    )
  }

  async countWaiting(): Promise<number> {
    const inTable = this.tableRows > 0 ? await this.table.countWaiting() : 0

    return inTable + this.journal.messagesWaiting
  }

  async oldestWaiting(): Promise<number | undefined> {
    const inTable =
      this.tableRows > 0 ? await this.table.oldestWaiting() : undefined
    const inJournal = this.journal.heads[0]?.receivedAt.getTime()
    if (inTable === undefined) return inJournal
    if (inJournal === undefined) return inTable

    return Math.min(inTable, inJournal)
  }

  async applyBatch(
    limits: ApplyLimits,
    prepared: PreparedMessages,
  ): Promise<AppliedBatch | null> {
    if (this.tableRows > 0) {
      const batch = await this.table.applyBatch(limits, prepared)
      if (batch !== null) {
        this.tableRows = Math.max(0, this.tableRows - batch.entries)
        return batch
      }
      this.tableRows = 0
    }

    const heads = takeWithin(
      this.journal.heads.slice(0, limits.maxEntries),
      limits,
    )
    const last = heads.at(-1)
    if (last === undefined) return null

    const tokens = heads.flatMap((head) =>
      head.token === null ? [] : [head.token],
    )
    try {
      const messages: NormalizedMessage[] = []
      for (const head of heads) {
        const copy = head.token === null ? undefined : prepared(head.token)
        if (copy !== undefined) {
          for (const message of copy) messages.push(message)
          continue
        }
        const body = await this.journal.readBody(head)
        for (const message of normalizeStoredBody(body, head))
          messages.push(message)
        // Long batches leave the event loop free for requests between bodies.
        await new Promise((resolve) => setImmediate(resolve))
      }

      const result = await this.store.transaction(async () => {
        const written = await writeMessages(this.store, messages)
        await this.moveAppliedTo(last.end)
        return written
      })
      await this.journal.release(last.end)

      return {
        entries: heads.length,
        messages: heads.reduce((sum, head) => sum + head.messages, 0),
        tokens,
        result,
      }
    } catch (error) {
      throw new InboxBatchError(
        heads.map((head) => head.id),
        tokens,
        error,
      )
    }
  }

  async moveToFailed(id: number, reason: string): Promise<number> {
    if (this.tableRows > 0) return this.table.moveToFailed(id, reason)

    const head = this.journal.heads[0]
    if (head === undefined || head.id !== id) return 0
    const body = await this.journal.readBody(head)
    await this.store.transaction(async () => {
      await this.store.execute(
        `INSERT INTO ingest_failed
         (id, source_id, received_at, implied_type, body, messages, failed_at, error)
         VALUES (nextval('ingest_inbox_ids'), $1, $2, $3, $4, $5, $6, $7)`,
        [
          head.sourceId,
          head.receivedAt,
          head.impliedType,
          body,
          head.messages,
          new Date(),
          reason.slice(0, 2_000),
        ],
      )
      await this.moveAppliedTo(head.end)
    })
    await this.journal.release(head.end)

    return head.messages
  }

  async close(): Promise<void> {
    await this.opened?.close()
  }

  private get journal(): AcceptJournal {
    if (this.opened === undefined)
      throw new Error('the accept journal is used before open()')
    return this.opened
  }

  private async moveAppliedTo(position: number): Promise<void> {
    await this.store.execute('UPDATE ingest_journal SET applied_to = $1', [
      position,
    ])
  }
}

/** The journal id the store knows and the position it has applied up to. */
export async function readJournalPosition(
  store: Store,
): Promise<{ id: string | null; appliedTo: number }> {
  const rows = await store.query<{
    journal_id: string | null
    applied_to: number | bigint
  }>('SELECT journal_id, applied_to FROM ingest_journal')
  const row = rows[0]

  return {
    id: row?.journal_id ?? null,
    appliedTo: Number(row?.applied_to ?? 0),
  }
}

/**
 * Makes the store forget an accept journal that is gone (moved away,
 * deleted), so that the next server starts a new one; what the journal
 * held and the store had not applied is lost. Refused while the journal is
 * there, or when the store has none.
 */
export async function forgetLostJournal(
  store: Store,
): Promise<{ id: string; appliedTo: number }> {
  const directory = store.journalDirectory
  const position = await readJournalPosition(store)
  if (directory === null || position.id === null)
    throw new JournalError(`the store ${store.location} has no accept journal`)
  if (await AcceptJournal.isPresent(directory))
    throw new JournalError(
      `${directory} holds the journal: apply it (leadlens inbox apply) ` +
        'instead of forgetting it',
    )

  await store.execute(
    'UPDATE ingest_journal SET journal_id = NULL, applied_to = 0',
  )
  return { id: position.id, appliedTo: position.appliedTo }
}

// A journal beside a store that has never used one.
function strayJournal(directory: string, store: Store): string {
  return (
    `${directory} holds an accept journal, but the store ${store.location} ` +
    'has never used one: it belongs to another store (one removed and made ' +
    'again?); apply it with the store it came from, or remove it'
  )
}

/**
 * Messages waiting in the store's accept journal, read without changing it
 * (0 when the store has none), and why the journal beside the store cannot
 * be read, if it cannot: `serve` and `inbox apply` refuse such a journal.
 */
export async function countJournalWaiting(
  store: Store,
): Promise<{ waiting: number; problem: string | null }> {
  const directory = store.journalDirectory
  if (directory === null) return { waiting: 0, problem: null }
  const position = await readJournalPosition(store)
  try {
    if (position.id === null) {
      const stray = await AcceptJournal.isPresent(directory)
      return {
        waiting: 0,
        problem: stray ? strayJournal(directory, store) : null,
      }
    }

    const waiting = await AcceptJournal.countWaiting(directory, {
      id: position.id,
      appliedTo: position.appliedTo,
    })
    return { waiting, problem: null }
  } catch (error) {
    if (!(error instanceof JournalError)) throw error
    return { waiting: 0, problem: error.message }
  }
}
