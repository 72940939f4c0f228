import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'

import type { TempStore } from '../../test/support/temp-store.js'

let temp: TempStore
beforeEach(async () => {
  temp = await openTempStore()
})
afterEach(async () => {
  await temp.dispose()
})

describe('appendRows and stage', () => {
  it('keep every value as given: text of any kind, numbers that JSON cannot hold, instants, booleans and nulls', async () => {
    const { store } = temp
    await store.execute(
      `CREATE TABLE kinds (t VARCHAR, n ${store.sql.types.double}, b BOOLEAN,
        seen_at TIMESTAMPTZ, empty VARCHAR)`,
    )
    const texts = [
      'plain',
      'quote " and \\ backslash',
      'line\nbreak\ttab',
      'ünïcødé 日本 🚀',
      "it's [1, 2] {}",
      '',
    ]
    const numbers = [0, -1.5, 1e300, Number.NaN, Infinity, -Infinity]
    const instants = [
      new Date('1969-12-31T23:59:59.999Z'),
      new Date('2030-03-01T12:00:00.001Z'),
      new Date('2000-02-29T00:00:00.000Z'),
      new Date('9999-12-31T23:59:59.999Z'),
      new Date('1970-01-01T00:00:00.000Z'),
      new Date('2024-06-30T23:59:59.999Z'),
    ]
    await store.appendRows(
      'kinds',
      ['t', 'n', 'b', 'seen_at', 'empty'],
      texts.map((t, index) => [
        t,
        numbers[index] ?? null,
        index % 2 === 0,
        instants[index] ?? null,
        null,
      ]),
    )

    const rows = await store.query<{
      t: string
      n: number
      b: boolean
      seen_at: string
      empty: null
    }>(`SELECT t, n, b, seen_at, empty FROM kinds`)
    const byText = new Map(rows.map((row) => [row.t, row]))
    texts.forEach((t, index) => {
      const row = byText.get(t)
      expect(row, t).toBeDefined()
      expect(Number(row?.n)).toBe(numbers[index])
      expect(row?.b).toBe(index % 2 === 0)
      expect(new Date(row?.seen_at ?? '').toISOString()).toBe(
        instants[index]?.toISOString(),
      )
      expect(row?.empty).toBeNull()
    })
  })

  it('stages rows in a table it replaces on each call', async () => {
    const { store } = temp
    const columns = { id: 'VARCHAR', seen_at: 'TIMESTAMPTZ' }
    const at = new Date('2030-01-01T00:00:00.123Z')
    // Staging tables belong to the writer's session: read them in a transaction.
    const rows = await store.transaction(async () => {
      await store.stage('staged_test', columns, [
        ['a', at],
        ['b', null],
      ])
      await store.stage('staged_test', columns, [['c', at]])
      return store.query<{ id: string; seen_at: string }>(
        `SELECT id, seen_at FROM ${store.sql.staged('staged_test')}`,
      )
    })
    expect(rows.map((r) => [r.id, new Date(r.seen_at).toISOString()])).toEqual([
      ['c', at.toISOString()],
    ])
  })
})
