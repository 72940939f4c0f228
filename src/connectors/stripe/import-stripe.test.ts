/**
 * Stripe objects to billing rows and billing fields, with invented
 * objects shaped as Stripe sends them (amounts in cents).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import Stripe from 'stripe'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../../test/support/temp-store.js'
import { normalizeMessage } from '../../ingest/normalize-message.js'
import { writeMessages } from '../../ingest/write-messages.js'
import { parseListDefinition } from '../../lists/read-list-definition.js'
import { runList } from '../../lists/run-list.js'
import { createApp } from '../../server/create-app.js'
import { writeWorkspaceSetting } from '../../store/workspace-settings.js'
import { ImportError } from '../csv/import-error.js'
import { importStripe } from './import-stripe.js'

import type { TempStore } from '../../../test/support/temp-store.js'

let temp: TempStore
let directory: string
beforeEach(async () => {
  temp = await openTempStore()
  directory = await mkdtemp(join(tmpdir(), 'leadlens-stripe-'))
  const messages = [
    {
      type: 'group',
      userId: 'u1',
      groupId: 'acct_a',
      traits: { name: 'Acme', domain: 'acme.example' },
    },
    {
      type: 'group',
      userId: 'u2',
      groupId: 'acct_b',
      traits: { name: 'Beta', domain: 'beta.example' },
    },
  ].map((raw, index) => {
    const result = normalizeMessage(
      { ...raw, messageId: `g${index}`, timestamp: '2024-01-01T00:00:00Z' },
      { sourceId: 't', receivedAt: new Date('2024-01-01T00:00:00Z') },
    )
    if (!result.ok) throw new Error('fixture')
    return result.message
  })
  await writeMessages(temp.store, messages)
})
afterEach(async () => {
  await temp.dispose()
  await rm(directory, { recursive: true, force: true })
})

const epoch = (iso: string) => Date.parse(iso) / 1000
const price = (
  id: string,
  cents: number,
  interval: string,
  nickname: string,
) => ({
  id,
  object: 'price',
  nickname,
  unit_amount: cents,
  currency: 'usd',
  product: 'prod_1',
  recurring: { interval, interval_count: 1 },
})
const objects = {
  product: { id: 'prod_1', object: 'product', name: 'Leadlens Cloud' },
  prices: [
    price('price_team', 2_500, 'month', 'team'),
    price('price_yearly', 120_000, 'year', 'business'),
  ],
  customers: [
    {
      id: 'cus_a',
      object: 'customer',
      email: 'billing@acme.example',
      metadata: { account_id: 'acct_a' },
      created: epoch('2024-02-01T00:00:00Z'),
    },
    {
      id: 'cus_b',
      object: 'customer',
      email: 'Finance@BETA.example',
      metadata: {},
      created: epoch('2024-02-01T00:00:00Z'),
    },
    {
      id: 'cus_x',
      object: 'customer',
      email: 'someone@gmail.com',
      metadata: {},
      created: epoch('2024-02-01T00:00:00Z'),
    },
  ],
  subscriptions: [
    // acct_a: 4 seats of team ($25) + the yearly plan ($1,200 / 12): $200 MRR.
    {
      id: 'sub_a',
      object: 'subscription',
      customer: 'cus_a',
      status: 'active',
      created: epoch('2024-02-02T00:00:00Z'),
      items: {
        object: 'list',
        data: [
          { price: price('price_team', 2_500, 'month', 'team'), quantity: 4 },
          {
            price: price('price_yearly', 120_000, 'year', 'business'),
            quantity: 1,
          },
        ],
      },
    },
    // acct_b: a trial of team, by email domain.
    {
      id: 'sub_b',
      object: 'subscription',
      customer: 'cus_b',
      status: 'trialing',
      created: epoch('2024-02-02T00:00:00Z'),
      trial_end: epoch('2024-03-01T00:00:00Z'),
      items: {
        object: 'list',
        data: [{ price: { id: 'price_team' }, quantity: 1 }],
      },
    },
  ],
}

async function importObjects(value: unknown) {
  const file = join(directory, `objects-${Math.random()}.json`)
  await writeFile(file, JSON.stringify(value))
  return importStripe(temp.store, [file])
}

describe('importStripe', () => {
  it('stores customers, prices and subscriptions with their MRR, linking customers to accounts', async () => {
    const summary = await importObjects([
      objects.product,
      ...objects.prices,
      ...objects.customers,
      ...objects.subscriptions,
    ])
    expect(summary).toMatchObject({
      customers: 3,
      prices: 2,
      subscriptions: 2,
      linkedToAccounts: 2,
    })

    const rows = await temp.store.query(
      'SELECT subscription_id, status, plan, mrr FROM billing_subscriptions ORDER BY subscription_id',
    )
    expect(rows).toEqual([
      { subscription_id: 'sub_a', status: 'active', plan: 'team', mrr: 200 },
      { subscription_id: 'sub_b', status: 'trialing', plan: 'team', mrr: 25 },
    ])
    const customers = await temp.store.query(
      'SELECT customer_id, email, account_id FROM billing_customers ORDER BY customer_id',
    )
    expect(customers).toEqual([
      {
        customer_id: 'cus_a',
        email: 'billing@acme.example',
        account_id: 'acct_a',
      },
      {
        customer_id: 'cus_b',
        email: 'finance@beta.example',
        account_id: 'acct_b',
      },
      { customer_id: 'cus_x', email: 'someone@gmail.com', account_id: null },
    ])
  })

  it('reads event envelopes, and a later state of a subscription replaces the earlier', async () => {
    await importObjects([
      ...objects.prices,
      ...objects.customers,
      ...objects.subscriptions,
    ])
    const canceled = {
      ...objects.subscriptions[1],
      status: 'canceled',
      canceled_at: epoch('2024-03-02T00:00:00Z'),
    }
    await importObjects({
      id: 'evt_1',
      object: 'event',
      type: 'customer.subscription.deleted',
      data: { object: canceled },
    })

    expect(
      await temp.store.query(
        "SELECT status, canceled_at FROM billing_subscriptions WHERE subscription_id = 'sub_b'",
      ),
    ).toEqual([{ status: 'canceled', canceled_at: '2024-03-02T00:00:00.000Z' }])
  })

  it('keeps the newer state when an older event arrives later', async () => {
    await importObjects([...objects.prices, ...objects.customers])
    const event = (created: number, status: string) => ({
      id: `evt_${created}`,
      object: 'event',
      type: 'customer.subscription.updated',
      created,
      data: { object: { ...objects.subscriptions[0], status } },
    })
    await importObjects(event(1_700_000_200, 'canceled'))
    await importObjects(event(1_700_000_100, 'active'))

    expect(
      await temp.store.query(
        "SELECT status FROM billing_subscriptions WHERE subscription_id = 'sub_a'",
      ),
    ).toEqual([{ status: 'canceled' }])
  })

  it('refuses a file that is not JSON or holds no Stripe object, storing nothing', async () => {
    const notJson = join(directory, 'bad.json')
    await writeFile(notJson, '{ "id": ')
    await expect(importStripe(temp.store, [notJson])).rejects.toThrow(
      ImportError,
    )
    await expect(importObjects({ hello: 'world' })).rejects.toThrow(
      /no Stripe objects/,
    )
    expect(
      await temp.store.query('SELECT count(*) AS n FROM billing_customers'),
    ).toEqual([{ n: 0 }])
  })
})

describe('billing fields', () => {
  it("show an account's plan, status and MRR, and filter on its subscriptions", async () => {
    await importObjects([
      objects.product,
      ...objects.prices,
      ...objects.customers,
      ...objects.subscriptions,
    ])
    const list = parseListDefinition(
      {
        name: 'paying',
        of: 'accounts',
        where: {
          related: 'billing.subscriptions',
          where: { field: 'status', op: 'in', value: ['active', 'trialing'] },
        },
        sort: [{ field: 'billing.mrr', dir: 'desc' }],
        columns: [
          'account.id',
          'billing.plan',
          'billing.status',
          'billing.mrr',
          'billing.trial_end',
        ],
      },
      'paying',
    )
    expect(
      (
        await runList(temp.store, list, {
          asOf: new Date('2024-02-15T00:00:00Z'),
        })
      ).rows,
    ).toEqual([
      {
        'account.id': 'acct_a',
        'billing.plan': 'team',
        'billing.status': 'active',
        'billing.mrr': 200,
        'billing.trial_end': null,
      },
      {
        'account.id': 'acct_b',
        'billing.plan': 'team',
        'billing.status': 'trialing',
        'billing.mrr': 25,
        'billing.trial_end': '2024-03-01T00:00:00.000Z',
      },
    ])
    // Before the subscriptions were created, nobody paid.
    expect(
      (
        await runList(temp.store, list, {
          asOf: new Date('2024-01-15T00:00:00Z'),
        })
      ).rows,
    ).toEqual([])
  })
})

describe('the Stripe webhook', () => {
  const secret = 'whsec_test_secret'

  it('stores a signed event and refuses a bad signature', async () => {
    await writeWorkspaceSetting(temp.store, 'stripe_webhook_secret', secret)
    const { app } = createApp(temp.store)
    const payload = JSON.stringify({
      id: 'evt_2',
      object: 'event',
      type: 'customer.created',
      data: { object: objects.customers[0] },
    })
    const header = new Stripe(
      'sk_test_unused',
    ).webhooks.generateTestHeaderString({ payload, secret })

    const good = await app.inject({
      method: 'POST',
      url: '/v1/stripe',
      headers: {
        'stripe-signature': header,
        'content-type': 'application/json',
      },
      payload,
    })
    const forged = await app.inject({
      method: 'POST',
      url: '/v1/stripe',
      headers: {
        'stripe-signature': header,
        'content-type': 'application/json',
      },
      payload: payload.replace('acct_a', 'acct_b'),
    })
    await app.close()

    expect(good.statusCode).toBe(200)
    expect(forged.statusCode).toBe(400)
    expect(forged.json().code).toBe('STRIPE_SIGNATURE_INVALID')
    expect(
      await temp.store.query(
        'SELECT customer_id, account_id FROM billing_customers',
      ),
    ).toEqual([{ customer_id: 'cus_a', account_id: 'acct_a' }])
  })

  it('answers 503 until a signing secret is set', async () => {
    const { app } = createApp(temp.store)
    const response = await app.inject({
      method: 'POST',
      url: '/v1/stripe',
      payload: '{}',
    })
    await app.close()
    expect(response.statusCode).toBe(503)
  })
})
