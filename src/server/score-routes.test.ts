import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { loadListFixture } from '../../test/support/list-fixture.js'
import { openTempStore } from '../../test/support/temp-store.js'
import { createApp } from './create-app.js'
import { addPerson } from './people.js'

import type { TempStore } from '../../test/support/temp-store.js'
import type { LeadlensApp } from './create-app.js'

let temp: TempStore
let leadlens: LeadlensApp
let headers: Record<string, string>

beforeAll(async () => {
  temp = await openTempStore()
  await loadListFixture(temp.store)
  leadlens = createApp(temp.store, { scoreDebounceMs: 5 })
  headers = {
    authorization: `Bearer ${await addPerson(temp.store, 'ops@example.com', 'admin')}`,
  }
})
afterAll(async () => {
  await leadlens.app.close()
  await temp.dispose()
})

const score = {
  of: 'accounts',
  fit: [
    { when: { field: 'account.employees', op: '>=', value: 100 }, points: 70 },
  ],
  usage: [
    {
      when: {
        related: 'crm.deals',
        where: { field: 'stage', op: '=', value: 'Won' },
      },
      points: 60,
    },
  ],
  levels: { fit: { high: 50 }, usage: { high: 50 } },
}

describe('score API', () => {
  it('saves a score and serves rows, explanations and changes', async () => {
    const put = await leadlens.app.inject({
      method: 'PUT',
      url: '/api/scores/fitusage',
      headers,
      payload: score,
    })
    expect(put.statusCode).toBe(201)

    const rows = await leadlens.app.inject({
      method: 'GET',
      url: '/api/scores/fitusage/rows?asOf=2030-02-01T00:00:00Z',
      headers,
    })
    // acct_a: 250 employees and a Won deal; acct_b: 40 and a Won deal
    // (through its company); acct_c: 100 employees, no Won deal.
    expect(
      rows
        .json()
        .rows.map((r: { id: string; quadrant: string }) => [r.id, r.quadrant]),
    ).toEqual([
      ['acct_a', 'hot'],
      ['acct_c', 'activate'],
      ['acct_b', 'self_serve'],
    ])

    const explanation = await leadlens.app.inject({
      method: 'GET',
      url: '/api/scores/fitusage/explain/acct_c?asOf=2030-02-01T00:00:00Z',
      headers,
    })
    expect(explanation.json()).toMatchObject({
      fit: 70,
      usage: 0,
      lines: [
        { matched: true, points: 70, value: '100.0' },
        { matched: false, points: 0 },
      ],
    })

    await leadlens.scores.settle()
    const changes = await leadlens.app.inject({
      method: 'GET',
      url: '/api/scores/fitusage/changes',
      headers,
    })
    expect(
      changes.json().changes.map((c: { cause: string }) => c.cause),
    ).toEqual(['definition', 'definition', 'definition'])
  })

  it('backtests against a built-in outcome', async () => {
    await leadlens.app.inject({
      method: 'PUT',
      url: '/api/scores/fitusage',
      headers,
      payload: score,
    })
    const result = await leadlens.app.inject({
      method: 'POST',
      url: '/api/scores/fitusage/backtest',
      headers,
      payload: {
        outcome: 'deal_won',
        asOf: '2029-01-01T00:00:00Z',
        horizon: '3650d',
      },
    })
    expect(result.statusCode).toBe(200)
    expect(result.json()).toMatchObject({ outcome: 'deal_won', entities: 3 })
  })

  it('answers 400 with every issue for a bad score and 404 for an unknown one', async () => {
    const bad = await leadlens.app.inject({
      method: 'PUT',
      url: '/api/scores/bad',
      headers,
      payload: {
        of: 'accounts',
        fit: [
          { when: { field: 'account.nope', op: '=', value: 1 }, points: 1 },
        ],
      },
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().issues).toEqual([
      expect.objectContaining({
        code: 'LIST_FIELD_UNKNOWN',
        path: 'fit[0].when.field',
      }),
    ])
    expect(
      (
        await leadlens.app.inject({
          method: 'GET',
          url: '/api/scores/nope/rows',
          headers,
        })
      ).statusCode,
    ).toBe(404)
  })

  it('shows a rep only the scores of accounts they own, and lets them change nothing', async () => {
    await leadlens.app.inject({
      method: 'PUT',
      url: '/api/scores/fitusage',
      headers,
      payload: score,
    })
    const rep = {
      authorization: `Bearer ${await addPerson(temp.store, 'sam@example.com', 'rep')}`,
    }
    const asOf = 'asOf=2030-02-01T00:00:00Z'

    const rows = await leadlens.app.inject({
      method: 'GET',
      url: `/api/scores/fitusage/rows?${asOf}`,
      headers: rep,
    })
    expect(rows.json().rows.map((r: { id: string }) => r.id)).toEqual([
      'acct_b',
    ])
    const notMine = await leadlens.app.inject({
      method: 'GET',
      url: `/api/scores/fitusage/explain/acct_a?${asOf}`,
      headers: rep,
    })
    expect(notMine.statusCode).toBe(404)
    const put = await leadlens.app.inject({
      method: 'PUT',
      url: '/api/scores/fitusage',
      headers: rep,
      payload: score,
    })
    expect(put.statusCode).toBe(403)
    const backtest = await leadlens.app.inject({
      method: 'POST',
      url: '/api/scores/fitusage/backtest',
      headers: rep,
      payload: { outcome: 'deal_won' },
    })
    expect(backtest.statusCode).toBe(403)
  })
})
