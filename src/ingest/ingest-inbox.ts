/**
 * Durable ingestion in two steps.
 *
 * Accept: a body is made durable in the inbox's queue (inbox-queue.ts)
 * and the request answered once it is. On a DuckDB file the queue is the
 * accept journal beside it: each body is written as it comes and one sync
 * covers every body written before it started. Otherwise it is the
 * `ingest_inbox` table: bodies of requests that arrive while a commit runs
 * are committed together in the next, on a connection of their own. A
 * crash after the answer loses nothing: the body is on disk.
 *
 * Apply: one loop takes the oldest bodies (up to thousands of messages at a
 * time), writes their messages and takes them off the queue in one
 * transaction, so a crash applies a body wholly or not at all, and never
 * twice. The loop wakes on every accept and on start (what a crash left).
 *
 * A request therefore costs a parse, validation and a share of one sync or
 * small commit, and the writes to events, people, accounts and rollups happen in
 * large transactions whatever the number of clients. Answering goes first:
 * the applier gives way to requests that keep coming, for up to
 * `maxApplyLagMs` of lag (see giveWay). Until it catches up, lists do not
 * see the newest events; past `backlogLimit` unapplied messages new
 * requests get 503.
 */
import { ApplyFailures } from './apply-failures.js'
import { InboxBatchError } from './apply-inbox.js'
import { TableQueue } from './inbox-queue.js'
import { JournalQueue } from './journal-queue.js'
import { settingFromEnvironment } from './ingest-settings.js'
import { ParsedCopies } from './parsed-copies.js'

import type { Store } from '../store/store.js'
import type { ApplyLimits, AppliedBatch } from './apply-inbox.js'
import type { InboxEntry, InboxQueue } from './inbox-queue.js'
import type { IngestWarning } from './ingest-error.js'

export type { InboxEntry } from './inbox-queue.js'

interface InboxLog {
  warn(details: object, message: string): void
  error(details: object, message: string): void
}

export interface IngestInboxOptions {
  /**
   * How long an accept waits for more requests before committing (ms). 0,
   * the default, commits at once; requests arriving during that commit go
   * together in the next.
   */
  lingerMs?: number
  /** Unapplied messages past which requests are refused (503). */
  backlogLimit?: number
  /** How much one apply transaction takes. */
  apply?: Partial<ApplyLimits>
  /**
   * While requests keep arriving (one within this many ms), applying gives
   * way to accepting them...
   */
  giveWayMs?: number
  /** ...until the oldest waiting message has waited this long (ms). */
  maxApplyLagMs?: number
  /** Parsed messages kept in memory for the applier, at most. */
  parsedCopiesLimit?: number
  /** How long `stop()` keeps applying before it leaves the rest for next start (ms). */
  stopApplyingWithinMs?: number
  /** Called after each apply that stored something new. */
  onApplied?: (stored: number) => void
  log?: InboxLog
  /**
   * Where accepted bodies wait: the store's accept journal when it has one
   * (a DuckDB file), else its `ingest_inbox` table. 'table' forces the table.
   */
  queue?: 'journal' | 'table'
}

interface Waiting {
  entry: InboxEntry
  resolve: () => void
  reject: (error: unknown) => void
}

const silentLog: InboxLog = { warn: () => undefined, error: () => undefined }

// A wait that `cancel` cuts short.
function cancellableDelay(ms: number): {
  done: Promise<void>
  cancel: () => void
} {
  let cancel = () => undefined as void
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    cancel = () => {
      clearTimeout(timer)
      resolve()
    }
  })

  return { done, cancel }
}

export class IngestInbox {
  private readonly store: Store
  private readonly lingerMs: number
  private readonly backlogLimit: number
  private readonly limits: ApplyLimits
  private readonly stopApplyingWithinMs: number
  private readonly giveWayMs: number
  private readonly maxApplyLagMs: number
  private readonly onApplied: ((stored: number) => void) | undefined
  private readonly log: InboxLog
  private readonly queue: InboxQueue

  private isOpen = false
  private opening: Promise<void> | undefined
  private waiting: Waiting[] = []
  /** Appends under way on a queue whose appends overlap. */
  private readonly appending = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined
  private accepting: Promise<void> | undefined
  private applying: Promise<void> | undefined
  private wakeAgain = false
  private stopped = false
  private stopAt = Number.POSITIVE_INFINITY
  /** The inbox's message count as last read from the store, and when. */
  private counted = { messages: 0, at: 0, acceptedBefore: 0 }
  private counting: Promise<number> | undefined
  /** Messages this process has accepted since it started. */
  private acceptedTotal = 0
  /** What to do after a failed batch (see apply-failures.ts). */
  private readonly failures = new ApplyFailures()
  private cancelPause: (() => void) | undefined
  private cancelGiveWay: (() => void) | undefined
  /** When the last request was handed to accept(). */
  private lastAcceptAt = 0
  /** drain() wants everything applied now: nothing gives way. */
  private draining = 0
  /** Parsed copies of accepted entries, by token, until applied. */
  private readonly parsedCopies: ParsedCopies

  constructor(store: Store, options: IngestInboxOptions = {}) {
    this.store = store
    this.lingerMs = options.lingerMs ?? 0
    this.backlogLimit =
      options.backlogLimit ??
      settingFromEnvironment('LEADLENS_INGEST_BACKLOG_LIMIT', 1_000_000, {
        least: 1,
        what: 'a number of messages of at least 1',
      })
    this.limits = {
      maxEntries: options.apply?.maxEntries ?? 2_000,
      maxMessages: options.apply?.maxMessages ?? 20_000,
      maxBytes: options.apply?.maxBytes ?? 16 * 1024 * 1024,
    }
    this.stopApplyingWithinMs = options.stopApplyingWithinMs ?? 20_000
    this.giveWayMs = options.giveWayMs ?? 20
    this.maxApplyLagMs =
      options.maxApplyLagMs ??
      settingFromEnvironment('LEADLENS_INGEST_APPLY_LAG_MS', 2_000, {
        least: 0,
        what: 'a number of milliseconds',
      })
    this.parsedCopies = new ParsedCopies(options.parsedCopiesLimit ?? 100_000)
    this.onApplied = options.onApplied
    this.log = options.log ?? silentLog
    const directory = store.journalDirectory
    this.queue =
      directory === null || options.queue === 'table'
        ? new TableQueue(store)
        : new JournalQueue(store, directory, this.log)
  }

  /**
   * Opens the queue, counts what an earlier process left unapplied and
   * starts applying it. Nothing is accepted before this.
   */
  async start(): Promise<void> {
    await this.open()
    await this.readBacklog()
    this.wake()
  }

  // Once; accepts and applies wait for it.
  private open(): Promise<void> {
    this.opening ??= this.queue.open().then(() => {
      this.isOpen = true
    })

    return this.opening
  }

  /**
   * Messages the inbox holds, accepted by any process sharing the store and
   * not yet applied: read from the queue (the table is read anew, so the
   * count is right with several servers; a journal has one process).
   */
  async readBacklog(): Promise<number> {
    if (this.counting !== undefined) return this.counting
    const acceptedBefore = this.acceptedTotal
    this.counting = this.open()
      .then(() => this.queue.countWaiting())
      .then((messages) => {
        this.counted = { messages, at: Date.now(), acceptedBefore }
        return messages
      })
      .finally(() => {
        this.counting = undefined
      })

    return this.counting
  }

  /**
   * The backlog without waiting: the last count read from the store (at
   * most a quarter second old under load) plus what this process accepted
   * since.
   */
  get backlog(): number {
    if (Date.now() - this.counted.at > 250)
      this.readBacklog().catch(() => undefined)

    return (
      this.counted.messages + this.acceptedTotal - this.counted.acceptedBefore
    )
  }

  /** Whether `messages` more would take the backlog past its limit. */
  wouldOverflow(messages: number): boolean {
    return this.backlog + messages > this.backlogLimit
  }

  /** Resolves once `entry` is committed to the inbox. */
  accept(entry: InboxEntry): Promise<void> {
    if (this.stopped) {
      return Promise.reject(new Error('the ingestion inbox is stopped'))
    }

    this.lastAcceptAt = Date.now()
    if (this.queue.appendsOverlap) return this.appendAlone(entry)

    return new Promise((resolve, reject) => {
      this.waiting.push({ entry, resolve, reject })
      // While a commit runs, requests gather; it takes them all when done.
      if (this.accepting === undefined && this.timer === undefined)
        this.timer =
          this.lingerMs > 0
            ? setTimeout(() => this.startAccepting(), this.lingerMs)
            : setImmediate(() => this.startAccepting())
    })
  }

  /** Waits until everything accepted so far is applied (or failed). */
  async drain(): Promise<void> {
    this.draining++
    try {
      await this.flushAccepts()
      this.cancelGiveWay?.()
      this.wake()
      while (this.applying !== undefined) await this.applying
    } finally {
      this.draining--
    }
  }

  /**
   * Commits pending accepts, applies for up to `stopApplyingWithinMs`, then
   * stops; what is left stays in the inbox for the next start.
   */
  async stop(): Promise<void> {
    await this.flushAccepts()
    this.stopAt = Date.now() + this.stopApplyingWithinMs
    this.cancelGiveWay?.()
    const deadline = setTimeout(
      () => this.cancelPause?.(),
      this.stopApplyingWithinMs,
    )
    this.wake()
    while (this.applying !== undefined) await this.applying
    clearTimeout(deadline)
    this.stopped = true
    // Requests accepted while it applied are committed before the queue closes.
    await this.flushAccepts()
    const left = this.isOpen ? await this.readBacklog().catch(() => 0) : 0
    if (left > 0) {
      this.log.warn(
        { unapplied: left },
        'stopping with messages left in the inbox; they are applied on next start',
      )
    }
    await this.queue.close()
  }

  private async flushAccepts(): Promise<void> {
    this.startAccepting()
    while (this.accepting !== undefined) await this.accepting
    await Promise.allSettled([...this.appending])
  }

  // A queue that groups its own syncs (the journal) takes each request as
  // it comes: requests written during one sync share the next.
  private appendAlone(entry: InboxEntry): Promise<void> {
    const appended = this.open()
      .then(() => this.insert([entry]))
      .then(() => {
        this.acceptedTotal += entry.messages
        this.wake()
      })
    this.appending.add(appended)
    const forget = () => this.appending.delete(appended)
    appended.then(forget, forget)

    return appended
  }

  private startAccepting(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout)
      clearImmediate(this.timer as NodeJS.Immediate)
    }
    this.timer = undefined
    if (this.accepting !== undefined || this.waiting.length === 0) return

    this.accepting = this.acceptAll().finally(() => {
      this.accepting = undefined
    })
  }

  private async acceptAll(): Promise<void> {
    try {
      await this.open()
    } catch (error) {
      for (const waiting of this.waiting.splice(0)) waiting.reject(error)
      return
    }
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0)
      try {
        await this.insert(group.map((waiting) => waiting.entry))
      } catch (error) {
        for (const waiting of group) waiting.reject(error)
        continue
      }
      for (const waiting of group) {
        this.acceptedTotal += waiting.entry.messages
        waiting.resolve()
      }
      this.wake()
    }
  }

  private async insert(entries: InboxEntry[]): Promise<void> {
    const queued = entries.map((entry) => ({
      entry,
      token:
        entry.parsed === undefined
          ? null
          : this.parsedCopies.keep(entry.parsed),
    }))
    try {
      await this.queue.append(queued)
    } catch (error) {
      this.parsedCopies.forget(queued.flatMap(({ token }) => token ?? []))
      throw error
    }
  }

  private wake(): void {
    if (this.stopped) return
    if (this.applying !== undefined) {
      this.wakeAgain = true
      return
    }

    this.wakeAgain = false
    this.applying = this.applyAll().finally(() => {
      this.applying = undefined
      if (this.wakeAgain) this.wake()
    })
  }

  // Until the inbox is empty (or stop's time is up).
  private async applyAll(): Promise<void> {
    try {
      await this.open()
    } catch (error) {
      // start() and accept() report it to their callers.
      this.log.error({ err: error }, 'the ingestion inbox cannot open')
      return
    }
    while (Date.now() < this.stopAt) {
      await this.giveWay()
      // stop() may have come during the wait, with no time to apply.
      if (Date.now() >= this.stopAt) return
      const step = await this.applyOnce()
      if (step === 'empty') return
      // Requests waiting on the event loop go first.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /**
   * Accepting goes first: while requests keep arriving, the applier waits
   * for a gap of `giveWayMs` between them, but never longer than until the
   * oldest waiting message has waited `maxApplyLagMs`. So a burst is
   * acknowledged at the speed of accepting alone and applied right after
   * it; under load that never pauses, applying runs back to back once the
   * lag is reached, as fast as it can, and lists lag by about that much.
   * stop() and drain() apply at once.
   */
  private async giveWay(): Promise<void> {
    const applyNow = () =>
      this.draining > 0 || this.stopAt !== Number.POSITIVE_INFINITY
    let oldest: number | undefined
    const sinceAccept = () => Date.now() - this.lastAcceptAt
    while (!applyNow() && sinceAccept() < this.giveWayMs) {
      oldest ??= await this.readOldestWaiting()
      const quietFor = sinceAccept()
      if (applyNow() || quietFor >= this.giveWayMs) return
      const lagLeft = oldest + this.maxApplyLagMs - Date.now()
      if (lagLeft <= 0) return
      const delay = cancellableDelay(
        Math.min(lagLeft, this.giveWayMs - quietFor),
      )
      this.cancelGiveWay = delay.cancel
      await delay.done
      this.cancelGiveWay = undefined
    }
  }

  // When the oldest entry in the inbox arrived (by any server); now if none.
  private async readOldestWaiting(): Promise<number> {
    try {
      const time = await this.queue.oldestWaiting()
      if (time === undefined) return Date.now()
      // A receipt time ahead of this clock counts as now.
      return Number.isNaN(time)
        ? Number.NEGATIVE_INFINITY
        : Math.min(time, Date.now())
    } catch {
      // The apply that follows meets the same trouble and handles it.
      return Number.NEGATIVE_INFINITY
    }
  }

  private async applyOnce(): Promise<'applied' | 'empty' | 'failed'> {
    const isolating = this.failures.isolating
    const limits = isolating ? { ...this.limits, maxEntries: 1 } : this.limits
    let batch: AppliedBatch | null
    try {
      this.parsedCopies.forgetStale()
      batch = await this.queue.applyBatch(limits, (token) =>
        this.parsedCopies.get(token),
      )
    } catch (error) {
      // A retry parses the bodies again, from what was committed.
      if (error instanceof InboxBatchError)
        this.parsedCopies.forget(error.tokens)
      await this.handleFailure(error, isolating)
      return 'failed'
    }
    if (batch === null) return 'empty'

    this.failures.afterApplied(isolating)
    this.parsedCopies.forget(batch.tokens)
    this.report(batch.result.warnings)
    if (batch.result.stored > 0) this.onApplied?.(batch.result.stored)

    return 'applied'
  }

  private async handleFailure(error: unknown, isolating: boolean) {
    const ids = error instanceof InboxBatchError ? error.entryIds : []
    this.log.error(
      { err: error, entries: ids.length },
      'applying ingested messages failed',
    )
    const step = this.failures.afterFailure(error, isolating)
    if (step.do === 'isolate') return
    if (step.do === 'set-aside' && (await this.storeAnswers())) {
      await this.setAside(step.entryId, error)
      return
    }

    await this.pause(step.waitMs)
  }

  private async setAside(id: number, error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error)
    try {
      const messages = await this.queue.moveToFailed(id, reason)
      this.failures.afterSetAside(id)
      if (messages > 0)
        this.log.error(
          { entry: id, messages },
          'an ingested body could not be applied; kept in ingest_failed',
        )
    } catch (moveError) {
      this.log.error({ err: moveError }, 'moving to ingest_failed failed')
      await this.pause(1_000)
    }
  }

  // A wait that stop() cuts short when its time is up.
  private async pause(ms: number): Promise<void> {
    const delay = cancellableDelay(
      Math.max(0, Math.min(ms, this.stopAt - Date.now())),
    )
    this.cancelPause = delay.cancel
    await delay.done
    this.cancelPause = undefined
  }

  // The writer itself, since a pooled read can answer while it cannot.
  private async storeAnswers(): Promise<boolean> {
    try {
      await this.store.transaction(() => this.store.query('SELECT 1 AS ok'))
      return true
    } catch {
      return false
    }
  }

  private report(warnings: readonly IngestWarning[]): void {
    for (const warning of warnings) {
      // An alias refused or a value kept raw: stored, but worth a look.
      this.log.warn(
        {
          messageId: warning.messageId,
          code: warning.code,
          path: warning.path,
        },
        warning.message,
      )
    }
  }
}
