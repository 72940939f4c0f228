/**
 * Scores on a real DuckDB file: decay, explanations, levels axes, the
 * quadrant in lists, history on new events, and no future data.
 */
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { loadListFixture } from '../../test/support/list-fixture.js'
import { openTempStore } from '../../test/support/temp-store.js'
import { applyDefinitions } from '../catalog/apply-definitions.js'
import { normalizeMessage } from '../ingest/normalize-message.js'
import { addSource } from '../ingest/sources.js'
import { writeMessages } from '../ingest/write-messages.js'
import { ListError } from '../lists/list-error.js'
import { parseListDefinition } from '../lists/read-list-definition.js'
import { runList } from '../lists/run-list.js'
import { createApp } from '../server/create-app.js'
import { explainScore, runScore } from './run-score.js'
import { parseScoreDefinition } from './saved-scores.js'
import { readScoreChanges, recordScores } from './score-history.js'

import type { TempStore } from '../../test/support/temp-store.js'
import type { Condition } from '../lists/list-definition.js'

let temp: TempStore
beforeEach(async () => {
  temp = await openTempStore()
})
afterEach(async () => {
  await temp.dispose()
})

let sequence = 0
async function send(...raws: Record<string, unknown>[]) {
  const messages = raws.map((raw) => {
    const result = normalizeMessage(
      { messageId: `s${++sequence}`, ...raw },
      { sourceId: 'test', receivedAt: new Date('2031-01-01T00:00:00Z') },
    )
    if (!result.ok) throw new Error(JSON.stringify(result.issues))
    return result.message
  })
  await writeMessages(temp.store, messages)
}

const track = (userId: string, timestamp: string, event = 'Report Run') => ({
  type: 'track',
  event,
  userId,
  timestamp,
})

describe('decayed usage', () => {
  it('weighs each event 0.5^(age / half-life) at asOf', async () => {
    // At 2030-01-29: u1's events are 0, 14 and 28 days old (1 + 0.5 + 0.25);
    // u2's is 42 days old (0.125); the event on 2030-02-01 is in the future.
    await send(
      track('u1', '2030-01-29T00:00:00Z'),
      track('u1', '2030-01-15T00:00:00Z'),
      track('u1', '2030-01-01T00:00:00Z'),
      track('u2', '2029-12-18T00:00:00Z'),
      track('u2', '2030-02-01T00:00:00Z'),
    )
    const score = parseScoreDefinition(
      {
        name: 'decay',
        of: 'users',
        usage: [
          {
            signal: { count: 'Report Run', decay: { half_life: '14d' } },
            points: 10,
            max: 100,
          },
        ],
      },
      'test',
    )
    const rows = await runScore(temp.store, score, {
      asOf: new Date('2030-01-29T00:00:00Z'),
    })

    expect(rows.map((row) => [row.id, row.usage])).toEqual([
      ['u1', 17.5],
      ['u2', 1.25],
    ])
  })

  it('takes the half-life on the criterion too, as the issue writes it', async () => {
    await send(
      track('u1', '2030-01-29T00:00:00Z'),
      track('u1', '2030-01-15T00:00:00Z'),
    )
    const score = parseScoreDefinition(
      {
        name: 'decay',
        of: 'users',
        usage: [
          {
            signal: { count: 'Report Run' },
            decay: { half_life: '14d' },
            points: 10,
          },
        ],
      },
      'test',
    )
    const rows = await runScore(temp.store, score, {
      asOf: new Date('2030-01-29T00:00:00Z'),
    })
    // 1 + 0.5 events, 10 points each.
    expect(rows.map((row) => row.usage)).toEqual([15])
  })

  it('cools down as time passes with no new events', async () => {
    await send(track('u1', '2030-01-01T00:00:00Z'))
    const score = parseScoreDefinition(
      {
        name: 'decay',
        of: 'users',
        usage: [
          {
            signal: { count: 'Report Run', decay: { half_life: '7d' } },
            points: 80,
          },
        ],
        levels: { usage: { high: 50 } },
      },
      'test',
    )
    const at = async (iso: string) =>
      (await runScore(temp.store, score, { asOf: new Date(iso) }))[0]

    expect(await at('2030-01-01T00:00:00Z')).toMatchObject({
      usage: 80,
      usage_level: 'high',
    })
    expect(await at('2030-01-08T00:00:00Z')).toMatchObject({
      usage: 40,
      usage_level: 'low',
    })
  })
})

describe('explanations', () => {
  const pool: Condition[] = [
    { field: 'account.employees', op: '>', value: 100 },
    { field: 'account.employees', op: '<=', value: 100 },
    { field: 'crm.company.tier', op: '=', value: 'gold' },
    { related: 'crm.deals', where: { field: 'stage', op: '=', value: 'Won' } },
    {
      any: [
        { field: 'account.name', op: 'starts_with', value: 'b' },
        { field: 'crm.owner.email', op: 'exists' },
      ],
    },
    { related: 'users', count: { op: '>=', value: 2 } },
  ]

  it("add up to every entity's fit, usage and total, caps included", async () => {
    await loadListFixture(temp.store)
    const criterion = fc.record({
      when: fc.constantFrom(...pool),
      points: fc.integer({ min: -50, max: 60 }),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.array(criterion, { minLength: 1, maxLength: 5 }),
        fc.array(criterion, { maxLength: 3 }),
        fc.option(fc.integer({ min: 10, max: 80 }), { nil: undefined }),
        async (fit, usage, cap) => {
          const score = parseScoreDefinition(
            {
              name: 'p',
              of: 'accounts',
              fit,
              usage,
              ...(cap === undefined ? {} : { cap: { fit: cap } }),
            },
            'p',
          )
          const asOf = new Date('2030-02-01T00:00:00Z')
          for (const row of await runScore(temp.store, score, { asOf })) {
            const explanation = await explainScore(temp.store, score, row.id, {
              asOf,
            })
            if (explanation === undefined)
              throw new Error(`no explanation for ${row.id}`)
            for (const axis of ['fit', 'usage'] as const) {
              const lines = explanation.lines
                .filter((l) => l.axis === axis)
                .reduce((sum, l) => sum + l.points, 0)
              const adjustments = explanation.adjustments
                .filter((a) => a.axis === axis)
                .reduce((sum, a) => sum + a.points, 0)
              expect(lines + adjustments).toBeCloseTo(row[axis], 9)
            }
            expect(explanation.total).toBeCloseTo(row.fit + row.usage, 9)
          }
        },
      ),
      { numRuns: 15 },
    )
  })

  it('name the value each criterion looked at', async () => {
    await loadListFixture(temp.store)
    const score = parseScoreDefinition(
      {
        name: 'p',
        of: 'accounts',
        fit: [
          {
            when: { field: 'account.employees', op: '>', value: 100 },
            points: 30,
          },
          {
            when: { field: 'crm.company.tier', op: '=', value: 'gold' },
            points: -5,
          },
        ],
      },
      'p',
    )
    const explanation = await explainScore(temp.store, score, 'acct_a', {
      asOf: new Date('2030-02-01T00:00:00Z'),
    })

    expect(explanation?.lines).toEqual([
      {
        axis: 'fit',
        label: 'account.employees > 100',
        matched: true,
        points: 30,
        value: '250.0',
      },
      {
        axis: 'fit',
        label: 'crm.company.tier = "gold"',
        matched: true,
        points: -5,
        value: 'gold',
      },
    ])
    expect(explanation?.fit).toBe(25)
  })
})

describe('levels axes', () => {
  it('take the first level whose conditions match, and give it fixed points', async () => {
    await loadListFixture(temp.store)
    const score = parseScoreDefinition(
      {
        name: 'calixa',
        of: 'accounts',
        fit: {
          levels: {
            high: [{ field: 'account.employees', op: '>=', value: 200 }],
            medium: [
              { field: 'account.employees', op: '>=', value: 100 },
              { field: 'crm.company.tier', op: '=', value: 'silver' },
            ],
          },
        },
      },
      'calixa',
    )
    const rows = await runScore(temp.store, score, {
      asOf: new Date('2030-02-01T00:00:00Z'),
    })

    expect(rows.map((r) => [r.id, r.fit_level, r.fit])).toEqual([
      ['acct_a', 'high', 100],
      ['acct_b', 'medium', 50],
      ['acct_c', 'medium', 50],
    ])
  })
})

describe('quadrants in lists and history', () => {
  const definitions = {
    scores: [
      {
        name: 'pql',
        of: 'users',
        fit: [
          {
            when: {
              field: 'user.email',
              op: 'contains',
              value: '@acme.example',
            },
            points: 60,
          },
        ],
        usage: [
          {
            when: {
              metric: { count: 'Report Run', within: '7d' },
              op: '>=',
              value: 2,
            },
            points: 60,
          },
        ],
        levels: { fit: { high: 50 }, usage: { high: 50 } },
      },
    ],
    lists: [
      {
        name: 'Hot users',
        of: 'users',
        where: { field: 'score.pql.quadrant', op: '=', value: 'hot' },
        columns: ['user.id', 'score.pql.quadrant', 'score.pql.total'],
      },
    ],
  }

  it("filters and shows by quadrant at the list's asOf", async () => {
    await send(
      {
        type: 'identify',
        userId: 'ann',
        traits: { email: 'ann@acme.example' },
        timestamp: '2030-01-01T00:00:00Z',
      },
      {
        type: 'identify',
        userId: 'cy',
        traits: { email: 'cy@beta.example' },
        timestamp: '2030-01-01T00:00:00Z',
      },
      track('ann', '2030-01-08T00:00:00Z'),
      track('ann', '2030-01-09T00:00:00Z'),
      track('cy', '2030-01-08T00:00:00Z'),
      track('cy', '2030-01-09T00:00:00Z'),
    )
    await applyDefinitions(temp.store, definitions, 'defs')
    const list = parseListDefinition(definitions.lists[0], 'Hot users')

    expect(
      (
        await runList(temp.store, list, {
          asOf: new Date('2030-01-10T00:00:00Z'),
        })
      ).rows,
    ).toEqual([
      { 'user.id': 'ann', 'score.pql.quadrant': 'hot', 'score.pql.total': 120 },
    ])
    // A week later the usage has aged out: nobody is hot.
    expect(
      (
        await runList(temp.store, list, {
          asOf: new Date('2030-01-20T00:00:00Z'),
        })
      ).rows,
    ).toEqual([])
  })

  it('records a change of quadrant when new events arrive over HTTP, with cause ingest', async () => {
    // Ann signed up a month ago; scores are recorded as of now.
    await send({
      type: 'identify',
      userId: 'ann',
      traits: { email: 'ann@acme.example' },
      timestamp: new Date(Date.now() - 30 * 86_400_000).toISOString(),
    })
    await applyDefinitions(temp.store, definitions, 'defs')
    const score = parseScoreDefinition(definitions.scores[0], 'pql')
    await recordScores(temp.store, score, new Date(), 'run')

    const { app, inbox, scores } = createApp(temp.store, {
      scoreDebounceMs: 10,
    })
    const { writeKey } = await addSource(temp.store, 'web')
    const now = new Date()
    const response = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: {
        authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
      },
      payload: {
        batch: [0, 1].map((n) => ({
          type: 'track',
          event: 'Report Run',
          userId: 'ann',
          timestamp: new Date(now.getTime() - (n + 1) * 60_000).toISOString(),
        })),
      },
    })
    expect(response.statusCode).toBe(200)
    await inbox.drain()
    await scores.settle()
    await app.close()

    const changes = await readScoreChanges(temp.store, 'pql', {
      entityId: 'ann',
    })
    expect(changes.map((c) => [c.fromQuadrant, c.toQuadrant, c.cause])).toEqual(
      [
        [null, 'activate', 'run'],
        ['activate', 'hot', 'ingest'],
      ],
    )
  })
})

describe('no future data', () => {
  it('scores at asOf ignore events, memberships and deals that came later', async () => {
    await loadListFixture(temp.store)
    const score = parseScoreDefinition(
      {
        name: 'leak',
        of: 'accounts',
        fit: [
          {
            when: { related: 'crm.deals', count: { op: '>=', value: 1 } },
            points: 50,
          },
        ],
        usage: [
          {
            when: { metric: { count: 'Report Run' }, op: '>=', value: 1 },
            points: 40,
          },
          {
            when: { related: 'users', count: { op: '>=', value: 2 } },
            points: 20,
          },
        ],
      },
      'leak',
    )
    const asOf = new Date('2030-02-01T00:00:00Z')
    const before = await runScore(temp.store, score, { asOf })

    // All of this happens after asOf.
    await send(
      { ...track('cy', '2030-03-01T00:00:00Z') },
      {
        type: 'group',
        userId: 'newbie',
        groupId: 'acct_b',
        timestamp: '2030-03-01T00:00:00Z',
      },
    )
    await temp.store.execute(
      "INSERT INTO crm_deals (deal_id, account_id, stage, created_at, updated_at) VALUES ('D9', 'acct_b', 'Won', '2030-03-01T00:00:00Z', now())",
    )

    expect(await runScore(temp.store, score, { asOf })).toEqual(before)
    const later = await runScore(temp.store, score, {
      asOf: new Date('2030-04-01T00:00:00Z'),
    })
    expect(later.find((row) => row.id === 'acct_b')).toMatchObject({
      fit: 50,
      usage: 60,
    })
  })
})

describe('validation', () => {
  it('names every problem of a score definition with its path', () => {
    try {
      parseScoreDefinition(
        {
          name: 'bad name',
          of: 'leads',
          fit: [
            { when: { field: 'x', op: 'like' }, points: 'ten' },
            { signal: { count: 'E', decay: { half_life: 'soon' } }, points: 1 },
          ],
          levels: { fit: { high: 'x' } },
        },
        'bad.yaml',
      )
      expect.unreachable()
    } catch (error) {
      expect((error as ListError).issues.map((i) => [i.code, i.path])).toEqual([
        ['LIST_DEFINITION_INVALID', 'name'],
        ['LIST_DEFINITION_INVALID', 'of'],
        ['LIST_OPERATOR_UNKNOWN', 'fit[0].when.op'],
        ['LIST_VALUE_INVALID', 'fit[0].points'],
        ['LIST_DURATION_INVALID', 'fit[1].signal.decay'],
        ['LIST_VALUE_INVALID', 'levels.fit'],
      ])
    }
  })
})
