import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'

import type { TempStore } from '../../test/support/temp-store.js'
import type { AppendValue } from './store.js'

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

  it('writes the same rows whether all columns come in table order (DuckDB: its appender) or not (an INSERT)', async () => {
    const { store } = temp
    const make = (name: string) =>
      store.execute(
        `CREATE TABLE ${name} (a VARCHAR, n ${store.sql.types.double},
          big BIGINT, i INTEGER, j ${store.sql.types.json}, seen_at TIMESTAMPTZ)`,
      )
    await make('in_order')
    await make('reordered')
    const rows: AppendValue[][] = Array.from({ length: 2_500 }, (_, index) => [
      `row ${index} ✓`,
      index / 8,
      2 ** 40 + index,
      -index,
      JSON.stringify({ index, nested: { list: [index] } }),
      new Date(Date.UTC(2030, 0, 1, 0, 0, 0, index)),
    ])
    rows[7] = [null, null, null, null, '{}', null]

    await store.appendRows(
      'in_order',
      ['a', 'n', 'big', 'i', 'j', 'seen_at'],
      rows,
    )
    await store.appendRows(
      'reordered',
      ['seen_at', 'j', 'i', 'big', 'n', 'a'],
      rows.map((row) => [...row].reverse()),
    )

    const read = (name: string) =>
      store.query(
        `SELECT a, n, CAST(big AS VARCHAR) AS big, i, CAST(j AS VARCHAR) AS j,
           seen_at FROM ${name} ORDER BY i DESC NULLS FIRST, a`,
      )
    const inOrder = await read('in_order')
    expect(inOrder).toHaveLength(2_500)
    expect(inOrder).toEqual(await read('reordered'))
    expect(inOrder[1]).toMatchObject({ a: 'row 0 ✓', big: String(2 ** 40) })
  })

  it('stores all rows of a call or none: a NOT NULL breach in its second chunk stores none', async () => {
    const { store } = temp
    await store.execute('CREATE TABLE strict (id VARCHAR NOT NULL, n INTEGER)')
    const rows = Array.from({ length: 3_000 }, (_, index) => [
      index === 2_500 ? null : `id${index}`,
      index,
    ])

    await expect(store.appendRows('strict', ['id', 'n'], rows)).rejects.toThrow(
      /strict/,
    )
    const [count] = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM strict',
    )
    expect(Number(count?.n)).toBe(0)
  })

  it('casts a value of another kind than its column, as an INSERT would', async () => {
    const { store } = temp
    await store.execute(
      `CREATE TABLE mixed (id VARCHAR, n ${store.sql.types.double})`,
    )
    await store.appendRows(
      'mixed',
      ['id', 'n'],
      [
        ['a', '12.5'],
        ['b', 3],
      ],
    )
    const rows = await store.query<{ id: string; n: number }>(
      'SELECT id, n FROM mixed ORDER BY id',
    )
    expect(rows.map((row) => [row.id, Number(row.n)])).toEqual([
      ['a', 12.5],
      ['b', 3],
    ])
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
