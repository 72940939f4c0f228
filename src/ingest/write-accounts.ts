/**
 * Accounts in a write batch: group calls (traits, domain, membership from
 * the call's time) and, with the workspace setting on, accounts by the
 * registrable domain of identified emails.
 */
import { emptyRecord } from '../catalog/own-property.js'
import { composeMergePatch } from './compose-merge-patch.js'
import { accountDomainOfEmail, registrableDomain } from './email-domain.js'
import { addMembershipsToRollups } from '../rollups/maintain-rollups.js'

import type { Store } from '../store/store.js'
import type { JsonObject, NormalizedMessage } from './normalize-message.js'
import type { IdentityResolution } from './resolve-identity.js'

interface AccountRow {
  name: string | null
  domain: string | null
  firstSeen: Date
  traits: JsonObject
}

/** Upserts the batch's accounts and memberships. */
export async function upsertAccounts(
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
      traits: store.sql.types.json,
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
  const staged = store.sql.staged('staged_accounts')
  await store.execute(
    `INSERT INTO accounts SELECT * FROM ${staged}
     ON CONFLICT (account_id) DO UPDATE SET
       name = coalesce(excluded.name, accounts.name),
       domain = coalesce(excluded.domain, accounts.domain),
       first_seen_at = least(accounts.first_seen_at, excluded.first_seen_at),
       traits = CASE WHEN excluded.traits = '{}' THEN accounts.traits
         ELSE ${store.sql.mergePatch('accounts.traits', 'excluded.traits')} END,
       updated_at = excluded.updated_at`,
  )
  // A new row starts from the patch applied to nothing: nulls are dropped.
  await store.execute(
    `UPDATE accounts SET traits = ${store.sql.mergePatch("'{}'", 'accounts.traits')}
     FROM ${staged} s
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
  await addMembershipsToRollups(store, 'staged_memberships')
  await store.execute(
    `INSERT INTO memberships SELECT * FROM ${store.sql.staged('staged_memberships')}
     ON CONFLICT (user_id, account_id) DO UPDATE SET
       started_at = least(memberships.started_at, excluded.started_at)`,
  )
}

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
