import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { saveDefinition } from '../catalog/definitions.js'
import { parseImportMapping } from '../connectors/csv/import-mapping.js'
import { importRecords } from '../connectors/csv/import-records.js'
import { normalizeMessage } from '../ingest/normalize-message.js'
import { writeMessages } from '../ingest/write-messages.js'
import { rebuildRollups } from './rebuild-rollups.js'

import type { TempStore } from '../../test/support/temp-store.js'

let temp: TempStore
beforeEach(async () => {
  temp = await openTempStore()
})
afterEach(async () => {
  await temp.dispose()
})

let sequence = 0
function message(raw: Record<string, unknown>) {
  const result = normalizeMessage(
    { messageId: `m${++sequence}`, ...raw },
    { sourceId: 'web', receivedAt: new Date('2031-01-01T00:00:00Z') },
  )
  if (!result.ok) throw new Error(JSON.stringify(result.issues))
  return result.message
}
const track = (who: Record<string, unknown>, at: string, extra = {}) =>
  message({ type: 'track', event: 'Run', timestamp: at, ...who, ...extra })
const group = (who: Record<string, unknown>, account: string, at: string) =>
  message({ type: 'group', groupId: account, timestamp: at, ...who })

async function days() {
  const rows = await temp.store.query(
    `SELECT account_id, day, events, first_at, last_at FROM account_event_days
     ORDER BY account_id, day`,
  )
  return rows.map((r) => [
    r.account_id,
    String(r.day).slice(0, 10),
    r.events,
    r.first_at,
    r.last_at,
  ])
}

describe('rollup maintenance', () => {
  it('counts an event naming its account and one reaching it by membership', async () => {
    await writeMessages(temp.store, [
      group({ userId: 'u' }, 'A', '2030-01-01T00:00:00Z'),
    ])
    await writeMessages(temp.store, [
      track({ userId: 'u' }, '2030-01-02T10:00:00Z'),
      track({ userId: 'v' }, '2030-01-02T11:00:00Z', {
        context: { groupId: 'B' },
      }),
    ])

    expect(await days()).toEqual([
      [
        'A',
        '2030-01-02',
        1,
        '2030-01-02T10:00:00.000Z',
        '2030-01-02T10:00:00.000Z',
      ],
      [
        'B',
        '2030-01-02',
        1,
        '2030-01-02T11:00:00.000Z',
        '2030-01-02T11:00:00.000Z',
      ],
    ])
  })

  it('adds a person’s earlier events to an account they join by a group call', async () => {
    await writeMessages(temp.store, [
      track({ userId: 'u' }, '2030-01-02T10:00:00Z'),
      track({ userId: 'u' }, '2030-01-03T10:00:00Z'),
    ])
    await writeMessages(temp.store, [
      group({ userId: 'u' }, 'A', '2030-01-05T00:00:00Z'),
    ])
    // A second group call to the same account adds nothing.
    await writeMessages(temp.store, [
      group({ userId: 'u' }, 'A', '2030-01-06T00:00:00Z'),
    ])

    expect((await days()).map((row) => row.slice(0, 3))).toEqual([
      ['A', '2030-01-02', 1],
      ['A', '2030-01-03', 1],
    ])
  })

  it('adds a person’s earlier events to an account a CSV import makes them a member of', async () => {
    await writeMessages(temp.store, [
      track({ userId: 'u' }, '2030-01-02T10:00:00Z'),
    ])
    const directory = await mkdtemp(join(tmpdir(), 'leadlens-rollups-'))
    try {
      const path = join(directory, 'users.csv')
      await writeFile(path, 'id,email,account_id\nu,u@acme.example,A\n')
      const mapping = parseImportMapping({ id: 'id' }, 'map')
      await importRecords(temp.store, 'users', path, mapping)
    } finally {
      await rm(directory, { recursive: true, force: true })
    }

    expect((await days()).map((row) => row.slice(0, 3))).toEqual([
      ['A', '2030-01-02', 1],
    ])
  })

  it('moves an anonymous visitor’s events and memberships to the user it is linked to', async () => {
    await writeMessages(temp.store, [
      group({ anonymousId: 'anon' }, 'A', '2030-01-01T00:00:00Z'),
      group({ userId: 'u' }, 'B', '2030-01-01T00:00:00Z'),
      track({ anonymousId: 'anon' }, '2030-01-02T10:00:00Z'),
      track({ userId: 'u' }, '2030-01-03T10:00:00Z'),
    ])
    expect((await days()).map((row) => row.slice(0, 3))).toEqual([
      ['A', '2030-01-02', 1],
      ['B', '2030-01-03', 1],
    ])

    await writeMessages(temp.store, [
      message({
        type: 'identify',
        anonymousId: 'anon',
        userId: 'u',
        timestamp: '2030-01-04T00:00:00Z',
      }),
    ])

    // One person now, member of both accounts: each account sees both events.
    expect((await days()).map((row) => row.slice(0, 3))).toEqual([
      ['A', '2030-01-02', 1],
      ['A', '2030-01-03', 1],
      ['B', '2030-01-02', 1],
      ['B', '2030-01-03', 1],
    ])
  })

  it('recomputes nothing when a link changes no attribution: a fresh anonymous id joins a user with a history', async () => {
    await writeMessages(temp.store, [
      group({ userId: 'u' }, 'A', '2030-01-01T00:00:00Z'),
      track({ userId: 'u' }, '2030-01-02T10:00:00Z'),
      track({ userId: 'u' }, '2030-01-03T10:00:00Z'),
    ])
    const before = await days()

    // Watch the statements of the batch that links 'fresh' to 'u'.
    const statements: string[] = []
    const execute = temp.store.execute.bind(temp.store)
    temp.store.execute = (sql, params) => {
      statements.push(sql)
      return execute(sql, params)
    }
    await writeMessages(temp.store, [
      message({
        type: 'identify',
        anonymousId: 'fresh',
        userId: 'u',
        timestamp: '2030-01-04T00:00:00Z',
      }),
    ])

    const recomputes = statements.filter((sql) =>
      /DELETE FROM account_event_days/.test(sql),
    )
    expect(recomputes).toEqual([])
    expect(await days()).toEqual(before)
  })

  it('keeps the first and last instant of a day when events arrive late and out of order', async () => {
    await writeMessages(temp.store, [
      track({ userId: 'v' }, '2030-01-02T12:00:00Z', {
        context: { groupId: 'B' },
      }),
    ])
    await writeMessages(temp.store, [
      track({ userId: 'v' }, '2030-01-02T23:59:59Z', {
        context: { groupId: 'B' },
      }),
      track({ userId: 'v' }, '2030-01-02T00:00:00Z', {
        context: { groupId: 'B' },
      }),
    ])

    expect(await days()).toEqual([
      [
        'B',
        '2030-01-02',
        3,
        '2030-01-02T00:00:00.000Z',
        '2030-01-02T23:59:59.000Z',
      ],
    ])
  })

  it('counts a duplicate message once', async () => {
    const event = track({ userId: 'v' }, '2030-01-02T12:00:00Z', {
      context: { groupId: 'B' },
      messageId: 'same',
    })
    await writeMessages(temp.store, [event, event])
    await writeMessages(temp.store, [event])

    expect((await days()).map((row) => row.slice(0, 3))).toEqual([
      ['B', '2030-01-02', 1],
    ])
  })

  it('backfills a sum when a definition registers it, then adds new events to it', async () => {
    await writeMessages(temp.store, [
      track({ userId: 'v' }, '2030-01-02T12:00:00Z', {
        context: { groupId: 'B' },
        properties: { seats: 3 },
      }),
    ])
    await saveDefinition(temp.store, 'metric', 'seats', {
      sum: 'Run',
      property: 'seats',
    })
    await writeMessages(temp.store, [
      track({ userId: 'v' }, '2030-01-02T13:00:00Z', {
        context: { groupId: 'B' },
        properties: { seats: 4 },
      }),
    ])

    expect(
      await temp.store.query(
        'SELECT account_id, property, total FROM account_event_day_sums',
      ),
    ).toEqual([{ account_id: 'B', property: 'seats', total: 7 }])
  })

  it('rebuilds from raw events the same rows ingestion kept', async () => {
    await writeMessages(temp.store, [
      group({ anonymousId: 'anon' }, 'A', '2030-01-01T00:00:00Z'),
      track({ anonymousId: 'anon' }, '2030-01-02T10:00:00Z'),
      track({ userId: 'u' }, '2030-01-03T10:00:00Z', {
        context: { groupId: 'B' },
      }),
    ])
    await writeMessages(temp.store, [
      message({
        type: 'identify',
        anonymousId: 'anon',
        userId: 'u',
        timestamp: '2030-01-04T00:00:00Z',
      }),
      track({ userId: 'u' }, '2030-01-04T10:00:00Z'),
    ])
    const kept = await days()
    await temp.store.execute('DELETE FROM account_event_days')
    await rebuildRollups(temp.store)

    expect(await days()).toEqual(kept)
    expect(kept.length).toBe(3)
  })
})
