/**
 * The messages an accepting route already parsed, kept in memory by a token
 * stored with their inbox entry, so the applier need not parse the body
 * again while this process runs. Bounded in messages; a copy nobody asks
 * for within a minute (another server applied its entry) is dropped.
 */
import { randomBytes } from 'node:crypto'

import type { NormalizedMessage } from './normalize-message.js'

/** Copies are dropped this long after they were kept, if still here. */
const keepForMs = 60_000

export class ParsedCopies {
  private readonly copies = new Map<
    string,
    { messages: NormalizedMessage[]; at: number }
  >()
  private size = 0
  private readonly limit: number
  private readonly prefix = randomBytes(6).toString('base64url')
  private count = 0

  /** `limit`: messages held at most. */
  constructor(limit: number) {
    this.limit = limit
  }

  /** Keeps `messages`; their token, or null when the copies are full. */
  keep(messages: NormalizedMessage[]): string | null {
    if (this.size + messages.length > this.limit) return null

    const token = `${this.prefix}.${++this.count}`
    this.copies.set(token, { messages, at: Date.now() })
    this.size += messages.length

    return token
  }

  get(token: string): NormalizedMessage[] | undefined {
    return this.copies.get(token)?.messages
  }

  forget(tokens: Iterable<string>): void {
    for (const token of tokens) {
      const copy = this.copies.get(token)
      if (copy === undefined) continue
      this.copies.delete(token)
      this.size -= copy.messages.length
    }
  }

  /** Drops the copies kept over a minute ago (the map is in keeping order). */
  forgetStale(): void {
    const staleBefore = Date.now() - keepForMs
    const stale: string[] = []
    for (const [token, copy] of this.copies) {
      if (copy.at >= staleBefore) break
      stale.push(token)
    }
    this.forget(stale)
  }
}
