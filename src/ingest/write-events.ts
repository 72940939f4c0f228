/**
 * The events of a write batch, bulk-appended, and the catalog of event
 * names they bring.
 */
import type { AppendValue, Store } from '../store/store.js'
import type { NormalizedMessage } from './normalize-message.js'
import type { IdentityResolution } from './resolve-identity.js'

const eventColumns = [
  'source_id',
  'message_id',
  'type',
  'event',
  'person_id',
  'user_id',
  'anonymous_id',
  'account_id',
  'timestamp',
  'original_timestamp',
  'sent_at',
  'received_at',
  'properties',
  'context',
] as const

/** Appends the batch's messages to the events table. */
export async function appendEvents(
  store: Store,
  messages: NormalizedMessage[],
  identity: IdentityResolution,
) {
  const rows = messages.map((m): AppendValue[] => [
    m.sourceId,
    m.messageId,
    m.type,
    m.event,
    identity.personOf(m) || null,
    m.userId,
    m.anonymousId,
    m.contextGroupId,
    m.timestamp,
    m.originalTimestamp,
    m.sentAt,
    m.receivedAt,
    JSON.stringify(m.properties),
    JSON.stringify(m.context),
  ])

  await store.appendRows('events', eventColumns, rows)
}

// With the workspace setting on, an identified email's registrable domain
// names an account: the one with that domain, else a new one keyed by it.
// Names known to be stored, per store: most batches bring none new. A name
// only ever gets added, so a stale set costs at most one needless insert.
const knownNames = new WeakMap<Store, Set<string>>()

export async function recordEventNames(
  store: Store,
  messages: NormalizedMessage[],
) {
  const known = knownNames.get(store) ?? new Set<string>()
  knownNames.set(store, known)
  const names = new Map<string, Date>()
  for (const message of messages) {
    if (
      message.type === 'track' &&
      message.event !== null &&
      !known.has(message.event) &&
      !names.has(message.event)
    ) {
      names.set(message.event, message.receivedAt)
    }
  }
  if (names.size === 0) return

  await store.stage(
    'staged_event_names',
    { name: 'VARCHAR', first_seen_at: 'TIMESTAMPTZ' },
    [...names],
  )
  await store.execute(
    `INSERT INTO event_names SELECT * FROM ${store.sql.staged('staged_event_names')} ON CONFLICT DO NOTHING`,
  )
  // Remembered only once committed: a rolled-back name must be tried again.
  store.afterCommit(() => {
    for (const name of names.keys()) known.add(name)
  })
}
