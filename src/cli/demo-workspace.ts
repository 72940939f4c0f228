/**
 * `leadlens demo`: a small made-up workspace written through the real
 * pipeline (Segment messages, CRM records, Stripe objects), with a score and
 * lists to try. Seeded, so two runs make the same data.
 */
import { applyDefinitions } from '../catalog/apply-definitions.js'
import { applyStripeObjects } from '../connectors/stripe/apply-stripe-objects.js'
import { normalizeMessage } from '../ingest/normalize-message.js'
import { writeMessages } from '../ingest/write-messages.js'

import type { StripeObject } from '../connectors/stripe/read-stripe-objects.js'
import type { NormalizedMessage } from '../ingest/normalize-message.js'
import type { Store } from '../store/store.js'

export interface DemoSummary {
  accounts: number
  users: number
  messages: number
  asOf: string
}

const events = [
  'Project Created',
  'Report Run',
  'Teammate Invited',
  'Dashboard Viewed',
]
const industries = ['Software', 'Retail', 'Finance', 'Health', 'Media']
const countries = ['US', 'GB', 'DE', 'FR', 'CA', 'BR']
const reps = ['rita@demo.example', 'sam@demo.example', 'lee@demo.example']

/** A small seeded generator (mulberry32), so the demo is the same every time. */
function randomFrom(seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Writes the demo workspace; `now` is the instant its data ends at. */
export async function loadDemoWorkspace(
  store: Store,
  now = new Date(),
): Promise<DemoSummary> {
  const random = randomFrom(42)
  const pick = <T>(items: readonly T[]): T =>
    items[Math.floor(random() * items.length)] as T
  const day = 86_400_000
  const messages: NormalizedMessage[] = []
  const add = (raw: Record<string, unknown>) => {
    const result = normalizeMessage(
      { ...raw, messageId: `demo-${messages.length}` },
      { sourceId: 'demo', receivedAt: now, isReplay: true },
    )
    if (result.ok) messages.push(result.message)
  }

  const accountCount = 120
  let users = 0
  const stripe: StripeObject[] = [
    {
      id: 'price_demo_team',
      object: 'price',
      nickname: 'team',
      unit_amount: 4_900,
      currency: 'usd',
      recurring: { interval: 'month', interval_count: 1 },
    },
    {
      id: 'price_demo_business',
      object: 'price',
      nickname: 'business',
      unit_amount: 29_900,
      currency: 'usd',
      recurring: { interval: 'month', interval_count: 1 },
    },
  ]
  const owners = reps.map((email, index) => ({ id: `owner_${index}`, email }))
  for (let a = 0; a < accountCount; a++) {
    const accountId = `acct_${String(a).padStart(3, '0')}`
    const domain = `company${a}.demo.example`
    const employees = Math.round(5 + random() ** 2 * 2_000)
    const created = new Date(now.getTime() - Math.floor(random() * 180) * day)
    // Bigger companies use the product more, with noise.
    const activity = Math.min(1, employees / 1_500 + random() * 0.6)
    const seats = 1 + Math.floor(random() * 12)
    for (let u = 0; u < seats; u++) {
      const userId = `${accountId}_user_${u}`
      // The first user signs the account up; the others join later.
      const signedUp = new Date(
        created.getTime() + (u === 0 ? 0 : Math.floor(random() * 60) * day),
      )
      if (signedUp > now) continue
      users++
      add({
        type: 'identify',
        userId,
        timestamp: signedUp.toISOString(),
        traits: {
          email: `user${u}@${domain}`,
          role: pick(['admin', 'member', 'viewer']),
          createdAt: signedUp.toISOString(),
        },
      })
      add({
        type: 'group',
        userId,
        groupId: accountId,
        timestamp: signedUp.toISOString(),
        traits: {
          name: `Company ${a}`,
          domain,
          employees,
          industry: pick(industries),
          country: pick(countries),
        },
      })
      const eventCount = Math.floor(activity * 40 * random())
      for (let e = 0; e < eventCount; e++) {
        const at = new Date(
          signedUp.getTime() + random() * (now.getTime() - signedUp.getTime()),
        )
        add({
          type: 'track',
          userId,
          event: pick(events),
          timestamp: at.toISOString(),
          properties: { plan: activity > 0.7 ? 'business' : 'team' },
          context: { groupId: accountId },
        })
      }
    }
    stripe.push({
      id: `cus_${accountId}`,
      object: 'customer',
      email: `billing@${domain}`,
      metadata: { account_id: accountId },
      created: Math.floor(created.getTime() / 1000),
    })
    if (random() < 0.6) {
      const business = activity > 0.7
      stripe.push({
        id: `sub_${accountId}`,
        object: 'subscription',
        customer: `cus_${accountId}`,
        status: random() < 0.25 ? 'trialing' : 'active',
        created: Math.floor(created.getTime() / 1000),
        items: {
          object: 'list',
          data: [
            {
              price: {
                id: business ? 'price_demo_business' : 'price_demo_team',
              },
              quantity: seats,
            },
          ],
        },
      })
    }
    const owner = pick(owners)
    await store.execute(
      `INSERT INTO crm_companies (company_id, name, domain, account_id, owner_id, properties, updated_at)
       VALUES ($1, $2, $3, $4, $5, '{}', now()) ON CONFLICT DO NOTHING`,
      [`company_${a}`, `Company ${a}`, domain, accountId, owner.id],
    )
    if (random() < 0.4) {
      const won = random() < activity
      await store.execute(
        `INSERT INTO crm_deals (deal_id, account_id, owner_id, stage, amount, created_at, properties, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, '{}', now()) ON CONFLICT DO NOTHING`,
        [
          `deal_${a}`,
          accountId,
          owner.id,
          won ? 'Won' : 'Lost',
          Math.round(seats * 600),
          new Date(now.getTime() - Math.floor(random() * 30) * day),
        ],
      )
    }
  }
  for (const owner of owners) {
    await store.execute(
      `INSERT INTO crm_owners (owner_id, email, name, properties, updated_at) VALUES ($1, $2, $3, '{}', now()) ON CONFLICT DO NOTHING`,
      [owner.id, owner.email, owner.email.split('@')[0] ?? owner.email],
    )
  }

  await writeMessages(store, messages)
  await applyStripeObjects(store, stripe)
  await applyDefinitions(store, demoDefinitions, 'demo')

  return {
    accounts: accountCount,
    users,
    messages: messages.length,
    asOf: now.toISOString(),
  }
}

const demoDefinitions = {
  metrics: [{ name: 'projects_30d', count: 'Project Created', within: '30d' }],
  scores: [
    {
      name: 'pql',
      of: 'accounts',
      fit: [
        {
          label: 'over 200 employees',
          when: { field: 'account.employees', op: '>', value: 200 },
          points: 40,
        },
        {
          label: 'software or finance',
          when: {
            field: 'account.industry',
            op: 'in',
            value: ['Software', 'Finance'],
          },
          points: 30,
        },
        {
          label: 'US, GB or CA',
          when: {
            field: 'account.country',
            op: 'in',
            value: ['US', 'GB', 'CA'],
          },
          points: 30,
        },
      ],
      usage: [
        {
          label: 'projects, fading over 14 days',
          signal: { count: 'Project Created' },
          decay: { half_life: '14d' },
          points: 5,
          max: 50,
        },
        {
          label: 'three users added in 30 days',
          when: {
            metric: { users_added: true, within: '30d' },
            op: '>=',
            value: 3,
          },
          points: 50,
        },
      ],
      levels: { fit: { high: 60 }, usage: { high: 50 } },
    },
  ],
  lists: [
    {
      name: 'Hot accounts',
      of: 'accounts',
      where: { field: 'score.pql.quadrant', op: '=', value: 'hot' },
      sort: [{ field: 'score.pql.total', dir: 'desc' }],
      columns: [
        'account.name',
        'account.employees',
        'billing.plan',
        'crm.owner.email',
        { metric: 'projects_30d', as: 'projects_30d' },
        'score.pql.quadrant',
      ],
    },
    {
      name: 'My accounts',
      of: 'accounts',
      where: { field: 'crm.owner.email', op: '=', value: '$me' },
      sort: [{ metric: { users_added: true, within: '7d' }, dir: 'desc' }],
      columns: [
        'account.name',
        { metric: { users_added: true, within: '7d' }, as: 'users_added_7d' },
        'billing.mrr',
        'score.pql.quadrant',
      ],
    },
  ],
}
