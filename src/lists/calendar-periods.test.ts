/**
 * Calendar periods against a real DuckDB file: two events 2 hours apart
 * that straddle midnight UTC fall on one local day in Sao Paulo (UTC-3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { normalizeMessage } from '../ingest/normalize-message.js'
import { writeMessages } from '../ingest/write-messages.js'
import { writeWorkspaceSetting } from '../store/workspace-settings.js'
import { parseListDefinition } from './read-list-definition.js'
import { runList } from './run-list.js'

import type { TempStore } from '../../test/support/temp-store.js'

let temp: TempStore
// 2030-01-08T23:30Z is 20:30 and 2030-01-09T01:30Z is 22:30 on 2030-01-08 in
// Sao Paulo; asOf 2030-01-09T12:00Z is 09:00 on 2030-01-09 there.
const asOf = new Date('2030-01-09T12:00:00Z')

beforeAll(async () => {
  temp = await openTempStore()
  const messages = ['2030-01-08T23:30:00Z', '2030-01-09T01:30:00Z'].map(
    (timestamp, index) => {
      const result = normalizeMessage(
        {
          type: 'track',
          event: 'Report Run',
          userId: 'u1',
          timestamp,
          messageId: `r${index}`,
        },
        { sourceId: 'test', receivedAt: new Date('2030-02-01T00:00:00Z') },
      )
      if (!result.ok) throw new Error('fixture')
      return result.message
    },
  )
  await writeMessages(temp.store, messages)
})

afterAll(async () => {
  await temp.dispose()
})

async function counts(timezone?: string) {
  const columns = ['today', 'yesterday', { last_n_days: 2 }].map(
    (within, index) => ({
      metric: { count: 'Report Run', within },
      as: `c${index}`,
    }),
  )
  const definition = parseListDefinition(
    { name: 't', of: 'users', columns, ...(timezone ? { timezone } : {}) },
    't',
  )
  const result = await runList(temp.store, definition, { asOf })
  return result.rows[0]
}

describe('calendar periods', () => {
  it('count both events on the local day they fall on in the workspace zone', async () => {
    await writeWorkspaceSetting(temp.store, 'timezone', 'America/Sao_Paulo')
    expect(await counts()).toEqual({ c0: 0, c1: 2, c2: 2 })
  })

  it('split them across two days in UTC', async () => {
    expect(await counts('UTC')).toEqual({ c0: 1, c1: 1, c2: 2 })
  })

  it('count active days as local days', async () => {
    const definition = parseListDefinition(
      {
        name: 't',
        of: 'users',
        timezone: 'America/Sao_Paulo',
        columns: [{ metric: { active_days: true }, as: 'days' }],
      },
      't',
    )
    expect((await runList(temp.store, definition, { asOf })).rows).toEqual([
      { days: 1 },
    ])
  })
})
