/**
 * Counts of what the store holds: people, accounts, memberships, events by
 * type and by name, CRM records, ingestion's inbox.
 */
import { countJournalWaiting } from '../ingest/journal-queue.js'

import type { Store } from '../store/store.js'

export interface StoreStats {
  users: number
  anonymousUsers: number
  identities: number
  accounts: number
  memberships: number
  events: number
  eventsByType: Record<string, number>
  eventsByName: Record<string, number>
  crm: { owners: number; companies: number; contacts: number; deals: number }
  /**
   * Accepted over HTTP and not yet applied (in the inbox table or the
   * accept journal); bodies that failed to apply.
   */
  ingest: {
    waiting: number
    failedBodies: number
    failedMessages: number
    /** Why the accept journal beside a DuckDB file cannot be read, if so. */
    journalProblem: string | null
  }
}

/** Reads every count `leadlens stats` prints. */
export async function readStats(store: Store): Promise<StoreStats> {
  const [counts] = await store.query<Record<string, number>>(`SELECT
    (SELECT count(*) FROM users WHERE NOT is_anonymous) AS users,
    (SELECT count(*) FROM users WHERE is_anonymous) AS anonymous_users,
    (SELECT count(*) FROM identities) AS identities,
    (SELECT count(*) FROM accounts) AS accounts,
    (SELECT count(*) FROM memberships) AS memberships,
    (SELECT count(*) FROM events) AS events,
    (SELECT count(*) FROM crm_owners) AS owners,
    (SELECT count(*) FROM crm_companies) AS companies,
    (SELECT count(*) FROM crm_contacts) AS contacts,
    (SELECT count(*) FROM crm_deals) AS deals,
    (SELECT coalesce(sum(messages), 0) FROM ingest_inbox) AS waiting,
    (SELECT count(*) FROM ingest_failed) AS failed_bodies,
    (SELECT coalesce(sum(messages), 0) FROM ingest_failed) AS failed_messages`)
  const byType = await store.query<{ type: string; n: number }>(
    'SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type',
  )
  const byName = await store.query<{ event: string; n: number }>(
    `SELECT event, count(*) AS n FROM events WHERE type = 'track'
     GROUP BY event ORDER BY event`,
  )
  const count = (key: string) => Number(counts?.[key] ?? 0)
  const journal = await countJournalWaiting(store)

  return {
    users: count('users'),
    anonymousUsers: count('anonymous_users'),
    identities: count('identities'),
    accounts: count('accounts'),
    memberships: count('memberships'),
    events: count('events'),
    eventsByType: Object.fromEntries(byType.map((r) => [r.type, Number(r.n)])),
    eventsByName: Object.fromEntries(byName.map((r) => [r.event, Number(r.n)])),
    crm: {
      owners: count('owners'),
      companies: count('companies'),
      contacts: count('contacts'),
      deals: count('deals'),
    },
    ingest: {
      waiting: count('waiting') + journal.waiting,
      failedBodies: count('failed_bodies'),
      failedMessages: count('failed_messages'),
      journalProblem: journal.problem,
    },
  }
}
