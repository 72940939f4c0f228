import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { parseListDefinition } from '../lists/read-list-definition.js'
import { runList } from '../lists/run-list.js'
import { readStats } from '../catalog/read-stats.js'
import { loadDemoWorkspace } from './demo-workspace.js'

import type { TempStore } from '../../test/support/temp-store.js'

const now = new Date('2030-06-01T00:00:00Z')
let first: TempStore
let second: TempStore
beforeEach(async () => {
  first = await openTempStore()
  second = await openTempStore()
})
afterEach(async () => {
  await first.dispose()
  await second.dispose()
})

describe('the demo workspace', () => {
  it('is the same every time, through the real pipeline, with a working score and lists', async () => {
    const a = await loadDemoWorkspace(first.store, now)
    const b = await loadDemoWorkspace(second.store, now)
    expect(a).toEqual(b)
    expect(await readStats(first.store)).toEqual(await readStats(second.store))

    const stats = await readStats(first.store)
    expect(stats.accounts).toBe(120)
    expect(stats.users).toBe(a.users)
    expect(stats.events).toBe(a.messages)

    const hot = parseListDefinition(
      {
        name: 'h',
        of: 'accounts',
        where: {
          field: 'score.pql.quadrant',
          op: 'in',
          value: ['hot', 'activate', 'self_serve', 'ignore'],
        },
      },
      'h',
    )
    expect((await runList(first.store, hot, { asOf: now })).total).toBe(120)
  })
})
