/**
 * Stores Stripe objects as billing rows in one transaction, and links each
 * customer to a Leadlens account (metadata `account_id`, else the account
 * with the email's registrable domain) and user (metadata `user_id`, else
 * the user with that email).
 */
import { accountDomainOfEmail } from '../../ingest/email-domain.js'
import {
  toCustomerRow,
  toInvoiceRow,
  toPriceRow,
  toSubscriptionRow,
} from './stripe-rows.js'

import type { Store } from '../../store/store.js'
import type { StripeObject } from './read-stripe-objects.js'
import type { PriceRow } from './stripe-rows.js'

export interface StripeApplySummary {
  customers: number
  prices: number
  subscriptions: number
  invoices: number
  linkedToAccounts: number
}

const metadataAccountKeys = [
  'account_id',
  'leadlens_account_id',
  'group_id',
  'groupId',
]
const metadataUserKeys = ['user_id', 'leadlens_user_id', 'userId']

/** Upserts the objects (later ones win) and links customers. */
export async function applyStripeObjects(
  store: Store,
  unordered: readonly StripeObject[],
  eventTimes: ReadonlyMap<StripeObject, Date> = new Map(),
): Promise<StripeApplySummary> {
  // Oldest event first, so within a batch the newest state is applied last.
  const eventAt = (object: StripeObject) => eventTimes.get(object) ?? null
  const objects = [...unordered].sort(
    (a, b) => (eventAt(a)?.getTime() ?? 0) - (eventAt(b)?.getTime() ?? 0),
  )
  const byKind = (kind: string) =>
    objects.filter((object) => object.object === kind)
  const productNames = new Map(
    byKind('product').map((p) => [
      p.id,
      typeof p.name === 'string' ? p.name : null,
    ]),
  )
  const now = new Date()

  const eventAtById = new Map(
    objects.map((o) => [`${o.object}:${o.id}`, eventAt(o)]),
  )
  const eventAtOf = (kind: string, id: string) =>
    eventAtById.get(`${kind}:${id}`) ?? null

  return store.transaction(async () => {
    const prices = await readPrices(store)
    for (const object of [...byKind('plan'), ...byKind('price')]) {
      const row = toPriceRow(object)
      prices.set(row.priceId, {
        ...row,
        productName:
          row.productName ?? productNames.get(row.productId ?? '') ?? null,
      })
    }
    const newPrices = [...byKind('plan'), ...byKind('price')].map(
      (object) => prices.get(object.id) as PriceRow,
    )
    await upsert(
      store,
      'billing_prices',
      'price_id',
      {
        price_id: 'VARCHAR',
        nickname: 'VARCHAR',
        product_id: 'VARCHAR',
        product_name: 'VARCHAR',
        unit_amount: store.sql.types.double,
        currency: 'VARCHAR',
        billing_interval: 'VARCHAR',
        interval_count: store.sql.types.double,
        stripe_event_at: 'TIMESTAMPTZ',
        updated_at: 'TIMESTAMPTZ',
      },
      dedupe(newPrices, (p) => p.priceId).map((p) => [
        p.priceId,
        p.nickname,
        p.productId,
        p.productName,
        p.unitAmount,
        p.currency,
        p.interval,
        p.intervalCount,
        eventAtOf('price', p.priceId) ?? eventAtOf('plan', p.priceId),
        now,
      ]),
    )

    const customers = dedupe(
      byKind('customer').map(toCustomerRow),
      (c) => c.customerId,
    )
    const links = await linkCustomers(store, customers)
    await upsert(
      store,
      'billing_customers',
      'customer_id',
      {
        customer_id: 'VARCHAR',
        email: 'VARCHAR',
        name: 'VARCHAR',
        account_id: 'VARCHAR',
        user_id: 'VARCHAR',
        metadata: store.sql.types.json,
        created_at: 'TIMESTAMPTZ',
        stripe_event_at: 'TIMESTAMPTZ',
        updated_at: 'TIMESTAMPTZ',
      },
      customers.map((c) => [
        c.customerId,
        c.email,
        c.name,
        links.get(c.customerId)?.accountId ?? null,
        links.get(c.customerId)?.userId ?? null,
        JSON.stringify(c.metadata),
        c.createdAt,
        eventAtOf('customer', c.customerId),
        now,
      ]),
    )

    const subscriptions = dedupe(
      byKind('subscription').map((s) => toSubscriptionRow(s, prices)),
      (s) => s.subscriptionId,
    )
    await upsert(
      store,
      'billing_subscriptions',
      'subscription_id',
      {
        subscription_id: 'VARCHAR',
        customer_id: 'VARCHAR',
        status: 'VARCHAR',
        plan: 'VARCHAR',
        price_id: 'VARCHAR',
        quantity: store.sql.types.double,
        mrr: store.sql.types.double,
        currency: 'VARCHAR',
        trial_end: 'TIMESTAMPTZ',
        current_period_end: 'TIMESTAMPTZ',
        canceled_at: 'TIMESTAMPTZ',
        created_at: 'TIMESTAMPTZ',
        stripe_event_at: 'TIMESTAMPTZ',
        updated_at: 'TIMESTAMPTZ',
      },
      subscriptions.map((s) => [
        s.subscriptionId,
        s.customerId,
        s.status,
        s.plan,
        s.priceId,
        s.quantity,
        s.mrr,
        s.currency,
        s.trialEnd,
        s.currentPeriodEnd,
        s.canceledAt,
        s.createdAt,
        eventAtOf('subscription', s.subscriptionId),
        now,
      ]),
    )

    const invoices = dedupe(
      byKind('invoice').map(toInvoiceRow),
      (i) => i.invoiceId,
    )
    await upsert(
      store,
      'billing_invoices',
      'invoice_id',
      {
        invoice_id: 'VARCHAR',
        customer_id: 'VARCHAR',
        subscription_id: 'VARCHAR',
        status: 'VARCHAR',
        amount_due: store.sql.types.double,
        amount_paid: store.sql.types.double,
        currency: 'VARCHAR',
        paid_at: 'TIMESTAMPTZ',
        created_at: 'TIMESTAMPTZ',
        stripe_event_at: 'TIMESTAMPTZ',
        updated_at: 'TIMESTAMPTZ',
      },
      invoices.map((i) => [
        i.invoiceId,
        i.customerId,
        i.subscriptionId,
        i.status,
        i.amountDue,
        i.amountPaid,
        i.currency,
        i.paidAt,
        i.createdAt,
        eventAtOf('invoice', i.invoiceId),
        now,
      ]),
    )

    return {
      customers: customers.length,
      prices: newPrices.length,
      subscriptions: subscriptions.length,
      invoices: invoices.length,
      linkedToAccounts: [...links.values()].filter(
        (link) => link.accountId !== null,
      ).length,
    }
  })
}

// A later object with the same id replaces the earlier (as Stripe's latest state).
function dedupe<T>(rows: T[], key: (row: T) => string): T[] {
  return [...new Map(rows.map((row) => [key(row), row])).values()]
}

async function readPrices(store: Store): Promise<Map<string, PriceRow>> {
  const rows = await store.query<Record<string, unknown>>(
    'SELECT * FROM billing_prices',
  )
  return new Map(
    rows.map((r) => [
      String(r.price_id),
      {
        priceId: String(r.price_id),
        nickname: (r.nickname as string | null) ?? null,
        productId: (r.product_id as string | null) ?? null,
        productName: (r.product_name as string | null) ?? null,
        unitAmount: r.unit_amount === null ? null : Number(r.unit_amount),
        currency: (r.currency as string | null) ?? null,
        interval: (r.billing_interval as string | null) ?? null,
        intervalCount: Number(r.interval_count ?? 1),
      },
    ]),
  )
}

async function linkCustomers(
  store: Store,
  customers: ReturnType<typeof toCustomerRow>[],
) {
  const links = new Map<
    string,
    { accountId: string | null; userId: string | null }
  >()
  const domains = new Map<string, string>()
  for (const customer of customers) {
    const fromMetadata = (keys: string[]) => {
      for (const key of keys) {
        const value = customer.metadata[key]
        if (typeof value === 'string' && value !== '') return value
      }
      return null
    }
    links.set(customer.customerId, {
      accountId: fromMetadata(metadataAccountKeys),
      userId: fromMetadata(metadataUserKeys),
    })
    const domain =
      customer.email === null ? null : accountDomainOfEmail(customer.email)
    if (domain !== null) domains.set(customer.customerId, domain)
  }

  const emails = customers.flatMap((c) => (c.email === null ? [] : [c.email]))
  const wantedDomains = [...new Set(domains.values())]
  const byDomain = new Map<string, string>()
  if (wantedDomains.length > 0) {
    const rows = await store.query<{ account_id: string; domain: string }>(
      `SELECT min(account_id) AS account_id, domain FROM accounts WHERE domain IN (${wantedDomains.map((_, i) => `$${i + 1}`).join(', ')}) GROUP BY domain`,
      wantedDomains,
    )
    for (const row of rows) byDomain.set(row.domain, row.account_id)
  }
  const byEmail = new Map<string, string>()
  if (emails.length > 0) {
    const rows = await store.query<{ user_id: string; email: string }>(
      `SELECT min(user_id) AS user_id, email FROM users WHERE email IN (${emails.map((_, i) => `$${i + 1}`).join(', ')}) GROUP BY email`,
      emails,
    )
    for (const row of rows) byEmail.set(row.email, row.user_id)
  }

  for (const customer of customers) {
    const link = links.get(customer.customerId) as {
      accountId: string | null
      userId: string | null
    }
    link.accountId ??=
      byDomain.get(domains.get(customer.customerId) ?? '') ?? null
    link.userId ??= byEmail.get(customer.email ?? '') ?? null
  }

  return links
}

async function upsert(
  store: Store,
  table: string,
  key: string,
  columns: Record<string, string>,
  rows: unknown[][],
): Promise<void> {
  if (rows.length === 0) return

  await store.stage(`staged_${table}`, columns, rows as never)
  const names = Object.keys(columns)
  // Fields Stripe leaves out of a later object keep their earlier value.
  const updates = names
    .filter((name) => name !== key)
    .map((name) => `${name} = coalesce(excluded.${name}, ${table}.${name})`)
    .join(', ')
  // A state from an older Stripe event than the stored one is not applied.
  await store.execute(
    `INSERT INTO ${table} (${names.join(', ')}) SELECT ${names.join(', ')} FROM ${store.sql.staged(`staged_${table}`)}
     ON CONFLICT (${key}) DO UPDATE SET ${updates}
     WHERE excluded.stripe_event_at IS NULL OR ${table}.stripe_event_at IS NULL
       OR excluded.stripe_event_at >= ${table}.stripe_event_at`,
  )
}
