/**
 * Lists and metrics as code (`apply`), saved list runs and their membership
 * history, on a real DuckDB file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { applyDefinitions } from '../catalog/apply-definitions.js'
import { listDefinitions } from '../catalog/definitions.js'
import { normalizeMessage } from '../ingest/normalize-message.js'
import { writeMessages } from '../ingest/write-messages.js'
import { ListError } from './list-error.js'
import { readListChanges } from './list-membership.js'
import { loadList, runAndRecord } from './saved-lists.js'

import type { TempStore } from '../../test/support/temp-store.js'

let temp: TempStore
beforeEach(async () => {
  temp = await openTempStore()
})
afterEach(async () => {
  await temp.dispose()
})

let sequence = 0
async function track(userId: string, timestamp: string) {
  const result = normalizeMessage(
    {
      type: 'track',
      event: 'Report Run',
      userId,
      timestamp,
      messageId: `t${++sequence}`,
    },
    { sourceId: 'test', receivedAt: new Date('2031-01-01T00:00:00Z') },
  )
  if (!result.ok) throw new Error('fixture')
  await writeMessages(temp.store, [result.message])
}

const document = {
  metrics: [{ name: 'reports_7d', count: 'Report Run', within: '7d' }],
  lists: [
    {
      name: 'Active reporters',
      of: 'users',
      where: { metric: 'reports_7d', op: '>=', value: 1 },
      columns: ['user.id', { metric: 'reports_7d', as: 'reports' }],
    },
  ],
}

describe('apply', () => {
  it('saves metrics and lists, and updates them in place when applied again', async () => {
    await track('u1', '2030-01-05T00:00:00Z')
    const first = await applyDefinitions(temp.store, document, 'defs.yaml')
    const again = await applyDefinitions(temp.store, document, 'defs.yaml')

    expect(first.created).toEqual([
      'metric reports_7d',
      'list Active reporters',
    ])
    expect(again.updated).toEqual([
      'metric reports_7d',
      'list Active reporters',
    ])
    expect(
      (await listDefinitions(temp.store, 'list')).map((l) => l.name),
    ).toEqual(['Active reporters'])
  })

  it('reports every bad definition with its path and saves nothing', async () => {
    const bad = {
      metrics: [{ name: 'm', count: 'E', within: 'a week' }],
      lists: [
        { name: 'ok', of: 'users' },
        {
          name: 'broken',
          of: 'users',
          where: { all: [{ field: 'user.nope', op: '=', value: 1 }] },
        },
        { name: 'ok', of: 'users' },
      ],
      alerts: [],
    }
    try {
      await applyDefinitions(temp.store, bad, 'defs.yaml')
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ListError)
      expect((error as ListError).issues.map((i) => [i.code, i.path])).toEqual([
        ['LIST_DEFINITION_INVALID', 'alerts'],
        ['LIST_DEFINITION_INVALID', 'lists[2].name'],
        ['LIST_DURATION_INVALID', 'metrics[0].within'],
        ['LIST_FIELD_UNKNOWN', 'lists[1].where.all[0].field'],
      ])
    }
    expect(await listDefinitions(temp.store, 'list')).toEqual([])
    expect(await listDefinitions(temp.store, 'metric')).toEqual([])
  })

  it('warns, without failing, about a metric on an event never received', async () => {
    const summary = await applyDefinitions(
      temp.store,
      {
        lists: [
          {
            name: 'l',
            of: 'users',
            where: { metric: { count: 'Not Yet Sent' }, op: '>', value: 0 },
          },
        ],
      },
      'defs.yaml',
    )
    expect(summary.warnings.map((w) => [w.code, w.path])).toEqual([
      ['LIST_METRIC_UNKNOWN', 'lists[0].where.metric.count'],
    ])
  })
})

describe('membership history', () => {
  it("records who entered and who left at each run's asOf, and ignores a backdated run", async () => {
    await track('u1', '2030-01-05T00:00:00Z')
    await track('u2', '2030-01-09T00:00:00Z')
    await applyDefinitions(temp.store, document, 'defs.yaml')
    const list = await loadList(temp.store, 'Active reporters')

    // 2030-01-10: u1 (01-05) and u2 (01-09) ran a report within 7 days.
    const first = await runAndRecord(temp.store, list, {
      asOf: new Date('2030-01-10T00:00:00Z'),
      limit: 1,
    })
    expect([first.rows.length, first.entered, first.left]).toEqual([1, 2, 0])
    // 2030-01-14: u1's report is 9 days old, u2's 5.
    const second = await runAndRecord(temp.store, list, {
      asOf: new Date('2030-01-14T00:00:00Z'),
    })
    expect([second.entered, second.left]).toEqual([0, 1])
    // A run as of an earlier instant changes no history.
    const backdated = await runAndRecord(temp.store, list, {
      asOf: new Date('2030-01-06T00:00:00Z'),
    })
    expect([backdated.entered, backdated.left]).toEqual([0, 0])

    expect(
      await readListChanges(temp.store, 'Active reporters', new Date(0)),
    ).toEqual([
      {
        entityId: 'u1',
        change: 'entered',
        at: '2030-01-10T00:00:00.000Z',
        viewer: '',
      },
      {
        entityId: 'u2',
        change: 'entered',
        at: '2030-01-10T00:00:00.000Z',
        viewer: '',
      },
      {
        entityId: 'u1',
        change: 'left',
        at: '2030-01-14T00:00:00.000Z',
        viewer: '',
      },
    ])
    expect(
      await readListChanges(
        temp.store,
        'Active reporters',
        new Date('2030-01-12T00:00:00Z'),
      ),
    ).toHaveLength(1)
  })

  it('says plainly when a name is neither a file nor a saved list', async () => {
    await expect(loadList(temp.store, 'No such list')).rejects.toThrow(
      /no saved list/,
    )
  })
})
