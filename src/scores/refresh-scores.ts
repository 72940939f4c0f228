/**
 * Keeps score history current: every saved score is recomputed after data
 * changes (debounced after ingestion commits), after imports and definition
 * edits, and on a schedule so decayed usage cools down on its own.
 */
import { readSavedScores } from './saved-scores.js'
import { recordScores } from './score-history.js'

import type { Logger } from 'pino'
import type { Store } from '../store/store.js'
import type { ScoreChangeCause } from './score-history.js'

/** Recomputes every saved score now; returns the number of changes recorded. */
export async function refreshSavedScores(
  store: Store,
  cause: ScoreChangeCause,
  asOf: Date = new Date(),
): Promise<number> {
  let changes = 0
  for (const score of Object.values(await readSavedScores(store))) {
    changes += (await recordScores(store, score, asOf, cause)).changes
  }

  return changes
}

export interface ScoreRefresherOptions {
  /** Wait this long after a change before recomputing, to batch changes. */
  debounceMs?: number
  /** Recompute this often even without changes (decay); 0 turns it off. */
  scheduleMs?: number
  logger?: Pick<Logger, 'info' | 'error'>
}

/** Runs `refreshSavedScores` after changes and on a schedule, one run at a time. */
export class ScoreRefresher {
  private readonly store: Store
  private readonly debounceMs: number
  private readonly logger: ScoreRefresherOptions['logger']
  private pending: NodeJS.Timeout | undefined
  private pendingCause: ScoreChangeCause = 'ingest'
  private schedule: NodeJS.Timeout | undefined
  private running: Promise<void> = Promise.resolve()

  constructor(store: Store, options: ScoreRefresherOptions = {}) {
    this.store = store
    // Recomputing every score takes the writer for a moment: not after every commit.
    this.debounceMs = options.debounceMs ?? 5_000
    this.logger = options.logger
    const scheduleMs = options.scheduleMs ?? 15 * 60_000
    if (scheduleMs > 0) {
      this.schedule = setInterval(() => this.trigger('schedule', 0), scheduleMs)
      this.schedule.unref()
    }
  }

  /** Asks for a recomputation soon (changes within the debounce share one). */
  trigger(cause: ScoreChangeCause, delayMs = this.debounceMs): void {
    this.pendingCause = cause
    if (this.pending !== undefined) return
    this.pending = setTimeout(() => {
      this.pending = undefined
      const runCause = this.pendingCause
      this.running = this.running.then(() => this.refresh(runCause))
    }, delayMs)
  }

  /** Waits for any requested recomputation to finish. */
  async settle(): Promise<void> {
    if (this.pending !== undefined) {
      clearTimeout(this.pending)
      this.pending = undefined
      const cause = this.pendingCause
      this.running = this.running.then(() => this.refresh(cause))
    }
    await this.running
  }

  stop(): void {
    if (this.pending !== undefined) clearTimeout(this.pending)
    if (this.schedule !== undefined) clearInterval(this.schedule)
    this.pending = undefined
  }

  private async refresh(cause: ScoreChangeCause): Promise<void> {
    const started = Date.now()
    try {
      const changes = await refreshSavedScores(this.store, cause)
      this.logger?.info(
        { cause, changes, ms: Date.now() - started },
        'scores recomputed',
      )
    } catch (error) {
      this.logger?.error({ err: error, cause }, 'score recomputation failed')
    }
  }
}
