/**
 * What the inbox's applier does after a batch fails: the decisions alone,
 * kept apart from the waits and writes that carry them out (ingest-inbox.ts).
 *
 * - A batch of many bodies is tried again body by body, to find the one
 *   that fails.
 * - One body that fails is tried again, waiting longer each time (a race
 *   with another writer, on a unique key or a conflict, passes). Only a
 *   body that fails three times in a row while the store answers is set
 *   aside, whole, in ingest_failed.
 * - A lost connection says nothing of the body and counts as no failure of
 *   it; nor does a failure that names no body. The store is down or
 *   refusing: wait, longer each time, up to 30 s.
 */
import { InboxBatchError } from './apply-inbox.js'

export type FailureStep =
  /** Take the failed batch's bodies one at a time. */
  | { do: 'isolate' }
  /** Try the body again after the wait. */
  | { do: 'retry'; waitMs: number }
  /** Set the body aside if the store answers; else wait, as for a retry. */
  | { do: 'set-aside'; entryId: number; waitMs: number }
  /** Nothing to blame on a body: wait for the store. */
  | { do: 'wait-for-store'; waitMs: number }

/** Failures of one body in a row before it is set aside. */
const failuresBeforeSettingAside = 3

/** Bodies still to be taken one at a time, and each body's failures. */
export class ApplyFailures {
  private isolateEntries = 0
  private readonly entryFailures = new Map<number, number>()
  private storeFailures = 0

  /** Whether the next batch is to hold one body only. */
  get isolating(): boolean {
    return this.isolateEntries > 0
  }

  /** The next step after `error` failed the batch just taken. */
  afterFailure(error: unknown, wasIsolating: boolean): FailureStep {
    const ids = error instanceof InboxBatchError ? error.entryIds : []
    if (!wasIsolating && ids.length > 1) {
      this.isolateEntries = ids.length
      return { do: 'isolate' }
    }

    const id = ids[0]
    if (id !== undefined && !isConnectionLoss(error)) {
      const failures = (this.entryFailures.get(id) ?? 0) + 1
      this.entryFailures.set(id, failures)
      const waitMs = 100 * 2 ** failures
      return failures >= failuresBeforeSettingAside
        ? { do: 'set-aside', entryId: id, waitMs }
        : { do: 'retry', waitMs }
    }

    const waitMs = Math.min(30_000, 250 * 2 ** this.storeFailures)
    this.storeFailures++
    return { do: 'wait-for-store', waitMs }
  }

  /** A batch was applied. */
  afterApplied(wasIsolating: boolean): void {
    if (wasIsolating && this.isolateEntries > 0) this.isolateEntries--
    this.storeFailures = 0
    // Counts of bodies since applied (by this server or another) are moot.
    if (this.entryFailures.size > 1_000) this.entryFailures.clear()
  }

  /** The body `entryId` is in ingest_failed now. */
  afterSetAside(entryId: number): void {
    this.entryFailures.delete(entryId)
    if (this.isolateEntries > 0) this.isolateEntries--
  }
}

/** Whether `error` (or one it was caused by) is a lost database connection. */
export function isConnectionLoss(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code
    if (code === 'STORE_CONNECTION_LOST' || code === 'ECONNRESET') return true
    // PostgreSQL: the server ended the session (57P0x) or the connection failed (08xxx).
    if (typeof code === 'string' && /^(57P0[123]|08...)$/.test(code))
      return true
    if (/Connection terminated|connection is closed/i.test(cause.message))
      return true
  }

  return false
}
