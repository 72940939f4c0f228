import { describe, expect, it } from 'vitest'

import { ApplyFailures, isConnectionLoss } from './apply-failures.js'
import { InboxBatchError } from './apply-inbox.js'

const failed = (ids: number[], cause: unknown = new Error('bad body')) =>
  new InboxBatchError(ids, [], cause)
const lost = Object.assign(new Error('terminating connection'), {
  code: '57P01',
})

describe('after a failed apply, the applier', () => {
  it('takes a failed batch of many bodies one at a time, for as many batches', () => {
    const failures = new ApplyFailures()
    expect(failures.afterFailure(failed([4, 5, 6]), false)).toEqual({
      do: 'isolate',
    })
    for (let left = 3; left > 0; left--) {
      expect(failures.isolating).toBe(true)
      failures.afterApplied(true)
    }
    expect(failures.isolating).toBe(false)
  })

  it('tries one failing body again after 200 and 400 ms, then sets it aside', () => {
    const failures = new ApplyFailures()
    expect(failures.afterFailure(failed([7]), false)).toEqual({
      do: 'retry',
      waitMs: 200,
    })
    expect(failures.afterFailure(failed([7]), false)).toEqual({
      do: 'retry',
      waitMs: 400,
    })
    expect(failures.afterFailure(failed([7]), false)).toEqual({
      do: 'set-aside',
      entryId: 7,
      waitMs: 800,
    })
    failures.afterSetAside(7)
    // Set aside, its count starts again should it ever come back.
    expect(failures.afterFailure(failed([7]), false)).toEqual({
      do: 'retry',
      waitMs: 200,
    })
  })

  it('sets aside, while isolating, only the body that fails, and goes on with the rest', () => {
    const failures = new ApplyFailures()
    failures.afterFailure(failed([1, 2, 3]), false)
    failures.afterApplied(true) // body 1
    for (let time = 1; time < 3; time++)
      expect(failures.afterFailure(failed([2]), true).do).toBe('retry')
    expect(failures.afterFailure(failed([2]), true)).toMatchObject({
      do: 'set-aside',
      entryId: 2,
    })
    failures.afterSetAside(2)
    expect(failures.isolating).toBe(true) // body 3 still alone
    failures.afterApplied(true)
    expect(failures.isolating).toBe(false)
  })

  it('blames no body for a lost connection, and waits 250 ms doubling up to 30 s', () => {
    const failures = new ApplyFailures()
    const waits = Array.from({ length: 10 }, () => {
      const step = failures.afterFailure(failed([9], lost), true)
      expect(step.do).toBe('wait-for-store')
      return 'waitMs' in step ? step.waitMs : undefined
    })
    expect(waits).toEqual([
      250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ])
    // The body was never blamed: its first failure of its own is a retry.
    expect(failures.afterFailure(failed([9]), true)).toEqual({
      do: 'retry',
      waitMs: 200,
    })
  })

  it('waits for the store when a failure names no body, and starts over once a batch applies', () => {
    const failures = new ApplyFailures()
    expect(failures.afterFailure(new Error('disk full'), false)).toEqual({
      do: 'wait-for-store',
      waitMs: 250,
    })
    expect(failures.afterFailure(new Error('disk full'), false)).toEqual({
      do: 'wait-for-store',
      waitMs: 500,
    })
    failures.afterApplied(false)
    expect(failures.afterFailure(new Error('disk full'), false)).toEqual({
      do: 'wait-for-store',
      waitMs: 250,
    })
  })

  it('tells a lost connection from other failures', () => {
    const cause = (code: string) =>
      new Error('wrapped', {
        cause: Object.assign(new Error('from the server'), { code }),
      })
    expect(isConnectionLoss(cause('57P01'))).toBe(true)
    expect(isConnectionLoss(cause('08006'))).toBe(true)
    expect(
      isConnectionLoss(new Error('Connection terminated unexpectedly')),
    ).toBe(true)
    expect(isConnectionLoss(cause('23505'))).toBe(false)
    expect(isConnectionLoss(new Error('Unexpected token n in JSON'))).toBe(
      false,
    )
  })
})
