/**
 * Writes normalised messages to the store in one transaction: dedup by
 * messageId, identity links, people, accounts, memberships, property types
 * and the events themselves (bulk-appended).
 */
import {
  coercePropertyValue,
  inferPropertyType,
} from '../catalog/property-type.js'
import {
  readPropertyTypes,
  recordPropertyTypes,
} from '../catalog/property-catalog.js'
import { addEventsToRollups } from '../rollups/maintain-rollups.js'
import { readWorkspaceSettings } from '../store/workspace-settings.js'
import { resolveIdentity } from './resolve-identity.js'
import { upsertAccounts } from './write-accounts.js'
import { appendEvents, recordEventNames } from './write-events.js'
import { applyLinks, upsertPeople } from './write-people.js'

import type {
  PropertyScope,
  PropertyTypeMap,
} from '../catalog/property-catalog.js'
import type { Store } from '../store/store.js'
import type { IngestWarning } from './ingest-error.js'
import type { NormalizedMessage } from './normalize-message.js'

export interface WriteSummary {
  stored: number
  duplicates: number
  warnings: IngestWarning[]
}

export interface WriteResult extends WriteSummary {
  /** The messages that were new and are now stored. */
  storedMessages: ReadonlySet<NormalizedMessage>
}

/** Stores a batch atomically; duplicates (same source and messageId) are skipped. */
export async function writeMessages(
  store: Store,
  messages: readonly NormalizedMessage[],
): Promise<WriteResult> {
  if (messages.length === 0) {
    return { stored: 0, duplicates: 0, warnings: [], storedMessages: new Set() }
  }

  return store.transaction(async () => {
    const unique = dropBatchDuplicates(messages)
    const fresh = await claimMessageIds(store, unique)
    const warnings: IngestWarning[] = []

    if (fresh.length > 0) {
      const identity = resolveIdentity(
        fresh,
        await readKnownIdentities(store, fresh),
      )
      for (const refused of identity.refusedAliases) {
        warnings.push({
          messageId: refused.messageId,
          code: 'INGEST_ALIAS_REFUSED',
          path: 'previousId',
          message:
            `alias not applied: ${refused.previousId} and ${refused.userId} ` +
            'are both identified users; the message is kept',
        })
      }

      const types = await readPropertyTypes(store)
      const firstSeen: PropertyTypeMap = new Map()
      coerceProperties(fresh, types, firstSeen, warnings)

      await applyLinks(store, identity)
      await upsertPeople(store, fresh, identity)
      const settings = await readWorkspaceSettings(store)
      await upsertAccounts(
        store,
        fresh,
        identity,
        settings.matchAccountsByEmailDomain,
      )
      await appendEvents(store, fresh, identity)
      await addEventsToRollups(store, fresh, identity)
      await recordEventNames(store, fresh)
      await recordPropertyTypes(store, firstSeen, new Date())
    }

    return {
      stored: fresh.length,
      duplicates: messages.length - fresh.length,
      warnings,
      storedMessages: new Set(fresh),
    }
  })
}

function dropBatchDuplicates(
  messages: readonly NormalizedMessage[],
): NormalizedMessage[] {
  const seen = new Set<string>()
  const unique: NormalizedMessage[] = []
  for (const message of messages) {
    const key = `${message.sourceId}\u0000${message.messageId}`
    if (seen.has(key)) continue
    seen.add(key)
    unique.push(message)
  }

  return unique
}

// Inserting the ids first makes the unique key the judge of what is new,
// across batches and concurrent writers alike.
async function claimMessageIds(
  store: Store,
  messages: NormalizedMessage[],
): Promise<NormalizedMessage[]> {
  await store.stage(
    'staged_message_ids',
    { source_id: 'VARCHAR', message_id: 'VARCHAR', received_at: 'TIMESTAMPTZ' },
    messages.map((m) => [m.sourceId, m.messageId, m.receivedAt]),
  )
  const claimed = await store.query<{ source_id: string; message_id: string }>(
    `INSERT INTO message_ids SELECT * FROM ${store.sql.staged('staged_message_ids')}
     ON CONFLICT DO NOTHING RETURNING source_id, message_id`,
  )
  const fresh = new Set(
    claimed.map((r) => `${r.source_id}\u0000${r.message_id}`),
  )

  return messages.filter((m) => fresh.has(`${m.sourceId}\u0000${m.messageId}`))
}

async function readKnownIdentities(
  store: Store,
  messages: NormalizedMessage[],
) {
  const ids = new Set<string>()
  for (const m of messages) {
    for (const id of [m.userId, m.anonymousId, m.previousId]) {
      if (id !== null) ids.add(id)
    }
  }
  await store.stage(
    'staged_ids',
    { id: 'VARCHAR' },
    [...ids].map((id) => [id]),
  )

  // The user an id is linked to counts too, though the batch does not name
  // it: an identify of a visitor already linked to an identified user
  // must see that user as identified, as it would in the batch that made
  // the link, and not merge the two users.
  const known = await store.query<{
    id: string
    linked_to: string | null
    is_identified: boolean | null
    linked_is_identified: boolean | null
  }>(
    `SELECT s.id, i.user_id AS linked_to, NOT u.is_anonymous AS is_identified,
       NOT lu.is_anonymous AS linked_is_identified
     FROM ${store.sql.staged('staged_ids')} s
     LEFT JOIN identities i ON i.alias_id = s.id
     LEFT JOIN users u ON u.user_id = s.id
     LEFT JOIN users lu ON lu.user_id = i.user_id
     WHERE i.user_id IS NOT NULL OR u.user_id IS NOT NULL`,
  )

  return {
    links: new Map(
      known.flatMap((r) => (r.linked_to === null ? [] : [[r.id, r.linked_to]])),
    ),
    identifiedUsers: new Set(
      known.flatMap((r) => [
        ...(r.is_identified === true ? [r.id] : []),
        ...(r.linked_is_identified === true && r.linked_to !== null
          ? [r.linked_to]
          : []),
      ]),
    ),
  }
}

function coerceProperties(
  messages: NormalizedMessage[],
  known: PropertyTypeMap,
  firstSeen: PropertyTypeMap,
  warnings: IngestWarning[],
): void {
  for (const message of messages) {
    const scope: PropertyScope =
      message.type === 'identify'
        ? 'user'
        : message.type === 'group'
          ? 'account'
          : 'event'
    const knownTypes = known.get(scope)
    const batchTypes = firstSeen.get(scope) ?? new Map()
    firstSeen.set(scope, batchTypes)

    for (const [name, value] of Object.entries(message.properties)) {
      const inferred = inferPropertyType(value)
      if (inferred === null) continue

      const declared = knownTypes?.get(name) ?? batchTypes.get(name)
      if (declared === undefined) {
        batchTypes.set(name, inferred)
        continue
      }

      const coerced = coercePropertyValue(value, declared)
      if (coerced.ok) message.properties[name] = coerced.value
      else {
        warnings.push({
          messageId: message.messageId,
          code: 'INGEST_PROPERTY_TYPE_MISMATCH',
          path: `${scope === 'event' ? 'properties' : 'traits'}.${name}`,
          message:
            `${name} is a ${declared}; kept the ${inferred} value ` +
            `${JSON.stringify(value).slice(0, 60)} as sent`,
        })
      }
    }
  }
}

// Moves everything an alias or anonymous id had to the user it now means.
