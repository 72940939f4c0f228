/**
 * Rollup-backed account metrics equal the raw-event computation exactly:
 * random people, anonymous ids later linked, memberships before and after
 * events, events with and without a groupId, numeric properties, written
 * through `writeMessages` in random batches; then random windows, `asOf`
 * instants and time zones. A plain JavaScript oracle checks the counts and
 * sums independently of both SQL paths.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { saveDefinition } from '../catalog/definitions.js'
import { normalizeMessage } from '../ingest/normalize-message.js'
import { writeMessages } from '../ingest/write-messages.js'
import { parseListDefinition } from '../lists/read-list-definition.js'
import { runList } from '../lists/run-list.js'
import { resolveWindow } from '../lists/time-window.js'

import type { NormalizedMessage } from '../ingest/normalize-message.js'

const base = Date.parse('2030-03-01T00:00:00Z')
const minuteMs = 60_000
const users = ['u1', 'u2', 'u3']
const anonymous = ['a1', 'a2', 'a3']
const accounts = ['acc1', 'acc2', 'acc3']
const zones = [
  'UTC',
  'Asia/Kolkata',
  'America/St_Johns',
  'Australia/Adelaide',
  'America/Sao_Paulo',
  'Europe/Berlin',
  'Pacific/Chatham',
]
const windows: (string | { last_n_days: number } | undefined)[] = [
  undefined,
  '1d',
  '2d',
  '7d',
  '12h',
  '36h',
  'today',
  'yesterday',
  'this_week',
  'last_week',
  'this_month',
  'last_month',
  { last_n_days: 1 },
  { last_n_days: 3 },
  { last_n_days: 10 },
]

// Minutes after base, often exactly on a UTC midnight or a minute off one.
const minutes = fc.oneof(
  fc.integer({ min: 0, max: 12 * 1440 }),
  fc.integer({ min: 0, max: 12 }).map((day) => day * 1440),
  fc.integer({ min: 1, max: 12 }).map((day) => day * 1440 - 1),
)
const person = fc.constantFrom(...users, ...anonymous)

type Action =
  | {
      kind: 'track'
      person: string
      event: string
      at: number
      groupId: string | null
      amount: number | string | null
    }
  | { kind: 'group'; person: string; account: string; at: number }
  | { kind: 'identify'; anonymousId: string; at: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('track' as const),
      person,
      event: fc.constantFrom('E1', 'E2'),
      at: minutes,
      groupId: fc.option(fc.constantFrom(...accounts), { freq: 3 }),
      amount: fc.oneof(
        fc.integer({ min: -50, max: 50 }),
        fc.constant(null),
        fc.constant('not a number'),
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('group' as const),
      person,
      account: fc.constantFrom(...accounts),
      at: minutes,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('identify' as const),
      anonymousId: fc.constantFrom(...anonymous),
      at: minutes,
    }),
  },
)

const scenario = fc.record({
  actions: fc.array(action, { minLength: 8, maxLength: 40, size: 'large' }),
  // Each anonymous id is only ever identified as this one user.
  owners: fc.tuple(
    fc.constantFrom(...users),
    fc.constantFrom(...users),
    fc.constantFrom(...users),
  ),
  cuts: fc.array(fc.integer({ min: 1, max: 39 }), { maxLength: 5 }),
  // Where the sum is registered: before any batch, between two, or never.
  registerAfterBatch: fc.option(fc.integer({ min: 0, max: 6 }), {
    freq: 4,
  }),
  queries: fc.array(
    fc.record({
      zone: fc.constantFrom(...zones),
      within: fc.constantFrom(...windows),
      asOf: minutes.map((m) => m + 1440),
    }),
    { minLength: 1, maxLength: 8 },
  ),
})

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

function toMessages(scenario: Scenario): NormalizedMessage[] {
  const ownerOf = (anonymousId: string) =>
    scenario.owners[anonymous.indexOf(anonymousId)] ?? 'u1'
  const who = (id: string) =>
    anonymous.includes(id) ? { anonymousId: id } : { userId: id }

  return scenario.actions.map((item, index) => {
    const common = {
      messageId: `m${index}`,
      timestamp: new Date(base + item.at * minuteMs).toISOString(),
    }
    const raw =
      item.kind === 'track'
        ? {
            ...common,
            ...who(item.person),
            type: 'track',
            event: item.event,
            properties: item.amount === null ? {} : { amount: item.amount },
            ...(item.groupId === null
              ? {}
              : { context: { groupId: item.groupId } }),
          }
        : item.kind === 'group'
          ? {
              ...common,
              ...who(item.person),
              type: 'group',
              groupId: item.account,
            }
          : {
              ...common,
              type: 'identify',
              anonymousId: item.anonymousId,
              userId: ownerOf(item.anonymousId),
            }
    const result = normalizeMessage(raw, {
      sourceId: 'web',
      receivedAt: new Date('2031-01-01T00:00:00Z'),
    })
    if (!result.ok) throw new Error(JSON.stringify(result.issues))

    return result.message
  })
}

function batchesOf<T>(items: T[], cuts: number[]): T[][] {
  const points = [...new Set(cuts.filter((cut) => cut < items.length))].sort(
    (a, b) => a - b,
  )
  const batches: T[][] = []
  let start = 0
  for (const point of [...points, items.length]) {
    batches.push(items.slice(start, point))
    start = point
  }

  return batches
}

/** Count and sum of E1 per account in a window, by DESIGN.md section 4. */
function oracle(
  scenario: Scenario,
  window: {
    start?: number
    startInclusive: boolean
    end: number
    endInclusive: boolean
  },
) {
  const linked = new Set(
    scenario.actions.flatMap((a) =>
      a.kind === 'identify' ? [a.anonymousId] : [],
    ),
  )
  const finalPerson = (id: string) => {
    const index = anonymous.indexOf(id)
    return index >= 0 && linked.has(id) ? (scenario.owners[index] ?? id) : id
  }
  const memberships = new Set(
    scenario.actions.flatMap((a) =>
      a.kind === 'group' ? [`${finalPerson(a.person)}|${a.account}`] : [],
    ),
  )
  const counts = new Map<string, { count: number; sum: number }>()
  for (const item of scenario.actions) {
    if (item.kind !== 'track' || item.event !== 'E1') continue
    const at = base + item.at * minuteMs
    const isAfterStart =
      window.start === undefined ||
      (window.startInclusive ? at >= window.start : at > window.start)
    const isBeforeEnd = window.endInclusive ? at <= window.end : at < window.end
    if (!isAfterStart || !isBeforeEnd) continue

    const owners =
      item.groupId !== null
        ? [item.groupId]
        : accounts.filter((account) =>
            memberships.has(`${finalPerson(item.person)}|${account}`),
          )
    for (const account of owners) {
      const entry = counts.get(account) ?? { count: 0, sum: 0 }
      entry.count += 1
      if (typeof item.amount === 'number') entry.sum += item.amount
      counts.set(account, entry)
    }
  }

  return counts
}

describe('rollup-backed account metrics', () => {
  it('equal the raw-event computation and a plain JavaScript oracle in every window, asOf and zone', async () => {
    let checkedNonZero = 0
    await fc.assert(
      fc.asyncProperty(scenario, async (scenario) => {
        const temp = await openTempStore()
        try {
          const batches = batchesOf(toMessages(scenario), scenario.cuts)
          const register = async () =>
            saveDefinition(temp.store, 'metric', 'amount_e1', {
              sum: 'E1',
              property: 'amount',
            })
          for (const [index, batch] of batches.entries()) {
            if (scenario.registerAfterBatch === index) await register()
            await writeMessages(temp.store, batch)
          }
          if ((scenario.registerAfterBatch ?? -1) >= batches.length)
            await register()

          for (const query of scenario.queries) {
            const asOf = new Date(base + query.asOf * minuteMs)
            const metric = (spec: Record<string, unknown>) =>
              query.within === undefined
                ? spec
                : { ...spec, within: query.within }
            const definition = parseListDefinition(
              {
                name: 'property',
                of: 'accounts',
                timezone: query.zone,
                columns: [
                  'account.id',
                  { metric: metric({ count: 'E1' }), as: 'count_e1' },
                  { metric: metric({ count: 'E2' }), as: 'count_e2' },
                  {
                    metric: metric({ sum: 'E1', property: 'amount' }),
                    as: 'sum_e1',
                  },
                  { metric: metric({ first_seen: 'E1' }), as: 'first_e1' },
                  { metric: metric({ last_seen: 'E2' }), as: 'last_e2' },
                ],
                sort: [{ field: 'account.id', dir: 'asc' }],
                limit: 100,
              },
              'property',
            )
            const rolled = await runList(temp.store, definition, { asOf })
            const raw = await runList(temp.store, definition, {
              asOf,
              useRollups: false,
            })
            expect(rolled.rows).toEqual(raw.rows)

            const window =
              query.within === undefined
                ? undefined
                : resolveWindow(query.within, asOf, query.zone)
            const expected = oracle(scenario, {
              ...(window === undefined
                ? {}
                : { start: window.start.getTime() }),
              startInclusive: window?.startInclusive ?? true,
              end: Math.min(asOf.getTime(), window?.end.getTime() ?? Infinity),
              endInclusive: window?.endInclusive ?? true,
            })
            for (const row of rolled.rows) {
              const entry = expected.get(String(row['account.id']))
              expect(row.count_e1).toBe(entry?.count ?? 0)
              expect(row.sum_e1).toBe(entry?.sum ?? 0)
              if ((entry?.count ?? 0) > 0) checkedNonZero++
            }
          }
        } finally {
          await temp.dispose()
        }
      }),
      { numRuns: 40 },
    )
    // The property means little if every window came out empty.
    expect(checkedNonZero).toBeGreaterThan(20)
  }, 120_000)
})
