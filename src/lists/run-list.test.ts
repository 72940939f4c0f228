/**
 * The list language against a real DuckDB file. The fixture is small and
 * every expected row below is worked out by hand from it (see the comments).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { normalizeMessage } from '../ingest/normalize-message.js'
import { writeMessages } from '../ingest/write-messages.js'
import { ListError } from './list-error.js'
import { parseListDefinition } from './read-list-definition.js'
import { compileListForStore, runList } from './run-list.js'

import type { TempStore } from '../../test/support/temp-store.js'

const asOf = new Date('2030-01-10T00:00:00Z')
let temp: TempStore

// Accounts: acct_a (Acme, 250 employees, US, team), acct_b (Beta, 40, DE,
// trial), acct_c (Gamma, 100, no country, no plan).
// Users: u1 in acct_a from 2030-01-05, created 2030-01-09 (trait), not a robot;
// u2 in acct_a from 2029-12-01, first seen 2029-11-15, a robot; u3 in acct_b
// from 2030-01-09, first seen 2030-01-05; u9 in acct_c from 2029-01-01,
// with no events; anon-9 a visitor.
const fixture = [
  {
    type: 'identify',
    userId: 'u1',
    timestamp: '2029-11-01T00:00:00Z',
    traits: {
      email: 'ann@acme.example',
      is_robot: false,
      createdAt: '2030-01-09T00:00:00Z',
    },
  },
  {
    type: 'identify',
    userId: 'u2',
    timestamp: '2029-11-15T00:00:00Z',
    traits: { email: 'ben@acme.example', is_robot: true },
  },
  {
    type: 'identify',
    userId: 'u3',
    timestamp: '2030-01-09T00:00:00Z',
    traits: { email: 'cy@beta.example' },
  },
  {
    type: 'group',
    userId: 'u1',
    groupId: 'acct_a',
    timestamp: '2030-01-05T00:00:00Z',
    traits: { name: 'Acme', employees: 250, country: 'US', plan: 'team' },
  },
  {
    type: 'group',
    userId: 'u2',
    groupId: 'acct_a',
    timestamp: '2029-12-01T00:00:00Z',
  },
  {
    type: 'group',
    userId: 'u3',
    groupId: 'acct_b',
    timestamp: '2030-01-09T00:00:00Z',
    traits: { name: 'Beta', employees: 40, country: 'DE', plan: 'trial' },
  },
  {
    type: 'group',
    userId: 'u9',
    groupId: 'acct_c',
    timestamp: '2029-01-01T00:00:00Z',
    traits: { name: 'Gamma', employees: 100 },
  },
  {
    type: 'track',
    event: 'Project Created',
    userId: 'u1',
    timestamp: '2030-01-09T12:00:00Z',
    properties: { size: 5 },
  },
  {
    type: 'track',
    event: 'Project Created',
    userId: 'u1',
    timestamp: '2030-01-08T00:00:00Z',
    properties: { size: 3 },
  },
  {
    type: 'track',
    event: 'Project Created',
    userId: 'u1',
    timestamp: '2029-12-01T00:00:00Z',
    properties: { size: 10 },
  },
  {
    type: 'track',
    event: 'Project Created',
    userId: 'u2',
    timestamp: '2030-01-09T23:00:00Z',
    properties: { size: 1 },
  },
  {
    type: 'track',
    event: 'Project Created',
    userId: 'u2',
    timestamp: '2030-01-11T00:00:00Z',
    properties: { size: 1 },
  },
  {
    type: 'track',
    event: 'Project Created',
    userId: 'u3',
    timestamp: '2030-01-05T00:00:00Z',
    properties: { size: 2 },
    context: { groupId: 'acct_c' },
  },
  {
    type: 'track',
    event: 'Viewed Pricing',
    anonymousId: 'anon-9',
    timestamp: '2030-01-09T00:00:00Z',
  },
]

beforeAll(async () => {
  temp = await openTempStore()
  const receivedAt = new Date('2030-02-01T00:00:00Z')
  const messages = fixture.map((raw, index) => {
    const result = normalizeMessage(
      { ...raw, messageId: `f${index}` },
      { sourceId: 'test', receivedAt },
    )
    if (!result.ok) throw new Error(JSON.stringify(result.issues))
    return result.message
  })
  await writeMessages(temp.store, messages)
})

afterAll(async () => {
  await temp.dispose()
})

async function ids(definition: Record<string, unknown>): Promise<unknown[]> {
  const of = definition.of ?? 'accounts'
  const id = of === 'users' ? 'user.id' : 'account.id'
  const parsed = parseListDefinition(
    { name: 'test', of, columns: [id], ...definition },
    'test',
  )
  const result = await runList(temp.store, parsed, {
    asOf,
    me: 'ann@acme.example',
  })
  return result.rows.map((row) => row[id])
}

async function issuesOf(definition: Record<string, unknown>, options = {}) {
  try {
    const parsed = parseListDefinition(
      { name: 'test', of: 'accounts', ...definition },
      'test',
    )
    await runList(temp.store, parsed, { asOf, ...options })
  } catch (error) {
    if (error instanceof ListError)
      return error.issues.map((i) => [i.code, i.path])
    throw error
  }
  return []
}

const where = (condition: unknown) => ({ where: condition })

describe('field operators', () => {
  it('= and != (a missing value differs from any value)', async () => {
    expect(
      await ids(where({ field: 'account.plan', op: '=', value: 'team' })),
    ).toEqual(['acct_a'])
    expect(
      await ids(where({ field: 'account.plan', op: '!=', value: 'team' })),
    ).toEqual(['acct_b', 'acct_c'])
  })

  it('> >= < <= on numbers, coercing a numeric string', async () => {
    expect(
      await ids(where({ field: 'account.employees', op: '>', value: 100 })),
    ).toEqual(['acct_a'])
    expect(
      await ids(where({ field: 'account.employees', op: '>=', value: '100' })),
    ).toEqual(['acct_a', 'acct_c'])
    expect(
      await ids(where({ field: 'account.employees', op: '<', value: 100 })),
    ).toEqual(['acct_b'])
    expect(
      await ids(where({ field: 'account.employees', op: '<=', value: 100 })),
    ).toEqual(['acct_b', 'acct_c'])
  })

  it('in and not_in (a missing value is not in any list)', async () => {
    expect(
      await ids(
        where({ field: 'account.country', op: 'in', value: ['US', 'CA'] }),
      ),
    ).toEqual(['acct_a'])
    expect(
      await ids(
        where({ field: 'account.country', op: 'not_in', value: ['US'] }),
      ),
    ).toEqual(['acct_b', 'acct_c'])
  })

  it('contains and starts_with, ignoring case', async () => {
    expect(
      await ids({
        of: 'users',
        ...where({ field: 'user.email', op: 'contains', value: 'ACME' }),
      }),
    ).toEqual(['u1', 'u2'])
    expect(
      await ids({
        of: 'users',
        ...where({ field: 'user.email', op: 'starts_with', value: 'cy@' }),
      }),
    ).toEqual(['u3'])
  })

  it('exists and not_exists', async () => {
    expect(
      await ids(where({ field: 'account.country', op: 'exists' })),
    ).toEqual(['acct_a', 'acct_b'])
    expect(
      await ids(where({ field: 'account.country', op: 'not_exists' })),
    ).toEqual(['acct_c'])
  })

  it('between, inclusive', async () => {
    expect(
      await ids(
        where({ field: 'account.employees', op: 'between', value: [40, 100] }),
      ),
    ).toEqual(['acct_b', 'acct_c'])
  })

  it('booleans', async () => {
    expect(
      await ids({
        of: 'users',
        ...where({ field: 'user.is_robot', op: '=', value: false }),
      }),
    ).toEqual(['u1'])
  })

  it('within and before on timestamps, at asOf', async () => {
    // created_at: u1 2030-01-09 (trait), u2 2029-11-15, u3 2030-01-05 and
    // u9 2029-01-01 (first seen).
    const known = { field: 'user.is_anonymous', op: '=', value: false }
    expect(
      await ids({
        of: 'users',
        ...where({
          all: [known, { field: 'user.created_at', op: 'within', value: '7d' }],
        }),
      }),
    ).toEqual(['u1', 'u3'])
    expect(
      await ids({
        of: 'users',
        ...where({
          all: [
            known,
            { field: 'user.created_at', op: 'before', value: '30d' },
          ],
        }),
      }),
    ).toEqual(['u2', 'u9'])
    expect(
      await ids({
        of: 'users',
        ...where({
          all: [
            known,
            {
              field: 'user.created_at',
              op: 'before',
              value: '2030-01-06T00:00:00Z',
            },
          ],
        }),
      }),
    ).toEqual(['u2', 'u3', 'u9'])
  })

  it("account fields on a list of users read the user's account", async () => {
    expect(
      await ids({
        of: 'users',
        ...where({ field: 'account.employees', op: '>', value: 100 }),
      }),
    ).toEqual(['u1', 'u2'])
  })

  it('nested all / any / not', async () => {
    expect(
      await ids(
        where({
          any: [
            { field: 'account.employees', op: '>', value: 200 },
            {
              all: [
                { field: 'account.country', op: '=', value: 'DE' },
                { field: 'account.plan', op: 'in', value: ['trial'] },
              ],
            },
          ],
        }),
      ),
    ).toEqual(['acct_a', 'acct_b'])
    expect(
      await ids(
        where({ not: { field: 'account.country', op: '=', value: 'US' } }),
      ),
    ).toEqual(['acct_b', 'acct_c'])
  })

  it("$me is the signed-in person's email", async () => {
    expect(
      await ids({
        of: 'users',
        ...where({ field: 'user.email', op: '=', value: '$me' }),
      }),
    ).toEqual(['u1'])
  })
})

describe('metrics', () => {
  it('count within a window, attributed by context.groupId or membership', async () => {
    // acct_a: u1's 01-09 and 01-08 plus u2's 01-09T23; u3's event names acct_c.
    const definition = {
      where: {
        metric: { count: 'Project Created', within: '7d' },
        op: '>=',
        value: 1,
      },
      sort: [
        { metric: { count: 'Project Created', within: '7d' }, dir: 'desc' },
      ],
      columns: [
        'account.id',
        { metric: { count: 'Project Created', within: '7d' }, as: 'projects' },
      ],
    }
    const result = await runList(
      temp.store,
      parseListDefinition({ name: 't', of: 'accounts', ...definition }, 't'),
      { asOf },
    )
    expect(result.rows).toEqual([
      { 'account.id': 'acct_a', projects: 3 },
      { 'account.id': 'acct_c', projects: 1 },
    ])
    expect(result.total).toBe(2)
  })

  it('sum of a property within 30d, ignoring older events', async () => {
    const result = await runList(
      temp.store,
      parseListDefinition(
        {
          name: 't',
          of: 'accounts',
          columns: [
            'account.id',
            {
              metric: {
                sum: 'Project Created',
                property: 'size',
                within: '30d',
              },
              as: 'size',
            },
          ],
        },
        't',
      ),
      { asOf },
    )
    expect(result.rows).toEqual([
      { 'account.id': 'acct_a', size: 9 },
      { 'account.id': 'acct_b', size: 0 },
      { 'account.id': 'acct_c', size: 2 },
    ])
  })

  it('distinct_users, users_added, active_days, first_seen and last_seen', async () => {
    const accounts = await runList(
      temp.store,
      parseListDefinition(
        {
          name: 't',
          of: 'accounts',
          columns: [
            'account.id',
            { metric: { distinct_users: 'Project Created' }, as: 'users' },
            { metric: { users_added: true, within: '7d' }, as: 'added' },
          ],
        },
        't',
      ),
      { asOf },
    )
    expect(accounts.rows).toEqual([
      { 'account.id': 'acct_a', users: 2, added: 1 },
      { 'account.id': 'acct_b', users: 0, added: 1 },
      { 'account.id': 'acct_c', users: 1, added: 0 },
    ])

    const users = await runList(
      temp.store,
      parseListDefinition(
        {
          name: 't',
          of: 'users',
          where: { field: 'user.is_anonymous', op: '=', value: false },
          columns: [
            'user.id',
            { metric: { active_days: true, within: '7d' }, as: 'days' },
            { metric: { first_seen: 'Project Created' }, as: 'first' },
            { metric: { last_seen: 'Project Created' }, as: 'last' },
          ],
        },
        't',
      ),
      { asOf },
    )
    expect(users.rows).toEqual([
      {
        'user.id': 'u1',
        days: 2,
        first: '2029-12-01T00:00:00.000Z',
        last: '2030-01-09T12:00:00.000Z',
      },
      {
        'user.id': 'u2',
        days: 1,
        first: '2030-01-09T23:00:00.000Z',
        last: '2030-01-09T23:00:00.000Z',
      },
      {
        'user.id': 'u3',
        days: 1,
        first: '2030-01-05T00:00:00.000Z',
        last: '2030-01-05T00:00:00.000Z',
      },
      { 'user.id': 'u9', days: 0, first: null, last: null },
    ])
  })

  it('a metric where on event properties', async () => {
    // u1's sizes in 30d: 5 and 3 (10 is older).
    expect(
      await ids({
        of: 'users',
        ...where({
          metric: {
            count: 'Project Created',
            within: '30d',
            where: { field: 'size', op: '>=', value: 3 },
          },
          op: '>=',
          value: 2,
        }),
      }),
    ).toEqual(['u1'])
  })

  it('a named metric declared once', async () => {
    expect(
      await ids({
        metrics: { projects: { count: 'Project Created', within: '7d' } },
        where: { metric: 'projects', op: '>', value: 2 },
      }),
    ).toEqual(['acct_a'])
  })

  it('sorts by several keys and pages with limit, counting all matches', async () => {
    const result = await runList(
      temp.store,
      parseListDefinition(
        {
          name: 't',
          of: 'accounts',
          sort: [
            { field: 'account.country', dir: 'asc' },
            { field: 'account.name', dir: 'desc' },
          ],
          columns: ['account.name'],
          limit: 2,
        },
        't',
      ),
      { asOf },
    )
    expect(result.rows).toEqual([
      { 'account.name': 'Beta' },
      { 'account.name': 'Acme' },
    ])
    expect(result.total).toBe(3)
  })
})

describe('validation', () => {
  it('names each problem with its path, and runs nothing', async () => {
    expect(
      await issuesOf({
        where: {
          all: [
            { field: 'account.employees', op: 'contains', value: 'x' },
            { field: 'account.nope', op: '=', value: 1 },
            { metric: { count: 'E', within: '30 days' }, op: '>', value: 1 },
            { field: 'user.email', op: '=', value: 'a' },
          ],
        },
      }),
    ).toEqual([['LIST_DURATION_INVALID', 'where.all[2].metric.within']])
    expect(
      await issuesOf({
        where: {
          all: [
            { field: 'account.employees', op: 'contains', value: 'x' },
            { field: 'account.nope', op: '=', value: 1 },
            { field: 'user.email', op: '=', value: 'a' },
            { field: 'account.employees', op: '>', value: 'many' },
          ],
        },
      }),
    ).toEqual([
      ['LIST_OPERATOR_TYPE', 'where.all[0].op'],
      ['LIST_FIELD_UNKNOWN', 'where.all[1].field'],
      ['LIST_FIELD_NOT_APPLICABLE', 'where.all[2].field'],
      ['LIST_VALUE_INVALID', 'where.all[3].value'],
    ])
  })

  it('treats names of JavaScript built-ins as unknown fields', async () => {
    expect(
      await issuesOf({
        where: {
          all: [
            { field: 'account.toString', op: 'exists' },
            { field: 'crm.owner.constructor', op: 'exists' },
          ],
        },
      }),
    ).toEqual([
      ['LIST_FIELD_UNKNOWN', 'where.all[0].field'],
      ['LIST_FIELD_UNKNOWN', 'where.all[1].field'],
    ])
  })

  it('refuses windows past a century, mixed condition forms, deep nesting and non-decimal numbers', async () => {
    let deep: Record<string, unknown> = { field: 'account.name', op: 'exists' }
    for (let level = 0; level < 100; level++) deep = { not: deep }
    expect(
      await issuesOf({
        where: {
          all: [
            { field: 'account.created_at', op: 'within', value: '1000000000d' },
            { all: [], any: [] },
            { field: 'account.employees', op: '>', value: '0x10' },
            { field: 'account.employees', op: 'between', value: [null, 5] },
          ],
        },
        sort: [{ field: 123 }],
      }),
    ).toEqual([
      ['LIST_DURATION_INVALID', 'where.all[0].value'],
      ['LIST_DEFINITION_INVALID', 'where.all[1]'],
      ['LIST_FIELD_UNKNOWN', 'sort[0].field'],
    ])
    expect(
      await issuesOf({
        where: { field: 'account.created_at', op: 'before', value: '36600d' },
      }),
    ).toEqual([['LIST_DURATION_INVALID', 'where.value']])
    expect((await issuesOf({ where: deep }))[0]?.[0]).toBe(
      'LIST_DEFINITION_INVALID',
    )
    expect(
      await issuesOf({
        where: {
          all: [
            { field: 'account.employees', op: '>', value: '0x10' },
            { field: 'account.employees', op: 'between', value: [null, 5] },
          ],
        },
      }),
    ).toEqual([
      ['LIST_VALUE_INVALID', 'where.all[0].value'],
      ['LIST_VALUE_INVALID', 'where.all[1].value'],
    ])
  })

  it('reads null as "no value" in =, != and in lists', async () => {
    expect(
      await ids(where({ field: 'account.country', op: '=', value: null })),
    ).toEqual(['acct_c'])
    expect(
      await ids(where({ field: 'account.country', op: '!=', value: null })),
    ).toEqual(['acct_a', 'acct_b'])
    expect(
      await ids(
        where({ field: 'account.country', op: 'in', value: [null, 'DE'] }),
      ),
    ).toEqual(['acct_b', 'acct_c'])
    expect(
      await ids(
        where({ field: 'account.country', op: 'not_in', value: [null, 'DE'] }),
      ),
    ).toEqual(['acct_a'])
  })

  it('needs a signed-in person for $me', async () => {
    expect(
      await issuesOf({
        where: { field: 'account.name', op: '=', value: '$me' },
      }),
    ).toEqual([['LIST_ME_UNBOUND', 'where.value']])
  })

  it('rejects an unknown operator and a malformed definition', async () => {
    expect(
      await issuesOf({
        where: { field: 'account.name', op: 'like', value: 'x' },
      }),
    ).toEqual([['LIST_OPERATOR_UNKNOWN', 'where.op']])
    expect(await issuesOf({ of: 'leads' })).toEqual([
      ['LIST_DEFINITION_INVALID', 'of'],
    ])
  })
})

describe('compiled SQL', () => {
  it('binds every value and property name as a parameter: the SQL shape never changes', async () => {
    const hostile = `x'); DROP TABLE users; --"`
    const compile = (value: string, name: string) =>
      compileListForStore(
        temp.store,
        parseListDefinition(
          {
            name: 't',
            of: 'accounts',
            where: {
              all: [
                { field: 'account.name', op: '=', value },
                {
                  metric: {
                    count: name,
                    within: '7d',
                    where: { field: name, op: '=', value },
                  },
                  op: '>',
                  value: 0,
                },
              ],
            },
          },
          't',
        ),
        { asOf },
      )

    const plain = await compile('Acme', 'Project Created')
    const attacked = await compile(hostile, hostile)
    expect(attacked.sql).toBe(plain.sql)
    expect(attacked.sql).not.toContain('DROP TABLE')
    expect(attacked.params).toContain(hostile)
    expect(attacked.params).toContain(temp.store.sql.jsonPath([hostile]))
    const rows = await temp.store.query(attacked.sql, attacked.params)
    expect(rows).toEqual([])
    expect(await temp.store.query('SELECT count(*) AS n FROM users')).toEqual([
      { n: 5 },
    ])
  })

  it('compiles a windowed count to a grouped subquery with the window bounds as parameters', async () => {
    const compiled = await compileListForStore(
      temp.store,
      parseListDefinition(
        {
          name: 't',
          of: 'accounts',
          where: {
            metric: { count: 'Project Created', within: '7d' },
            op: '>=',
            value: 2,
          },
        },
        't',
      ),
      { asOf },
    )
    expect(compiled.sql).toContain("e.type = 'track'")
    expect(compiled.sql).toContain('count(*) AS value')
    expect(compiled.sql).toContain('UNION ALL')
    expect(compiled.params).toEqual(
      expect.arrayContaining([
        asOf,
        new Date('2030-01-03T00:00:00Z'),
        'Project Created',
        2,
      ]),
    )
    expect(compiled.columns).toEqual(['account.id', 'account.name'])
  })
})

describe('attribution (DESIGN.md section 4)', () => {
  it("counts a user's events before and after their group call for the account", async () => {
    const store = await openTempStore()
    try {
      const raw = [
        {
          type: 'track',
          event: 'Clicked',
          userId: 'u_1',
          timestamp: '2030-01-01T00:00:00Z',
        },
        {
          type: 'group',
          userId: 'u_1',
          groupId: 'acct_77',
          timestamp: '2030-01-02T00:00:00Z',
        },
        {
          type: 'track',
          event: 'Clicked',
          userId: 'u_1',
          timestamp: '2030-01-03T00:00:00Z',
        },
      ]
      const messages = raw.map((message, index) => {
        const result = normalizeMessage(
          { ...message, messageId: `c5-${index}` },
          { sourceId: 'test', receivedAt: new Date('2030-02-01T00:00:00Z') },
        )
        if (!result.ok) throw new Error('fixture')
        return result.message
      })
      await writeMessages(store.store, messages)
      const definition = parseListDefinition(
        {
          name: 't',
          of: 'accounts',
          columns: [
            'account.id',
            { metric: { count: 'Clicked' }, as: 'clicks' },
          ],
        },
        't',
      )

      expect((await runList(store.store, definition, { asOf })).rows).toEqual([
        { 'account.id': 'acct_77', clicks: 2 },
      ])
    } finally {
      await store.dispose()
    }
  })

  it('keeps a user created before asOf whose first event came after it', async () => {
    const store = await openTempStore()
    try {
      await store.store.execute(
        `INSERT INTO users (user_id, is_anonymous, created_at, first_seen_at, updated_at)
         VALUES ('old', false, '2023-01-01T00:00:00Z', '2031-01-01T00:00:00Z', now()),
                ('new', false, '2031-01-01T00:00:00Z', '2031-01-01T00:00:00Z', now()),
                ('seen', false, NULL, '2029-01-01T00:00:00Z', now())`,
      )
      const definition = parseListDefinition(
        { name: 't', of: 'users', columns: ['user.id'] },
        't',
      )
      expect((await runList(store.store, definition, { asOf })).rows).toEqual([
        { 'user.id': 'old' },
        { 'user.id': 'seen' },
      ])
    } finally {
      await store.dispose()
    }
  })
})
