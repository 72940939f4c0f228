/**
 * The joins that bring a list's entity its related records: a user's
 * account, an account's CRM company (by explicit account id, else by
 * domain), a user's CRM contact (by email, case-insensitive), the CRM owner.
 */
import type { JoinName } from '../catalog/resolve-field.js'
import type { StoreDialect } from '../store/store.js'

const joinOrder: JoinName[] = [
  'user_contact',
  'user_account',
  'account_company',
  'owner',
  'billing',
]

/** SQL for the needed joins, in dependency order. */
export function compileJoins(
  of: 'users' | 'accounts',
  needed: ReadonlySet<JoinName>,
  asOf: string,
  dialect: StoreDialect,
): string[] {
  const sql: string[] = []
  for (const join of joinOrder) {
    if (!needed.has(join)) continue

    switch (join) {
      case 'user_account':
        // The user's latest account (membership started last by asOf).
        sql.push(`LEFT JOIN (SELECT DISTINCT ON (m.user_id) m.user_id, m.account_id
          FROM memberships m WHERE m.started_at IS NULL OR m.started_at <= ${asOf}
          ORDER BY m.user_id, m.started_at DESC NULLS LAST, m.account_id) ua
          ON ua.user_id = u.user_id`)
        sql.push('LEFT JOIN accounts a ON a.account_id = ua.account_id')
        break
      case 'account_company':
        sql.push(
          dialect === 'postgres'
            ? accountCompanyByLookup
            : accountCompanyBySort,
        )
        break
      case 'user_contact':
        sql.push(`LEFT JOIN (SELECT DISTINCT ON (lower(c.email)) lower(c.email) AS email_key,
            c.contact_id, c.email, c.company_id, c.owner_id, c.properties
          FROM crm_contacts c WHERE c.email IS NOT NULL
          ORDER BY lower(c.email), c.contact_id) ct ON ct.email_key = u.email`)
        break
      case 'billing':
        // Subscriptions started after asOf did not exist yet; their state
        // is Stripe's latest (billing keeps no history of status).
        sql.push(`LEFT JOIN (SELECT DISTINCT ON (bc.account_id) bc.account_id,
            bs.plan, bs.status, bs.trial_end, bs.current_period_end,
            bs.customer_id, bs.currency,
            sum(CASE WHEN bs.status IN ('active', 'trialing', 'past_due')
              THEN bs.mrr ELSE 0 END) OVER (PARTITION BY bc.account_id) AS mrr
          FROM billing_subscriptions bs
          JOIN billing_customers bc ON bc.customer_id = bs.customer_id
          WHERE bc.account_id IS NOT NULL
            AND (bs.created_at IS NULL OR bs.created_at <= ${asOf})
          ORDER BY bc.account_id,
            CASE bs.status WHEN 'active' THEN 0 WHEN 'trialing' THEN 1
              WHEN 'past_due' THEN 2 ELSE 3 END,
            bs.created_at DESC NULLS LAST, bs.subscription_id) bl
          ON bl.account_id = a.account_id`)
        break
      case 'owner':
        sql.push(
          of === 'users'
            ? 'LEFT JOIN crm_owners co ON co.owner_id = coalesce(ct.owner_id, cc.owner_id)'
            : 'LEFT JOIN crm_owners co ON co.owner_id = cc.owner_id',
        )
        break
    }
  }

  return sql
}

// An account's CRM company: an explicit account id wins over a domain
// match, then the lowest company id.

// DuckDB: all accounts' candidates at once, two equi-joins (not one join
// ON a OR b, which DuckDB runs as a nested loop), the first of each kept.
const accountCompanyBySort = `LEFT JOIN (SELECT DISTINCT ON (x.account_id) x.account_id,
    x.company_id, x.name, x.domain, x.owner_id, x.properties
  FROM (
    SELECT ax.account_id, 0 AS match_rank, c.company_id, c.name,
      c.domain, c.owner_id, c.properties
    FROM accounts ax JOIN crm_companies c ON c.account_id = ax.account_id
    UNION ALL
    SELECT ax.account_id, 1 AS match_rank, c.company_id, c.name,
      c.domain, c.owner_id, c.properties
    FROM accounts ax JOIN crm_companies c ON c.domain = ax.domain
  ) x
  ORDER BY x.account_id, x.match_rank, x.company_id) cc
  ON cc.account_id = a.account_id`

// PostgreSQL: the same choice looked up per account through the indexes on
// account_id and domain. PostgreSQL guesses 200 rows for the DISTINCT ON
// above whatever the data, then plans the rest of the list as nested loops
// (13 s instead of 0.4 s at the bench's size); one row per account it
// estimates right.
const accountCompanyByLookup = `LEFT JOIN LATERAL (SELECT a.account_id,
    x.company_id, x.name, x.domain, x.owner_id, x.properties
  FROM (
    SELECT 0 AS match_rank, c.company_id, c.name, c.domain, c.owner_id,
      c.properties
    FROM crm_companies c WHERE c.account_id = a.account_id
    UNION ALL
    SELECT 1 AS match_rank, c.company_id, c.name, c.domain, c.owner_id,
      c.properties
    FROM crm_companies c WHERE c.domain = a.domain
  ) x
  ORDER BY x.match_rank, x.company_id
  LIMIT 1) cc ON TRUE`
