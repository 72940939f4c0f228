/**
 * Everything known about one user or account at `asOf`, for an entity
 * page: the profile, its CRM records and owner, billing, scores with their
 * levels, and the latest events.
 */
import { runScore } from '../scores/run-score.js'
import { readSavedScores } from '../scores/saved-scores.js'
import { parseListDefinition } from './read-list-definition.js'
import { runList } from './run-list.js'

import type { Row, Store } from '../store/store.js'

export interface EntityPage {
  kind: 'users' | 'accounts'
  id: string
  asOf: string
  profile: Row
  accounts?: Row[]
  users?: Row[]
  crm: {
    company: Row | null
    contact: Row | null
    owner: Row | null
    deals: Row[]
  }
  billing: { subscriptions: Row[]; invoices: Row[] }
  scores: {
    name: string
    fit: number
    usage: number
    total: number
    fit_level: string
    usage_level: string
    quadrant: string
  }[]
  events: Row[]
}

const eventLimit = 50

/** The page of `id`, or undefined when it did not exist at asOf (or the rep does not own it). */
export async function readEntity(
  store: Store,
  kind: 'users' | 'accounts',
  id: string,
  options: { asOf: Date; ownerEmail?: string },
): Promise<EntityPage | undefined> {
  const idField = kind === 'users' ? 'user.id' : 'account.id'
  const columns =
    kind === 'users'
      ? [
          'user.id',
          'user.email',
          'user.created_at',
          'user.first_seen',
          'user.last_seen',
          'user.is_anonymous',
          'account.id',
          'crm.contact.id',
          'crm.company.id',
          'crm.owner.id',
          'crm.owner.email',
          'crm.owner.name',
        ]
      : [
          'account.id',
          'account.name',
          'account.domain',
          'account.created_at',
          'account.first_seen',
          'crm.company.id',
          'crm.company.name',
          'crm.owner.id',
          'crm.owner.email',
          'crm.owner.name',
          'billing.plan',
          'billing.status',
          'billing.mrr',
          'billing.trial_end',
        ]
  // The same query as a list, so existence at asOf and a rep's ownership hold.
  const definition = parseListDefinition(
    {
      name: 'entity',
      of: kind,
      where: { field: idField, op: '=', value: id },
      columns,
    },
    'entity',
  )
  const found = await runList(store, definition, {
    asOf: options.asOf,
    ...(options.ownerEmail === undefined
      ? {}
      : { ownerEmail: options.ownerEmail }),
  })
  const summary = found.rows[0]
  if (summary === undefined) return undefined

  const table = kind === 'users' ? 'users' : 'accounts'
  const key = kind === 'users' ? 'user_id' : 'account_id'
  const [profile] = await store.query(
    `SELECT * FROM ${table} WHERE ${key} = $1`,
    [id],
  )
  const companyId = summary['crm.company.id'] as string | null
  const accountId = (kind === 'accounts' ? id : summary['account.id']) as
    string | null

  const deals =
    accountId === null
      ? []
      : await store.query(
          `SELECT deal_id, stage, amount, created_at, closed_at, owner_id FROM crm_deals
     WHERE (account_id = $1 OR ($2::VARCHAR IS NOT NULL AND company_id = $2)) AND (created_at IS NULL OR created_at <= $3)
     ORDER BY created_at DESC NULLS LAST, deal_id`,
          [accountId, companyId, options.asOf],
        )
  const subscriptions =
    accountId === null
      ? []
      : await store.query(
          `SELECT s.subscription_id, s.status, s.plan, s.mrr, s.currency, s.trial_end, s.created_at, s.canceled_at
     FROM billing_subscriptions s JOIN billing_customers c ON c.customer_id = s.customer_id
     WHERE c.account_id = $1 AND (s.created_at IS NULL OR s.created_at <= $2) ORDER BY s.created_at DESC NULLS LAST`,
          [accountId, options.asOf],
        )
  const invoices =
    accountId === null
      ? []
      : await store.query(
          `SELECT i.invoice_id, i.status, i.amount_due, i.amount_paid, i.currency, i.paid_at, i.created_at
     FROM billing_invoices i JOIN billing_customers c ON c.customer_id = i.customer_id
     WHERE c.account_id = $1 AND (i.created_at IS NULL OR i.created_at <= $2) ORDER BY i.created_at DESC NULLS LAST LIMIT 50`,
          [accountId, options.asOf],
        )
  const events = await store.query(
    kind === 'users'
      ? `SELECT type, event, timestamp, account_id, properties FROM events
         WHERE person_id = $1 AND timestamp <= $2 ORDER BY timestamp DESC LIMIT ${eventLimit}`
      : `SELECT e.type, e.event, e.timestamp, e.person_id, e.properties FROM events e
         WHERE e.timestamp <= $2 AND (e.account_id = $1 OR (e.account_id IS NULL AND e.person_id IN
           (SELECT user_id FROM memberships WHERE account_id = $1)))
         ORDER BY e.timestamp DESC LIMIT ${eventLimit}`,
    [id, options.asOf],
  )

  const scores: EntityPage['scores'] = []
  for (const score of Object.values(await readSavedScores(store))) {
    const scoredId =
      score.of === kind ? id : score.of === 'accounts' ? accountId : null
    if (scoredId === null) continue
    const [row] = await runScore(store, score, {
      asOf: options.asOf,
      entityId: scoredId,
    })
    if (row !== undefined) {
      scores.push({
        name: score.name,
        fit: row.fit,
        usage: row.usage,
        total: row.total,
        fit_level: row.fit_level,
        usage_level: row.usage_level,
        quadrant: row.quadrant,
      })
    }
  }

  const page: EntityPage = {
    kind,
    id,
    asOf: options.asOf.toISOString(),
    profile: { ...(profile ?? {}), ...summary },
    crm: {
      company:
        companyId === null
          ? null
          : { id: companyId, name: summary['crm.company.name'] ?? null },
      contact:
        kind === 'users' && summary['crm.contact.id'] !== null
          ? { id: summary['crm.contact.id'] }
          : null,
      owner:
        summary['crm.owner.id'] === null
          ? null
          : {
              id: summary['crm.owner.id'],
              email: summary['crm.owner.email'],
              name: summary['crm.owner.name'],
            },
      deals,
    },
    billing: { subscriptions, invoices },
    scores,
    events,
  }
  if (kind === 'accounts') {
    page.users = await store.query(
      `SELECT m.user_id, u.email, m.started_at FROM memberships m LEFT JOIN users u ON u.user_id = m.user_id
       WHERE m.account_id = $1 AND (m.started_at IS NULL OR m.started_at <= $2) ORDER BY m.started_at DESC NULLS LAST LIMIT 100`,
      [id, options.asOf],
    )
  } else {
    page.accounts = await store.query(
      `SELECT m.account_id, a.name, m.started_at FROM memberships m LEFT JOIN accounts a ON a.account_id = m.account_id
       WHERE m.user_id = $1 AND (m.started_at IS NULL OR m.started_at <= $2) ORDER BY m.started_at DESC NULLS LAST`,
      [id, options.asOf],
    )
  }

  return page
}
