/**
 * Suggested points come from outcomes: a criterion that separates
 * converters gets points, one that does not gets about none.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { normalizeMessage } from '../ingest/normalize-message.js'
import { writeMessages } from '../ingest/write-messages.js'
import { parseScoreDefinition } from './saved-scores.js'
import { suggestScore } from './suggest-score.js'

import type { TempStore } from '../../test/support/temp-store.js'

let temp: TempStore
beforeEach(async () => {
  temp = await openTempStore()
})
afterEach(async () => {
  await temp.dispose()
})

describe('suggestScore', () => {
  it('gives points to the criterion that predicts the outcome and backtests both scores', async () => {
    // 40 accounts: the 20 "pro" ones mostly convert (paid in January),
    // the others mostly do not; "blue" is noise, half of each.
    const messages = []
    for (let index = 0; index < 40; index++) {
      const isPro = index < 20
      const converts = isPro ? index % 5 !== 0 : index % 5 === 0
      messages.push({
        type: 'group',
        userId: `u${index}`,
        groupId: `a${index}`,
        timestamp: '2029-06-01T00:00:00Z',
        traits: {
          plan: isPro ? 'pro' : 'free',
          color: index % 2 ? 'blue' : 'red',
        },
      })
      if (converts)
        messages.push({
          type: 'track',
          event: 'Paid',
          userId: `u${index}`,
          timestamp: '2030-01-15T00:00:00Z',
        })
    }
    const normalized = messages.map((raw, index) => {
      const result = normalizeMessage(
        { ...raw, messageId: `m${index}` },
        { sourceId: 't', receivedAt: new Date('2030-02-01T00:00:00Z') },
      )
      if (!result.ok) throw new Error('fixture')
      return result.message
    })
    await writeMessages(temp.store, normalized)

    const score = parseScoreDefinition(
      {
        name: 'hand',
        of: 'accounts',
        fit: [
          {
            when: { field: 'account.plan', op: '=', value: 'pro' },
            points: 10,
          },
          {
            when: { field: 'account.color', op: '=', value: 'blue' },
            points: 90,
          },
        ],
        levels: { fit: { high: 50 } },
      },
      'hand',
    )
    const suggestion = await suggestScore(
      temp.store,
      score,
      { name: 'paid', of: 'accounts', event: 'Paid' },
      { asOf: new Date('2030-01-01T00:00:00Z'), horizon: '30d', lambda: 0.5 },
    )

    const [plan, color] = suggestion.criteria
    expect(plan?.suggestedPoints).toBeGreaterThan(60)
    expect(Math.abs(color?.suggestedPoints ?? 0)).toBeLessThan(25)
    expect(suggestion.isInSample).toBe(true)
    // Both AUCs, recomputed here from the fixture and the points, pair by pair.
    const pairwise = (planPoints: number, colorPoints: number) => {
      const accounts = Array.from({ length: 40 }, (_, index) => ({
        total: (index < 20 ? planPoints : 0) + (index % 2 ? colorPoints : 0),
        converts: index < 20 ? index % 5 !== 0 : index % 5 === 0,
      }))
      let wins = 0
      let pairs = 0
      for (const positive of accounts.filter((a) => a.converts)) {
        for (const negative of accounts.filter((a) => !a.converts)) {
          pairs++
          wins +=
            positive.total > negative.total
              ? 1
              : positive.total === negative.total
                ? 0.5
                : 0
        }
      }
      return wins / pairs
    }
    expect(suggestion.current.auc).toBeCloseTo(pairwise(10, 90), 10)
    expect(suggestion.suggestedBacktest.auc).toBeCloseTo(
      pairwise(plan?.suggestedPoints ?? 0, color?.suggestedPoints ?? 0),
      10,
    )
    expect(suggestion.suggestedBacktest.auc).toBeGreaterThan(
      suggestion.current.auc ?? 1,
    )
  })
})
