/**
 * Writes normalised messages to the store in one transaction: dedup by
 * messageId, identity links, people, accounts, memberships, property types
 * and the events themselves (bulk-appended).
 */
import { emptyRecord } from '../catalog/own-property.js'
import {
  coercePropertyValue,
  inferPropertyType,
} from '../catalog/property-type.js'
import {
  readPropertyTypes,
  recordPropertyTypes,
} from '../catalog/property-catalog.js'
import { readWorkspaceSettings } from '../store/workspace-settings.js'
import { accountDomainOfEmail, registrableDomain } from './email-domain.js'
import { composeMergePatch } from './compose-merge-patch.js'
import { parseInstant } from './parse-instant.js'
import { resolveIdentity } from './resolve-identity.js'

import type {
  PropertyScope,
  PropertyTypeMap,
} from '../catalog/property-catalog.js'
import type { AppendValue, Store } from '../store/store.js'
import type { IngestWarning } from './ingest-error.js'
import type { JsonObject, NormalizedMessage } from './normalize-message.js'
import type { IdentityResolution } from './resolve-identity.js'

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
    `INSERT INTO message_ids SELECT * FROM temp.staged_message_ids
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

  const known = await store.query<{
    id: string
    linked_to: string | null
    is_identified: boolean | null
  }>(
    `SELECT s.id, i.user_id AS linked_to, NOT u.is_anonymous AS is_identified
     FROM temp.staged_ids s
     LEFT JOIN identities i ON i.alias_id = s.id
     LEFT JOIN users u ON u.user_id = s.id
     WHERE i.user_id IS NOT NULL OR u.user_id IS NOT NULL`,
  )

  return {
    links: new Map(
      known.flatMap((r) => (r.linked_to === null ? [] : [[r.id, r.linked_to]])),
    ),
    identifiedUsers: new Set(
      known.filter((r) => r.is_identified === true).map((r) => r.id),
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
async function applyLinks(store: Store, identity: IdentityResolution) {
  if (identity.newLinks.length === 0) return

  await store.stage(
    'staged_links',
    {
      alias_id: 'VARCHAR',
      user_id: 'VARCHAR',
      linked_at: 'TIMESTAMPTZ',
      via: 'VARCHAR',
    },
    identity.newLinks.map((l) => [l.aliasId, l.userId, l.linkedAt, l.via]),
  )

  await store.execute(
    `UPDATE identities SET user_id = l.user_id FROM temp.staged_links l
     WHERE identities.user_id = l.alias_id`,
  )
  await store.execute(
    `INSERT INTO identities SELECT * FROM temp.staged_links
     ON CONFLICT DO NOTHING`,
  )
  await store.execute(
    `UPDATE events SET person_id = l.user_id FROM temp.staged_links l
     WHERE events.person_id = l.alias_id`,
  )
  await store.execute(
    `INSERT INTO memberships
     SELECT l.user_id, m.account_id, min(m.started_at), min(m.via)
     FROM memberships m JOIN temp.staged_links l ON m.user_id = l.alias_id
     GROUP BY l.user_id, m.account_id
     ON CONFLICT DO UPDATE SET
       started_at = least(memberships.started_at, excluded.started_at)`,
  )
  await store.execute(
    `DELETE FROM memberships WHERE user_id IN
     (SELECT alias_id FROM temp.staged_links)`,
  )
  await store.execute(
    `INSERT INTO users
     SELECT l.user_id, false, min(u.email), min(u.created_at),
       min(u.first_seen_at), max(u.last_seen_at), '{}', now()
     FROM users u JOIN temp.staged_links l ON u.user_id = l.alias_id
     GROUP BY l.user_id
     ON CONFLICT DO UPDATE SET
       is_anonymous = false,
       email = coalesce(users.email, excluded.email),
       created_at = coalesce(users.created_at, excluded.created_at),
       first_seen_at = least(users.first_seen_at, excluded.first_seen_at),
       last_seen_at = greatest(users.last_seen_at, excluded.last_seen_at)`,
  )
  await store.execute(
    `DELETE FROM users WHERE user_id IN (SELECT alias_id FROM temp.staged_links)`,
  )
}

interface PersonRow {
  isAnonymous: boolean
  email: string | null
  createdAt: Date | null
  firstSeen: Date
  lastSeen: Date
  traits: JsonObject
}

async function upsertPeople(
  store: Store,
  messages: NormalizedMessage[],
  identity: IdentityResolution,
) {
  const people = new Map<string, PersonRow>()
  for (const message of messages) {
    const personId = identity.personOf(message)
    if (personId === '') continue

    const person = people.get(personId) ?? {
      isAnonymous: !identity.isIdentified(personId),
      email: null,
      createdAt: null,
      firstSeen: message.timestamp,
      lastSeen: message.timestamp,
      traits: emptyRecord(),
    }
    if (message.timestamp < person.firstSeen)
      person.firstSeen = message.timestamp
    if (message.timestamp > person.lastSeen) person.lastSeen = message.timestamp

    if (message.type === 'identify') {
      person.traits = composeMergePatch(person.traits, message.properties)
      const email = message.properties.email
      if (typeof email === 'string' && email.includes('@')) {
        person.email = email.trim().toLowerCase()
      }
      const created =
        message.properties.createdAt ?? message.properties.created_at
      if (created !== undefined && created !== null) {
        const parsed = parseInstant(created)
        if (parsed.ok) person.createdAt = parsed.date
      }
    }
    people.set(personId, person)
  }

  const now = new Date()
  await store.stage(
    'staged_users',
    {
      user_id: 'VARCHAR',
      is_anonymous: 'BOOLEAN',
      email: 'VARCHAR',
      created_at: 'TIMESTAMPTZ',
      first_seen_at: 'TIMESTAMPTZ',
      last_seen_at: 'TIMESTAMPTZ',
      traits: 'VARCHAR',
      updated_at: 'TIMESTAMPTZ',
    },
    [...people].map(([id, p]) => [
      id,
      p.isAnonymous,
      p.email,
      p.createdAt,
      p.firstSeen,
      p.lastSeen,
      JSON.stringify(p.traits),
      now,
    ]),
  )
  await store.execute(
    `INSERT INTO users SELECT * FROM temp.staged_users
     ON CONFLICT DO UPDATE SET
       is_anonymous = users.is_anonymous AND excluded.is_anonymous,
       email = coalesce(excluded.email, users.email),
       created_at = coalesce(excluded.created_at, users.created_at),
       first_seen_at = least(users.first_seen_at, excluded.first_seen_at),
       last_seen_at = greatest(users.last_seen_at, excluded.last_seen_at),
       traits = CASE WHEN excluded.traits = '{}' THEN users.traits
         ELSE json_merge_patch(users.traits, excluded.traits) END,
       updated_at = excluded.updated_at`,
  )
  // A new row starts from the patch applied to nothing: nulls are dropped.
  await store.execute(
    `UPDATE users SET traits = json_merge_patch('{}', users.traits)
     FROM temp.staged_users s
     WHERE users.user_id = s.user_id
       AND s.traits <> '{}'`,
  )
}

interface AccountRow {
  name: string | null
  domain: string | null
  firstSeen: Date
  traits: JsonObject
}

async function upsertAccounts(
  store: Store,
  messages: NormalizedMessage[],
  identity: IdentityResolution,
  matchByEmailDomain: boolean,
) {
  const accounts = new Map<string, AccountRow>()
  const memberships = new Map<string, [string, string, Date, string]>()
  const addMembership = (
    personId: string,
    accountId: string,
    at: Date,
    via: string,
  ) => {
    const key = `${personId}\u0000${accountId}`
    const existing = memberships.get(key)
    if (existing === undefined || at < existing[2]) {
      memberships.set(key, [personId, accountId, at, via])
    }
  }

  for (const message of messages) {
    if (message.type !== 'group' || message.groupId === null) continue

    const account = accounts.get(message.groupId) ?? {
      name: null,
      domain: null,
      firstSeen: message.timestamp,
      traits: emptyRecord(),
    }
    if (message.timestamp < account.firstSeen) {
      account.firstSeen = message.timestamp
    }
    account.traits = composeMergePatch(account.traits, message.properties)
    const name = message.properties.name
    if (typeof name === 'string') account.name = name
    // The first of domain and website that is text names the account's domain.
    const domain = [message.properties.domain, message.properties.website].find(
      (value): value is string => typeof value === 'string' && value !== '',
    )
    if (domain !== undefined) account.domain = registrableDomain(domain)
    accounts.set(message.groupId, account)

    addMembership(
      identity.personOf(message),
      message.groupId,
      message.timestamp,
      'group',
    )
  }

  if (matchByEmailDomain) {
    await matchEmailDomains(store, messages, identity, accounts, addMembership)
  }

  if (memberships.size === 0) return

  const now = new Date()
  await store.stage(
    'staged_accounts',
    {
      account_id: 'VARCHAR',
      name: 'VARCHAR',
      domain: 'VARCHAR',
      created_at: 'TIMESTAMPTZ',
      first_seen_at: 'TIMESTAMPTZ',
      traits: 'VARCHAR',
      updated_at: 'TIMESTAMPTZ',
    },
    [...accounts].map(([id, a]) => [
      id,
      a.name,
      a.domain,
      null,
      a.firstSeen,
      JSON.stringify(a.traits),
      now,
    ]),
  )
  await store.execute(
    `INSERT INTO accounts SELECT * FROM temp.staged_accounts
     ON CONFLICT DO UPDATE SET
       name = coalesce(excluded.name, accounts.name),
       domain = coalesce(excluded.domain, accounts.domain),
       first_seen_at = least(accounts.first_seen_at, excluded.first_seen_at),
       traits = CASE WHEN excluded.traits = '{}' THEN accounts.traits
         ELSE json_merge_patch(accounts.traits, excluded.traits) END,
       updated_at = excluded.updated_at`,
  )
  // A new row starts from the patch applied to nothing: nulls are dropped.
  await store.execute(
    `UPDATE accounts SET traits = json_merge_patch('{}', accounts.traits)
     FROM temp.staged_accounts s
     WHERE accounts.account_id = s.account_id
       AND s.traits <> '{}'`,
  )

  await store.stage(
    'staged_memberships',
    {
      user_id: 'VARCHAR',
      account_id: 'VARCHAR',
      started_at: 'TIMESTAMPTZ',
      via: 'VARCHAR',
    },
    [...memberships.values()],
  )
  await store.execute(
    `INSERT INTO memberships SELECT * FROM temp.staged_memberships
     ON CONFLICT DO UPDATE SET
       started_at = least(memberships.started_at, excluded.started_at)`,
  )
}

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

async function appendEvents(
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
async function matchEmailDomains(
  store: Store,
  messages: NormalizedMessage[],
  identity: IdentityResolution,
  accounts: Map<string, AccountRow>,
  addMembership: (
    person: string,
    account: string,
    at: Date,
    via: string,
  ) => void,
) {
  const wanted: { personId: string; domain: string; at: Date }[] = []
  for (const message of messages) {
    if (message.type !== 'identify') continue
    const email = message.properties.email
    if (typeof email !== 'string') continue
    const domain = accountDomainOfEmail(email)
    if (domain !== null) {
      wanted.push({
        personId: identity.personOf(message),
        domain,
        at: message.timestamp,
      })
    }
  }
  if (wanted.length === 0) return

  const domains = [...new Set(wanted.map((w) => w.domain))]
  const placeholders = domains.map((_, index) => `$${index + 1}`).join(', ')
  const existing = await store.query<{ account_id: string; domain: string }>(
    `SELECT min(account_id) AS account_id, domain FROM accounts
     WHERE domain IN (${placeholders}) GROUP BY domain`,
    domains,
  )
  const accountOfDomain = new Map(existing.map((r) => [r.domain, r.account_id]))
  for (const [accountId, account] of accounts) {
    if (account.domain !== null && !accountOfDomain.has(account.domain)) {
      accountOfDomain.set(account.domain, accountId)
    }
  }

  for (const { personId, domain, at } of wanted) {
    let accountId = accountOfDomain.get(domain)
    if (accountId === undefined) {
      accountId = domain
      accountOfDomain.set(domain, accountId)
      accounts.set(accountId, {
        name: null,
        domain,
        firstSeen: at,
        traits: emptyRecord(),
      })
    }
    addMembership(personId, accountId, at, 'email_domain')
  }
}

// The catalog of event names, so a list can warn about a metric on an event
// that never arrived without scanning the events.
async function recordEventNames(store: Store, messages: NormalizedMessage[]) {
  const names = new Map<string, Date>()
  for (const message of messages) {
    if (
      message.type === 'track' &&
      message.event !== null &&
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
    'INSERT INTO event_names SELECT * FROM temp.staged_event_names ON CONFLICT DO NOTHING',
  )
}
