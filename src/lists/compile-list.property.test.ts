/**
 * Whatever names and values a definition holds, they reach SQL only as
 * bound parameters (or, for column names, through quoteIdentifier): the
 * SQL text is the same as for plain names, and it runs.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openTempStore, testSqlDialect } from '../../test/support/temp-store.js'
import { migrations } from '../store/schema.js'
import { compileList } from './compile-list.js'
import { parseListDefinition } from './read-list-definition.js'

import type { TempStore } from '../../test/support/temp-store.js'
import type { PropertyTypeMap } from '../catalog/property-catalog.js'

let temp: TempStore
beforeAll(async () => {
  temp = await openTempStore()
})
afterAll(async () => {
  await temp.dispose()
})

const hostileText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    `'; DROP TABLE users; --`,
    `"quoted"`,
    `a.b/c~d`,
    `\\`,
    `$1`,
    `?`,
    `é🚀`,
  ),
  fc.string({ minLength: 500, maxLength: 2_000 }),
)
// Built-in account columns (account.name, ...) are columns, not traits,
// so they compile differently by design: leave them out.
const builtInColumns = ['id', 'name', 'domain', 'created_at', 'first_seen']
const name = hostileText.filter(
  (text) =>
    text.trim() !== '' &&
    !text.startsWith('.') &&
    !text.endsWith('.') &&
    !text.includes('..') &&
    !builtInColumns.includes(text),
)

function definitionFor(property: string, value: string, event: string) {
  return parseListDefinition(
    {
      name: 'prop',
      of: 'accounts',
      where: {
        all: [
          { field: `account.${property}`, op: '=', value },
          { field: `account.${property}`, op: 'in', value: [value, 'x'] },
          {
            metric: {
              count: event,
              within: '7d',
              where: { field: property, op: 'contains', value },
            },
            op: '>',
            value: 0,
          },
        ],
      },
      sort: [{ metric: { sum: event, property, within: '30d' }, dir: 'desc' }],
      columns: ['account.id', `account.${property}`],
    },
    'prop',
  )
}

const compileFor = (property: string, value: string, event: string) => {
  const types: PropertyTypeMap = new Map([
    ['account', new Map([[property, 'string' as const]])],
  ])
  return compileList(definitionFor(property, value, event), {
    sql: testSqlDialect,
    asOf: new Date('2030-01-01T00:00:00Z'),
    timezone: 'UTC',
    types,
  })
}

describe('compiled SQL under hostile input', () => {
  const plain = compileFor('plan', 'team', 'Signed Up')

  it('keeps the same SQL text and moves every name and value into parameters', () => {
    fc.assert(
      fc.property(name, hostileText, name, (property, value, event) => {
        const compiled = compileFor(property, value, event)
        // Column names are the one place text reaches SQL, quoted.
        expect(normalize(compiled.sql, property)).toBe(
          normalize(plain.sql, 'plan'),
        )
        expect(compiled.params).toContain(value)
        expect(compiled.params).toContain(event)
      }),
      { numRuns: 300 },
    )
  })

  it('runs on the store whatever the input, changing nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        name,
        hostileText,
        name,
        async (property, value, event) => {
          const compiled = compileFor(property, value, event)
          const rows = await temp.store.query(compiled.sql, compiled.params)
          expect(rows).toEqual([])
        },
      ),
      { numRuns: 40 },
    )
    expect(
      await temp.store.query('SELECT count(*) AS n FROM schema_migrations'),
    ).toEqual([{ n: migrations.length }])
    expect(await temp.store.query('SELECT count(*) AS n FROM users')).toEqual([
      { n: 0 },
    ])
  })
})

// The column alias is quoteIdentifier(`account.<property>`): doubled quotes.
function normalize(sql: string, property: string): string {
  return sql.replace(
    `"account.${property.replaceAll('"', '""')}"`,
    '"account.COLUMN"',
  )
}
