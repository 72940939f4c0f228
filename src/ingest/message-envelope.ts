/**
 * What comes with a message besides its own fields: its source, when it
 * was received, and what the request around it says.
 */
import type { MessageType } from './message-types.js'

export type JsonObject = Record<string, unknown>

export interface MessageEnvelope {
  sourceId: string
  receivedAt: Date
  /** `sentAt` of the enclosing batch, used when a message has none. */
  batchSentAt?: unknown
  /** The type implied by the route (`/v1/track`), when the message omits it. */
  impliedType?: MessageType
  /**
   * A replay of stored messages (a file import): receipt time is the
   * message's own `receivedAt`; without one, no clock skew is corrected.
   */
  isReplay?: boolean
}
