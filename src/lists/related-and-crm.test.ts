/**
 * CRM fields, `$me` and related collections on a real DuckDB file; the
 * fixture (test/support/list-fixture.ts) says who owns what.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { loadListFixture } from '../../test/support/list-fixture.js'
import { openTempStore } from '../../test/support/temp-store.js'
import { ListError } from './list-error.js'
import { parseListDefinition } from './read-list-definition.js'
import { runList } from './run-list.js'

import type { TempStore } from '../../test/support/temp-store.js'

const asOf = new Date('2030-02-01T00:00:00Z')
let temp: TempStore

beforeAll(async () => {
  temp = await openTempStore()
  await loadListFixture(temp.store)
})
afterAll(async () => {
  await temp.dispose()
})

async function rows(definition: Record<string, unknown>, me?: string) {
  const parsed = parseListDefinition(
    { name: 't', of: 'accounts', ...definition },
    't',
  )
  return (await runList(temp.store, parsed, { asOf, ...(me ? { me } : {}) }))
    .rows
}

const myAccounts = {
  where: { field: 'crm.owner.email', op: '=', value: '$me' },
  columns: ['account.id', 'crm.company.id', 'crm.owner.name'],
}

describe('CRM fields', () => {
  it('shows each rep only the accounts whose CRM owner they are, matching owner emails without case', async () => {
    expect(await rows(myAccounts, 'rita@example.com')).toEqual([
      {
        'account.id': 'acct_a',
        'crm.company.id': 'C-A',
        'crm.owner.name': 'Rita',
      },
      {
        'account.id': 'acct_c',
        'crm.company.id': 'C-C',
        'crm.owner.name': 'Rita',
      },
    ])
    // Beta's company is found by its domain (www.beta.example is beta.example).
    expect(await rows(myAccounts, 'SAM@example.com')).toEqual([
      {
        'account.id': 'acct_b',
        'crm.company.id': 'C-B',
        'crm.owner.name': 'Sam',
      },
    ])
    expect(await rows(myAccounts, 'nobody@example.com')).toEqual([])
  })

  it('compares emails typed in any case', async () => {
    expect(
      await rows({
        where: { field: 'crm.owner.email', op: '=', value: 'Rita@EXAMPLE.com' },
        columns: ['account.id'],
      }),
    ).toEqual([{ 'account.id': 'acct_a' }, { 'account.id': 'acct_c' }])
    const users = parseListDefinition(
      {
        name: 't',
        of: 'users',
        where: { field: 'user.email', op: 'in', value: ['ANN@acme.example'] },
        columns: ['user.id'],
      },
      't',
    )
    expect((await runList(temp.store, users, { asOf })).rows).toEqual([
      { 'user.id': 'ann' },
    ])
  })

  it('reads CRM company properties', async () => {
    expect(
      await rows({
        where: {
          field: 'crm.company.tier',
          op: 'in',
          value: ['gold', 'bronze'],
        },
        columns: ['account.id'],
      }),
    ).toEqual([{ 'account.id': 'acct_a' }, { 'account.id': 'acct_c' }])
  })

  it("on a list of users, finds the contact by email and its owner before the account's", async () => {
    const parsed = parseListDefinition(
      {
        name: 't',
        of: 'users',
        columns: [
          'user.id',
          'crm.contact.id',
          'crm.contact.lifecycle',
          'crm.owner.email',
        ],
      },
      't',
    )
    expect((await runList(temp.store, parsed, { asOf })).rows).toEqual([
      // Ann's contact is owned by rep2, though her account's company is rep1's.
      {
        'user.id': 'ann',
        'crm.contact.id': 'K1',
        'crm.contact.lifecycle': 'sql',
        'crm.owner.email': 'sam@example.com',
      },
      {
        'user.id': 'ben',
        'crm.contact.id': null,
        'crm.contact.lifecycle': null,
        'crm.owner.email': 'rita@example.com',
      },
      {
        'user.id': 'cy',
        'crm.contact.id': 'K2',
        'crm.contact.lifecycle': 'lead',
        'crm.owner.email': 'sam@example.com',
      },
      {
        'user.id': 'zed',
        'crm.contact.id': null,
        'crm.contact.lifecycle': null,
        'crm.owner.email': 'rita@example.com',
      },
    ])
  })
})

describe('related collections', () => {
  const ids = async (condition: unknown) =>
    (await rows({ where: condition, columns: ['account.id'] })).map(
      (row) => row['account.id'],
    )

  it("any deal (the default) matches by the account's own or its company's deals", async () => {
    expect(
      await ids({
        related: 'crm.deals',
        where: { field: 'stage', op: '=', value: 'Won' },
      }),
    ).toEqual(['acct_a', 'acct_b'])
  })

  it('all deals, none of them, and how many', async () => {
    expect(
      await ids({
        related: 'crm.deals',
        match: 'all',
        where: { field: 'amount', op: '>=', value: 100 },
      }),
    ).toEqual(['acct_a', 'acct_b'])
    expect(
      await ids({
        related: 'crm.deals',
        match: 'none',
        where: { field: 'stage', op: '=', value: 'Lost' },
      }),
    ).toEqual(['acct_b', 'acct_c'])
    expect(
      await ids({ related: 'crm.deals', count: { op: '>=', value: 2 } }),
    ).toEqual(['acct_a'])
  })

  it("the account's users and CRM contacts", async () => {
    expect(
      await ids({
        related: 'users',
        where: { field: 'title', op: '=', value: 'CTO' },
      }),
    ).toEqual(['acct_a'])
    expect(
      await ids({
        related: 'crm.contacts',
        where: { field: 'lifecycle', op: '=', value: 'lead' },
      }),
    ).toEqual(['acct_b'])
  })

  it('reports an unknown collection and an unknown field inside one with their paths', async () => {
    try {
      await rows({
        where: {
          all: [
            { related: 'crm.tickets' },
            {
              related: 'crm.deals',
              where: { field: 'stagee', op: '=', value: 'Won' },
            },
          ],
        },
      })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ListError)
      expect((error as ListError).issues.map((i) => [i.code, i.path])).toEqual([
        ['LIST_FIELD_UNKNOWN', 'where.all[0].related'],
        ['LIST_FIELD_UNKNOWN', 'where.all[1].where.field'],
      ])
    }
  })
})
