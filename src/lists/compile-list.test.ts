/**
 * The SQL and parameters each operator, time form and metric form compiles
 * to in the dialect of the store under test (the rows they return are
 * checked against that store in run-list.test.ts).
 */
import { describe, expect, it } from 'vitest'

import { testSqlDialect as dialect } from '../../test/support/temp-store.js'
import { compileList } from './compile-list.js'
import { parseListDefinition } from './read-list-definition.js'

import type { PropertyTypeMap } from '../catalog/property-catalog.js'

const asOf = new Date('2030-01-10T00:00:00Z')
const types: PropertyTypeMap = new Map([
  [
    'account',
    new Map([
      ['employees', 'number' as const],
      ['plan', 'string' as const],
      ['renewal', 'timestamp' as const],
      ['is_paying', 'boolean' as const],
    ]),
  ],
  ['event', new Map([['size', 'number' as const]])],
])

function compile(definition: Record<string, unknown>) {
  return compileList(
    parseListDefinition(
      { name: 't', of: 'accounts', columns: ['account.id'], ...definition },
      't',
    ),
    {
      sql: dialect,
      asOf,
      timezone: 'America/Sao_Paulo',
      types,
    },
  )
}

// The WHERE clause after the entity's existence check.
function filterOf(sql: string): string {
  return (
    sql
      .split('\n')
      .find(
        (line) =>
          line.startsWith('  AND (') && !line.includes('created_at IS NULL'),
      ) ?? ''
  )
}

const employees = dialect.tryCast(dialect.jsonText('a.traits', '$2'), 'double')
const plan = dialect.jsonText('a.traits', '$2')

describe('operators', () => {
  const cases: [string, unknown, string, unknown[]][] = [
    ['=', 100, `(${employees} = $3)`, [100]],
    ['!=', 100, `(${employees} IS DISTINCT FROM $3)`, [100]],
    ['>', '100', `(${employees} > $3)`, [100]],
    ['>=', 100, `(${employees} >= $3)`, [100]],
    ['<', 100, `(${employees} < $3)`, [100]],
    ['<=', 100, `(${employees} <= $3)`, [100]],
    ['in', [1, 2], `(${employees} IN ($3, $4))`, [1, 2]],
    [
      'not_in',
      [1, 2],
      `(${employees} IS NULL OR ${employees} NOT IN ($3, $4))`,
      [1, 2],
    ],
    [
      'between',
      [10, 20],
      `(${employees} >= $3 AND ${employees} <= $4)`,
      [10, 20],
    ],
    ['exists', undefined, `(${employees} IS NOT NULL)`, []],
    ['not_exists', undefined, `(${employees} IS NULL)`, []],
  ]

  for (const [op, value, sql, params] of cases) {
    it(`compiles ${op} on a number, binding its values`, () => {
      const compiled = compile({
        where: { field: 'account.employees', op, value },
      })
      expect(filterOf(compiled.sql)).toBe(`  AND (${sql})`)
      expect(compiled.params.slice(1)).toEqual([
        dialect.jsonPath(['employees']),
        ...params,
      ])
    })
  }

  it('compiles contains and starts_with on a string, ignoring case', () => {
    expect(
      filterOf(
        compile({
          where: { field: 'account.plan', op: 'contains', value: 'Team' },
        }).sql,
      ),
    ).toBe(`  AND ((strpos(lower(${plan}), lower($3)) > 0))`)
    expect(
      filterOf(
        compile({
          where: { field: 'account.plan', op: 'starts_with', value: 'Te' },
        }).sql,
      ),
    ).toBe(`  AND (starts_with(lower(${plan}), lower($3)))`)
  })

  it('binds booleans as booleans and instants as instants', () => {
    expect(
      compile({
        where: { field: 'account.is_paying', op: '=', value: 'true' },
      }).params.at(-1),
    ).toBe(true)
    expect(
      compile({
        where: {
          field: 'account.renewal',
          op: '>',
          value: '2030-01-01T00:00:00+02:00',
        },
      }).params.at(-1),
    ).toEqual(new Date('2029-12-31T22:00:00Z'))
  })
})

describe('time forms', () => {
  const renewal = dialect.tryCast(
    dialect.jsonText('a.traits', '$2'),
    'timestamp',
  )
  const window = (value: unknown) =>
    compile({ where: { field: 'account.renewal', op: 'within', value } })

  it('makes a rolling duration (asOf - d, asOf]', () => {
    const compiled = window('2w')
    expect(filterOf(compiled.sql)).toBe(
      `  AND ((${renewal} <= $1 AND ${renewal} > $3 AND ${renewal} <= $4))`,
    )
    expect(compiled.params.slice(2)).toEqual([
      new Date('2029-12-27T00:00:00Z'),
      asOf,
    ])
  })

  it('makes calendar periods [start, end) of local days in the zone', () => {
    // asOf is 2030-01-09 21:00 in Sao Paulo (UTC-3), a Wednesday.
    expect(window('today').params.slice(2)).toEqual([
      new Date('2030-01-09T03:00:00Z'),
      asOf,
    ])
    expect(window('yesterday').params.slice(2)).toEqual([
      new Date('2030-01-08T03:00:00Z'),
      new Date('2030-01-09T03:00:00Z'),
    ])
    expect(filterOf(window('yesterday').sql)).toBe(
      `  AND ((${renewal} <= $1 AND ${renewal} >= $3 AND ${renewal} < $4))`,
    )
    expect(window('this_week').params[2]).toEqual(
      new Date('2030-01-07T03:00:00Z'),
    )
    expect(window('last_week').params.slice(2)).toEqual([
      new Date('2029-12-31T03:00:00Z'),
      new Date('2030-01-07T03:00:00Z'),
    ])
    expect(window('this_month').params[2]).toEqual(
      new Date('2030-01-01T03:00:00Z'),
    )
    expect(window('last_month').params.slice(2)).toEqual([
      new Date('2029-12-01T03:00:00Z'),
      new Date('2030-01-01T03:00:00Z'),
    ])
    expect(window({ last_n_days: 3 }).params[2]).toEqual(
      new Date('2030-01-07T03:00:00Z'),
    )
  })

  it('reads before as older than a duration, or earlier than an instant', () => {
    expect(
      filterOf(
        compile({
          where: { field: 'account.renewal', op: 'before', value: '30d' },
        }).sql,
      ),
    ).toBe(`  AND ((${renewal} <= $3))`)
    expect(
      compile({
        where: { field: 'account.renewal', op: 'before', value: '30d' },
      }).params[2],
    ).toEqual(new Date('2029-12-11T00:00:00Z'))
    expect(
      filterOf(
        compile({
          where: {
            field: 'account.renewal',
            op: 'before',
            value: '2030-01-01T00:00:00Z',
          },
        }).sql,
      ),
    ).toBe(`  AND ((${renewal} < $3))`)
  })
})

describe('metric forms', () => {
  const metricSql = (metric: Record<string, unknown>) =>
    compile({ columns: [{ metric, as: 'm' }] })

  it("aggregates each form over the account's events, bound to asOf", () => {
    expect(metricSql({ count: 'E' }).sql).toContain('count(*) AS value')
    expect(metricSql({ distinct_users: 'E' }).sql).toContain(
      'count(DISTINCT e.person_id) AS value',
    )
    expect(metricSql({ sum: 'E', property: 'size' }).sql).toContain(
      'coalesce(sum(e.input), 0) AS value',
    )
    expect(metricSql({ sum: 'E', property: 'size' }).params).toContain(
      dialect.jsonPath(['size']),
    )
    expect(metricSql({ active_days: true }).sql).toContain(
      'count(DISTINCT e.input) AS value',
    )
    expect(metricSql({ active_days: true }).params).toContain(
      'America/Sao_Paulo',
    )
    expect(metricSql({ first_seen: 'E' }).sql).toContain(
      'min(e.input) AS value',
    )
    expect(metricSql({ last_seen: 'E' }).sql).toContain('max(e.input) AS value')
    expect(metricSql({ users_added: true, within: '7d' }).sql).toContain(
      'FROM memberships m',
    )
    expect(
      metricSql({ count: 'E', decay: { half_life: '14d' } }).params,
    ).toContain(14 * 86_400_000)
  })

  it('binds the event name and the event-property where', () => {
    const compiled = metricSql({
      count: 'Signed Up',
      within: '30d',
      where: { field: 'size', op: '>', value: 3 },
    })
    expect(compiled.params).toEqual(
      expect.arrayContaining([
        'Signed Up',
        dialect.jsonPath(['size']),
        3,
        new Date('2029-12-11T00:00:00Z'),
      ]),
    )
    expect(compiled.sql).toContain("e.type = 'track'")
    expect(compiled.sql).toContain('UNION ALL')
    expect(compiled.sql).not.toContain('Signed Up')
  })

  it('reuses one subquery for a metric used as filter, sort and column', () => {
    const metric = { count: 'E', within: '7d' }
    const compiled = compile({
      where: { metric, op: '>', value: 0 },
      sort: [{ metric }],
      columns: [{ metric, as: 'n' }],
    })
    expect(compiled.sql.match(/LEFT JOIN \(SELECT/g)).toHaveLength(1)
  })
})
