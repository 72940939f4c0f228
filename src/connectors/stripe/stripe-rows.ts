/**
 * Turns Stripe objects into billing rows: customers, prices (from prices,
 * plans and products), subscriptions with their monthly recurring revenue,
 * and invoices. Amounts become currency units (Stripe sends cents).
 */
import { ownProperty } from '../../catalog/own-property.js'
import type { StripeObject } from './read-stripe-objects.js'

type Json = Record<string, unknown>

const text = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : null
const number = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null
const instant = (value: unknown): Date | null =>
  typeof value === 'number' && value > 0 ? new Date(value * 1000) : null
const idOf = (value: unknown): string | null =>
  text(value) ?? text((value as Json | null)?.id)

// Currencies Stripe counts in whole units rather than hundredths.
const zeroDecimal = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
])

function toUnits(
  amount: number | null,
  currency: string | null,
): number | null {
  if (amount === null) return null
  return currency !== null && zeroDecimal.has(currency.toLowerCase())
    ? amount
    : amount / 100
}

export interface PriceRow {
  priceId: string
  nickname: string | null
  productId: string | null
  productName: string | null
  unitAmount: number | null
  currency: string | null
  interval: string | null
  intervalCount: number
}

/** A price or a (legacy) plan as a price row. */
export function toPriceRow(object: StripeObject): PriceRow {
  const recurring = (object.recurring ?? {}) as Json
  const currency = text(object.currency)
  const product = object.product

  return {
    priceId: object.id,
    nickname: text(object.nickname) ?? text(object.lookup_key),
    productId: idOf(product),
    productName: text((product as Json | null)?.name),
    unitAmount: toUnits(
      number(object.unit_amount) ?? number(object.amount),
      currency,
    ),
    currency,
    interval: text(recurring.interval) ?? text(object.interval),
    intervalCount:
      number(recurring.interval_count) ?? number(object.interval_count) ?? 1,
  }
}

/**
 * Monthly value of `amount` billed every `count` `interval`s.
 * @example monthlyAmount(120, 'year', 1) // 10
 */
export function monthlyAmount(
  amount: number,
  interval: string | null,
  count: number,
): number {
  const perMonth =
    ownProperty(
      { day: 365 / 12, week: 52 / 12, month: 1, year: 1 / 12 },
      interval ?? 'month',
    ) ?? 1
  return (amount * perMonth) / Math.max(1, count)
}

export interface SubscriptionRow {
  subscriptionId: string
  customerId: string | null
  status: string | null
  plan: string | null
  priceId: string | null
  quantity: number | null
  mrr: number | null
  currency: string | null
  trialEnd: Date | null
  currentPeriodEnd: Date | null
  canceledAt: Date | null
  createdAt: Date | null
}

/**
 * A subscription with its plan (the first item's price nickname, product
 * name or price id) and MRR (every item's price x quantity, per month;
 * discounts and taxes are not taken off).
 */
export function toSubscriptionRow(
  object: StripeObject,
  prices: ReadonlyMap<string, PriceRow>,
): SubscriptionRow {
  const items = (
    ((object.items as Json | undefined)?.data ?? []) as Json[]
  ).map((item) => ({
    price: (item.price ?? item.plan ?? {}) as StripeObject,
    quantity: number(item.quantity) ?? 1,
    periodEnd: instant(item.current_period_end),
  }))
  if (items.length === 0 && object.plan !== undefined && object.plan !== null) {
    items.push({
      price: object.plan as StripeObject,
      quantity: number(object.quantity) ?? 1,
      periodEnd: null,
    })
  }

  let mrr: number | null = null
  let currency: string | null = text(object.currency)
  for (const item of items) {
    const known = prices.get(text(item.price.id) ?? '')
    const price =
      typeof item.price.id === 'string' && Object.keys(item.price).length > 1
        ? toPriceRow(item.price)
        : known
    if (price === undefined || price.unitAmount === null) continue
    currency ??= price.currency
    mrr =
      (mrr ?? 0) +
      monthlyAmount(
        price.unitAmount * item.quantity,
        price.interval,
        price.intervalCount,
      )
  }

  const first = items[0]
  const firstPrice =
    first === undefined
      ? undefined
      : (prices.get(text(first.price.id) ?? '') ?? toPriceRow(first.price))

  return {
    subscriptionId: object.id,
    customerId: idOf(object.customer),
    status: text(object.status),
    plan:
      firstPrice === undefined
        ? null
        : (firstPrice.nickname ?? firstPrice.productName ?? firstPrice.priceId),
    priceId: firstPrice?.priceId ?? null,
    quantity: first?.quantity ?? null,
    mrr,
    currency,
    trialEnd: instant(object.trial_end),
    currentPeriodEnd:
      instant(object.current_period_end) ?? first?.periodEnd ?? null,
    canceledAt: instant(object.canceled_at),
    createdAt: instant(object.created),
  }
}

export interface CustomerRow {
  customerId: string
  email: string | null
  name: string | null
  metadata: Json
  createdAt: Date | null
}

export function toCustomerRow(object: StripeObject): CustomerRow {
  return {
    customerId: object.id,
    email: text(object.email)?.toLowerCase() ?? null,
    name: text(object.name),
    metadata: (object.metadata ?? {}) as Json,
    createdAt: instant(object.created),
  }
}

export interface InvoiceRow {
  invoiceId: string
  customerId: string | null
  subscriptionId: string | null
  status: string | null
  amountDue: number | null
  amountPaid: number | null
  currency: string | null
  paidAt: Date | null
  createdAt: Date | null
}

export function toInvoiceRow(object: StripeObject): InvoiceRow {
  const currency = text(object.currency)
  const transitions = (object.status_transitions ?? {}) as Json

  return {
    invoiceId: object.id,
    customerId: idOf(object.customer),
    subscriptionId: idOf(object.subscription),
    status: text(object.status),
    amountDue: toUnits(number(object.amount_due), currency),
    amountPaid: toUnits(number(object.amount_paid), currency),
    currency,
    paidAt: instant(transitions.paid_at),
    createdAt: instant(object.created),
  }
}
