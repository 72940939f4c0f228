/**
 * People in a write batch: identity links applied to what was stored
 * (events, memberships and rows move to the user), then one upsert per
 * person with their first and last seen, email, creation time and traits.
 */
import { emptyRecord } from '../catalog/own-property.js'
import { composeMergePatch } from './compose-merge-patch.js'
import { parseInstant } from './parse-instant.js'
import {
  recomputeRelinkedRollups,
  stageRelinkedRollupKeys,
} from '../rollups/maintain-rollups.js'

import type { Store } from '../store/store.js'
import type { JsonObject, NormalizedMessage } from './normalize-message.js'
import type { IdentityResolution } from './resolve-identity.js'

/** Moves everything an alias or anonymous id had to the user it now means. */
export async function applyLinks(store: Store, identity: IdentityResolution) {
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
  const links = store.sql.staged('staged_links')
  await stageRelinkedRollupKeys(store)

  await store.execute(
    `UPDATE identities SET user_id = l.user_id FROM ${links} l
     WHERE identities.user_id = l.alias_id`,
  )
  await store.execute(
    `INSERT INTO identities SELECT * FROM ${links}
     ON CONFLICT DO NOTHING`,
  )
  await store.execute(
    `UPDATE events SET person_id = l.user_id FROM ${links} l
     WHERE events.person_id = l.alias_id`,
  )
  await store.execute(
    `INSERT INTO memberships
     SELECT l.user_id, m.account_id, min(m.started_at), min(m.via)
     FROM memberships m JOIN ${links} l ON m.user_id = l.alias_id
     GROUP BY l.user_id, m.account_id
     ON CONFLICT (user_id, account_id) DO UPDATE SET
       started_at = least(memberships.started_at, excluded.started_at)`,
  )
  await store.execute(
    `DELETE FROM memberships WHERE user_id IN
     (SELECT alias_id FROM ${links})`,
  )
  await store.execute(
    `INSERT INTO users
     SELECT l.user_id, false, min(u.email), min(u.created_at),
       min(u.first_seen_at), max(u.last_seen_at), '{}', now()
     FROM users u JOIN ${links} l ON u.user_id = l.alias_id
     GROUP BY l.user_id
     ON CONFLICT (user_id) DO UPDATE SET
       is_anonymous = false,
       email = coalesce(users.email, excluded.email),
       created_at = coalesce(users.created_at, excluded.created_at),
       first_seen_at = least(users.first_seen_at, excluded.first_seen_at),
       last_seen_at = greatest(users.last_seen_at, excluded.last_seen_at)`,
  )
  await store.execute(
    `DELETE FROM users WHERE user_id IN (SELECT alias_id FROM ${links})`,
  )
  await recomputeRelinkedRollups(store)
}

interface PersonRow {
  isAnonymous: boolean
  email: string | null
  createdAt: Date | null
  firstSeen: Date
  lastSeen: Date
  traits: JsonObject
}

/** Upserts every person of the batch. */
export async function upsertPeople(
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
      traits: store.sql.types.json,
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
  const staged = store.sql.staged('staged_users')
  // Most people of a batch bring only activity: their seen times move,
  // and nothing else of theirs is rewritten.
  await store.execute(
    `UPDATE users SET
       first_seen_at = least(users.first_seen_at, s.first_seen_at),
       last_seen_at = greatest(users.last_seen_at, s.last_seen_at),
       updated_at = s.updated_at
     FROM ${staged} s WHERE users.user_id = s.user_id
       AND (s.first_seen_at < users.first_seen_at
         OR s.last_seen_at > users.last_seen_at
         OR users.first_seen_at IS NULL)`,
  )
  // Those with an identify: profile, email, creation time, traits.
  await store.execute(
    `UPDATE users SET
       is_anonymous = users.is_anonymous AND s.is_anonymous,
       email = coalesce(s.email, users.email),
       created_at = coalesce(s.created_at, users.created_at),
       traits = CASE WHEN s.traits = '{}' THEN users.traits
         ELSE ${store.sql.mergePatch('users.traits', 's.traits')} END,
       updated_at = s.updated_at
     FROM ${staged} s WHERE users.user_id = s.user_id
       AND (s.traits <> '{}' OR s.email IS NOT NULL OR s.created_at IS NOT NULL
         OR (users.is_anonymous AND NOT s.is_anonymous))`,
  )
  await store.execute(
    `INSERT INTO users SELECT s.* FROM ${staged} s
     WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = s.user_id)`,
  )
  // A new row starts from the patch applied to nothing: nulls are dropped.
  const bringsTraits = [...people.values()].some(
    (p) => Object.keys(p.traits).length > 0,
  )
  if (!bringsTraits) return
  await store.execute(
    `UPDATE users SET traits = ${store.sql.mergePatch("'{}'", 'users.traits')}
     FROM ${staged} s
     WHERE users.user_id = s.user_id
       AND s.traits <> '{}'`,
  )
}
