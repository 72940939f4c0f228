/**
 * Each dialect fragment twice: the SQL it writes for DuckDB and for
 * PostgreSQL, then what it returns on the store under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { composeMergePatch } from '../ingest/compose-merge-patch.js'
import { duckDbDialect } from './duckdb/duckdb-dialect.js'
import { postgresDialect } from './postgres/postgres-dialect.js'

import type { TempStore } from '../../test/support/temp-store.js'

describe('the SQL each dialect writes', () => {
  it('reads JSON by a bound path: a pointer for DuckDB, a text[] for PostgreSQL', () => {
    expect(duckDbDialect.jsonPath(['a/b', 'c~d', 'e"f'])).toBe('/a~1b/c~0d/e"f')
    expect(postgresDialect.jsonPath(['a/b', 'c"d', 'e\\f', 'g,h'])).toBe(
      '{"a/b","c\\"d","e\\\\f","g,h"}',
    )
    expect(duckDbDialect.jsonText('t.doc', '$1')).toBe(
      'json_extract_string(t.doc, $1)',
    )
    expect(postgresDialect.jsonText('t.doc', '$1')).toBe(
      '(t.doc #>> CAST($1 AS text[]))',
    )
  })

  it('try-casts, merges, counts milliseconds and stages in each dialect', () => {
    expect(duckDbDialect.tryCast('x', 'double')).toBe('TRY_CAST(x AS DOUBLE)')
    expect(postgresDialect.tryCast('x', 'double')).toBe(
      'leadlens_try_double(x)',
    )
    expect(duckDbDialect.mergePatch('a', 'b')).toBe('json_merge_patch(a, b)')
    expect(postgresDialect.mergePatch('a', 'b')).toBe(
      'leadlens_merge_patch(a::jsonb, b::jsonb)',
    )
    expect(duckDbDialect.epochMs('t')).toBe('epoch_ms(t)')
    expect(postgresDialect.epochMs('t')).toBe(
      '(extract(epoch FROM t)::double precision * 1000)',
    )
    expect(duckDbDialect.staged('s')).toBe('temp.s')
    expect(postgresDialect.staged('s')).toBe('pg_temp.s')
  })
})

describe('the dialect of the store under test', () => {
  let temp: TempStore
  beforeAll(async () => {
    temp = await openTempStore()
  })
  afterAll(async () => {
    await temp.dispose()
  })

  async function one(sql: string, params: (string | number)[] = []) {
    const rows = await temp.store.query<{ v: unknown }>(
      `SELECT ${sql} AS v`,
      params,
    )

    return rows[0]?.v
  }

  // RFC 7396 appendix A, and the nested case traits rely on.
  const mergeCases: [object, object, object][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    [{ a: { b: 1, c: 2 } }, { a: { b: null } }, { a: { c: 2 } }],
  ]

  it('merges JSON as RFC 7396 says: nested objects merge, a null deletes', async () => {
    const { sql } = temp.store
    for (const [target, patch, expected] of mergeCases) {
      const merged = await one(
        sql.mergePatch(
          `CAST($1 AS ${sql.types.json})`,
          `CAST($2 AS ${sql.types.json})`,
        ),
        [JSON.stringify(target), JSON.stringify(patch)],
      )
      expect(JSON.parse(String(merged)), JSON.stringify(patch)).toEqual(
        expected,
      )
    }
  })

  it('applies two patches composed in JavaScript as it applies them one after the other', async () => {
    const { sql } = temp.store
    const json = (n: number) => `CAST($${n} AS ${sql.types.json})`
    const first = { a: { b: 1, c: 2 }, d: 1 }
    const second = { a: { b: null, e: 3 }, d: null, f: [1] }
    const target = { a: { x: 0 }, d: 0, g: true }
    const stepwise = await one(
      sql.mergePatch(sql.mergePatch(json(1), json(2)), json(3)),
      [JSON.stringify(target), JSON.stringify(first), JSON.stringify(second)],
    )
    const composed = await one(sql.mergePatch(json(1), json(2)), [
      JSON.stringify(target),
      JSON.stringify(composeMergePatch(first, second)),
    ])
    expect(JSON.parse(String(composed))).toEqual(JSON.parse(String(stepwise)))
  })

  it('reads text at a path whatever the keys hold, NULL when missing or null', async () => {
    const { sql } = temp.store
    const doc = JSON.stringify({
      'a.b': { 'c/d': 'x' },
      'q"\\': 'y',
      n: 1.5,
      t: true,
      z: null,
    })
    const at = (keys: string[]) =>
      one(sql.jsonText(`CAST($1 AS ${sql.types.json})`, '$2'), [
        doc,
        String(sql.jsonPath(keys)),
      ])
    expect(await at(['a.b', 'c/d'])).toBe('x')
    expect(await at(['q"\\'])).toBe('y')
    expect(await at(['n'])).toBe('1.5')
    expect(await at(['t'])).toBe('true')
    expect(await at(['z'])).toBe(null)
    expect(await at(['missing'])).toBe(null)
  })

  it('try-casts text to numbers and booleans, NULL for anything else', async () => {
    const { sql } = temp.store
    const double = (text: string) => one(sql.tryCast('$1', 'double'), [text])
    expect(await double('12.5')).toBe(12.5)
    expect(await double(' -3 ')).toBe(-3)
    expect(await double('1e3')).toBe(1000)
    expect(await double('twelve')).toBe(null)
    expect(await double('1,000')).toBe(null)
    expect(await double('')).toBe(null)
    const boolean = (text: string) => one(sql.tryCast('$1', 'boolean'), [text])
    expect(await boolean('true')).toBe(true)
    expect(await boolean('false')).toBe(false)
    expect(await boolean('maybe')).toBe(null)
    const instant = (text: string) =>
      one(sql.tryCast('$1', 'timestamp'), [text])
    expect(await instant('2030-01-01T00:00:00+02:00')).toBe(
      '2029-12-31T22:00:00.000Z',
    )
    expect(await instant('soon')).toBe(null)
  })

  it('counts epoch milliseconds and writes whole doubles as DuckDB does', async () => {
    const { sql } = temp.store
    expect(
      await one(sql.epochMs("CAST('2030-01-01T00:00:01.5Z' AS TIMESTAMPTZ)")),
    ).toBe(Date.UTC(2030, 0, 1, 0, 0, 1, 500))
    expect(await one(sql.text(`CAST(250 AS ${sql.types.double})`))).toBe(
      '250.0',
    )
    expect(await one(sql.text(`CAST(2.5 AS ${sql.types.double})`))).toBe('2.5')
  })
})
