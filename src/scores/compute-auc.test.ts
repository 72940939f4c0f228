import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { computeAuc } from './compute-auc.js'

// The definition itself: over every (converter, non-converter) pair, the
// share where the converter scores higher, ties counting one half.
function pairwiseAuc(scores: number[], outcomes: boolean[]): number | null {
  let wins = 0
  let pairs = 0
  scores.forEach((positive, i) => {
    if (!outcomes[i]) return
    scores.forEach((negative, j) => {
      if (outcomes[j]) return
      pairs++
      wins += positive > negative ? 1 : positive === negative ? 0.5 : 0
    })
  })
  return pairs === 0 ? null : wins / pairs
}

describe('computeAuc', () => {
  it('is 1 for a perfect ranking, 0 for a reversed one, 0.5 for all ties', () => {
    expect(computeAuc([3, 2, 1], [true, false, false])).toBe(1)
    expect(computeAuc([1, 2, 3], [true, false, false])).toBe(0)
    expect(computeAuc([5, 5, 5, 5], [true, false, true, false])).toBe(0.5)
  })

  it('counts ties as one half: 3 pairs, 1 win and 1 tie make 0.5', () => {
    expect(computeAuc([2, 1, 2, 3], [true, false, false, false])).toBeCloseTo(
      0.5,
      12,
    )
  })

  it('is undefined with only one class', () => {
    expect(computeAuc([1, 2], [true, true])).toBeNull()
  })

  it('equals the pairwise definition on random data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.boolean()), {
          minLength: 2,
          maxLength: 80,
        }),
        (items) => {
          const scores = items.map(([score]) => score)
          const outcomes = items.map(([, outcome]) => outcome)
          const expected = pairwiseAuc(scores, outcomes)
          const actual = computeAuc(scores, outcomes)
          if (expected === null) expect(actual).toBeNull()
          else expect(actual).toBeCloseTo(expected, 10)
        },
      ),
    )
  })
})
