/**
 * Group commit: messages from concurrent requests are collected for a few
 * milliseconds, written in one transaction, and every request is answered
 * only after that commit. One writer at a time, so the store sees no races.
 */
import { writeMessages } from './write-messages.js'

import type { Store } from '../store/store.js'
import type { NormalizedMessage } from './normalize-message.js'
import type { WriteSummary } from './write-messages.js'

interface Pending {
  messages: NormalizedMessage[]
  resolve: (summary: WriteSummary) => void
  reject: (error: unknown) => void
}

export interface IngestQueueOptions {
  /** How long to wait for more requests before writing. */
  lingerMs?: number
  /** Write at once when this many messages are waiting. */
  maxMessages?: number
  /** Called after each commit that stored something new. */
  onCommit?: (stored: number) => void
}

export class IngestQueue {
  private readonly store: Store
  private readonly lingerMs: number
  private readonly maxMessages: number
  private waiting: Pending[] = []
  private waitingCount = 0
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()
  private isWriting = false
  private readonly onCommit: ((stored: number) => void) | undefined

  constructor(store: Store, options: IngestQueueOptions = {}) {
    this.store = store
    this.lingerMs = options.lingerMs ?? 5
    this.maxMessages = options.maxMessages ?? 5_000
    this.onCommit = options.onCommit
  }

  /** Resolves once `messages` are committed (or found to be duplicates). */
  submit(messages: NormalizedMessage[]): Promise<WriteSummary> {
    if (messages.length === 0)
      return Promise.resolve({ stored: 0, duplicates: 0, warnings: [] })

    return new Promise((resolve, reject) => {
      this.waiting.push({ messages, resolve, reject })
      this.waitingCount += messages.length
      // While a write runs, requests gather; it takes them all when done.
      if (this.isWriting) return
      if (this.waitingCount >= this.maxMessages) this.startWriting()
      else this.timer ??= setTimeout(() => this.startWriting(), this.lingerMs)
    })
  }

  /** Waits for every submitted message to be written. */
  async drain(): Promise<void> {
    this.startWriting()
    await this.writing
  }

  private startWriting(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.isWriting || this.waiting.length === 0) return

    this.isWriting = true
    this.writing = this.writeAll().finally(() => {
      this.isWriting = false
    })
  }

  // One commit for everything waiting, then again for what came meanwhile.
  private async writeAll(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting
      this.waiting = []
      this.waitingCount = 0
      await this.write(group)
    }
  }

  private async write(group: Pending[]): Promise<void> {
    try {
      const summary = await writeMessages(
        this.store,
        group.flatMap((p) => p.messages),
      )
      if (summary.stored > 0) this.onCommit?.(summary.stored)
      for (const pending of group) {
        const stored = pending.messages.filter((m) =>
          summary.storedMessages.has(m),
        )
        const ids = new Set(pending.messages.map((m) => m.messageId))
        pending.resolve({
          stored: stored.length,
          duplicates: pending.messages.length - stored.length,
          warnings: summary.warnings.filter((w) => ids.has(w.messageId)),
        })
      }
    } catch (error) {
      for (const pending of group) pending.reject(error)
    }
  }
}
