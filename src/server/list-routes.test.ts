import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { loadListFixture } from '../../test/support/list-fixture.js'
import { openTempStore } from '../../test/support/temp-store.js'
import { createApp } from './create-app.js'
import { addPerson } from './people.js'

import type { TempStore } from '../../test/support/temp-store.js'
import type { LeadlensApp } from './create-app.js'

let temp: TempStore
let leadlens: LeadlensApp
let rita: Record<string, string>
let sam: Record<string, string>
let mia: Record<string, string>

beforeAll(async () => {
  temp = await openTempStore()
  await loadListFixture(temp.store)
  leadlens = createApp(temp.store)
  rita = {
    authorization: `Bearer ${await addPerson(temp.store, 'rita@example.com', 'rep')}`,
  }
  sam = {
    authorization: `Bearer ${await addPerson(temp.store, 'sam@example.com', 'rep')}`,
  }
  mia = {
    authorization: `Bearer ${await addPerson(temp.store, 'mia@example.com', 'manager')}`,
  }
})
afterAll(async () => {
  await leadlens.app.close()
  await temp.dispose()
})

const myAccounts = {
  name: 'My accounts',
  of: 'accounts',
  where: { field: 'crm.owner.email', op: '=', value: '$me' },
  sort: [{ field: 'account.employees', dir: 'desc' }],
  columns: ['account.id', 'account.employees'],
}

const request = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  headers: Record<string, string>,
  payload?: unknown,
) =>
  leadlens.app.inject({
    method,
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  })

describe('list API', () => {
  it('refuses every /api route without a valid token, but serves the OpenAPI document', async () => {
    expect((await request('GET', '/api/lists', {})).statusCode).toBe(401)
    expect(
      (
        await request('GET', '/api/stats', {
          authorization: 'Bearer llt_wrong',
        })
      ).statusCode,
    ).toBe(401)
    // Encoded paths reach the same routes and the same check.
    expect((await request('GET', '/%61pi/lists', {})).statusCode).toBe(401)
    expect(
      (await request('POST', '/%61%70%69/lists/preview', {}, { of: 'users' }))
        .statusCode,
    ).toBe(401)
    expect((await request('GET', '/health', {})).json()).toEqual({
      ok: true,
      ingestBacklog: 0,
    })
    const openapi = await request('GET', '/api/openapi.json', {})
    expect(openapi.statusCode).toBe(200)
    expect(Object.keys(openapi.json().paths)).toContain(
      '/api/lists/{name}/rows',
    )
  })

  it('saves a list, and each rep reading it sees only the accounts they own', async () => {
    const created = await request(
      'PUT',
      '/api/lists/My%20accounts',
      mia,
      myAccounts,
    )
    expect(created.statusCode).toBe(201)

    const forRita = await request(
      'GET',
      '/api/lists/My%20accounts/rows?asOf=2030-02-01T00:00:00Z',
      rita,
    )
    expect(forRita.json().rows).toEqual([
      { 'account.id': 'acct_a', 'account.employees': 250 },
      { 'account.id': 'acct_c', 'account.employees': 100 },
    ])
    const forSam = await request(
      'GET',
      '/api/lists/My%20accounts/rows?asOf=2030-02-01T00:00:00Z',
      sam,
    )
    expect(forSam.json().rows).toEqual([
      { 'account.id': 'acct_b', 'account.employees': 40 },
    ])

    const exported = await request(
      'GET',
      '/api/lists/My%20accounts/export.csv?asOf=2030-02-01T00:00:00Z',
      sam,
    )
    expect(exported.headers['content-type']).toContain('text/csv')
    expect(exported.body).toBe('account.id,account.employees\nacct_b,40\n')
  })

  it('pages with a cursor that pins asOf, then says there is no next page', async () => {
    await request('PUT', '/api/lists/All%20accounts', mia, {
      name: 'ignored',
      of: 'accounts',
      columns: ['account.id'],
    })
    const first = (
      await request(
        'GET',
        '/api/lists/All%20accounts/rows?limit=2&asOf=2030-02-01T00:00:00Z',
        mia,
      )
    ).json()
    expect(first.rows).toEqual([
      { 'account.id': 'acct_a' },
      { 'account.id': 'acct_b' },
    ])
    expect(first.total).toBe(3)

    const second = (
      await request(
        'GET',
        `/api/lists/All%20accounts/rows?limit=2&cursor=${first.nextCursor}`,
        mia,
      )
    ).json()
    expect(second.rows).toEqual([{ 'account.id': 'acct_c' }])
    expect(second.asOf).toBe('2030-02-01T00:00:00.000Z')
    expect(second.nextCursor).toBeNull()
  })

  it('shows a rep only the accounts they own through every list route', async () => {
    await request('PUT', '/api/lists/Everyone', mia, {
      name: 'x',
      of: 'accounts',
      columns: ['account.id'],
    })
    const asOf = 'asOf=2030-02-01T00:00:00Z'
    const rows = (
      await request('GET', `/api/lists/Everyone/rows?${asOf}`, rita)
    ).json()
    expect(rows.rows).toEqual([
      { 'account.id': 'acct_a' },
      { 'account.id': 'acct_c' },
    ])
    expect(rows.total).toBe(2)
    const exported = await request(
      'GET',
      `/api/lists/Everyone/export.csv?${asOf}`,
      sam,
    )
    expect(exported.body).toBe('account.id\nacct_b\n')
    // Naming another rep in a filter does not get around it.
    const preview = await request('POST', '/api/lists/preview', rita, {
      definition: {
        name: 'p',
        of: 'accounts',
        where: { field: 'crm.owner.email', op: '=', value: 'sam@example.com' },
      },
      asOf: '2030-02-01T00:00:00Z',
    })
    expect(preview.json().count).toBe(0)
    expect((await request('GET', '/api/stats', rita)).statusCode).toBe(403)
    expect((await request('GET', '/api/stats', mia)).statusCode).toBe(200)
  })

  it('previews an unsaved definition with a count and the first rows', async () => {
    const preview = await request('POST', '/api/lists/preview', mia, {
      definition: {
        name: 'p',
        of: 'accounts',
        where: { field: 'account.employees', op: '>=', value: 100 },
        columns: ['account.name'],
      },
      asOf: '2030-02-01T00:00:00Z',
      limit: 1,
    })
    expect(preview.json()).toMatchObject({
      count: 2,
      rows: [{ 'account.name': 'Acme' }],
    })
  })

  it('answers 400 with every issue for a bad definition and 404 for an unknown list', async () => {
    const bad = await request('POST', '/api/lists', mia, {
      name: 'bad',
      of: 'accounts',
      where: { field: 'account.nope', op: 'like', value: 1 },
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().issues).toEqual([
      expect.objectContaining({
        code: 'LIST_OPERATOR_UNKNOWN',
        path: 'where.op',
      }),
    ])
    expect(
      (await request('GET', '/api/lists/nope/rows', rita)).statusCode,
    ).toBe(404)
    expect(
      (
        await request(
          'GET',
          '/api/lists/All%20accounts/rows?cursor=garbage',
          rita,
        )
      ).statusCode,
    ).toBe(400)
  })

  it('lets managers delete a list, and reps change nothing', async () => {
    await request('POST', '/api/lists', mia, {
      name: 'temporary',
      of: 'users',
    })
    expect(
      (await request('POST', '/api/lists', rita, { name: 'mine', of: 'users' }))
        .statusCode,
    ).toBe(403)
    expect(
      (await request('DELETE', '/api/lists/temporary', rita)).statusCode,
    ).toBe(403)
    expect(
      (await request('DELETE', '/api/lists/temporary', mia)).statusCode,
    ).toBe(204)
    expect(
      (await request('GET', '/api/lists/temporary', rita)).statusCode,
    ).toBe(404)
  })
})
