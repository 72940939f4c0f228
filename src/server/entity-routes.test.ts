import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { loadListFixture } from '../../test/support/list-fixture.js'
import { openTempStore } from '../../test/support/temp-store.js'
import { createApp } from './create-app.js'
import { addPerson } from './people.js'

import type { TempStore } from '../../test/support/temp-store.js'
import type { LeadlensApp } from './create-app.js'

let temp: TempStore
let leadlens: LeadlensApp
let admin: Record<string, string>
let sam: Record<string, string>

beforeAll(async () => {
  temp = await openTempStore()
  await loadListFixture(temp.store)
  leadlens = createApp(temp.store)
  admin = {
    authorization: `Bearer ${await addPerson(temp.store, 'ops@example.com', 'admin')}`,
  }
  sam = {
    authorization: `Bearer ${await addPerson(temp.store, 'sam@example.com', 'rep')}`,
  }
})
afterAll(async () => {
  await leadlens.app.close()
  await temp.dispose()
})

const get = (url: string, headers: Record<string, string>) =>
  leadlens.app.inject({ method: 'GET', url, headers })

describe('entity pages', () => {
  it('show an account with its CRM company, owner, deals and users', async () => {
    const response = await get(
      '/api/entities/accounts/acct_a?asOf=2030-02-01T00:00:00Z',
      admin,
    )
    expect(response.statusCode).toBe(200)
    const page = response.json()
    expect(page.profile).toMatchObject({ account_id: 'acct_a', name: 'Acme' })
    expect(page.crm.company).toEqual({ id: 'C-A', name: 'Acme Inc' })
    expect(page.crm.owner).toEqual({
      id: 'rep1',
      email: 'rita@example.com',
      name: 'Rita',
    })
    expect(
      page.crm.deals.map((d: { deal_id: string }) => d.deal_id).sort(),
    ).toEqual(['D1', 'D2'])
    expect(
      page.users.map((u: { user_id: string }) => u.user_id).sort(),
    ).toEqual(['ann', 'ben'])
  })

  it("show a user with their account and their contact's owner", async () => {
    const page = (
      await get('/api/entities/users/ann?asOf=2030-02-01T00:00:00Z', admin)
    ).json()
    expect(
      page.accounts.map((a: { account_id: string }) => a.account_id),
    ).toEqual(['acct_a'])
    expect(page.crm.contact).toEqual({ id: 'K1' })
    expect(page.crm.owner.email).toBe('sam@example.com')
  })

  it("answer 404 for what does not exist at asOf, and for a rep's accounts of others", async () => {
    expect(
      (
        await get(
          '/api/entities/accounts/acct_a?asOf=2020-01-01T00:00:00Z',
          admin,
        )
      ).statusCode,
    ).toBe(404)
    expect(
      (
        await get(
          '/api/entities/accounts/acct_a?asOf=2030-02-01T00:00:00Z',
          sam,
        )
      ).statusCode,
    ).toBe(404)
    expect(
      (
        await get(
          '/api/entities/accounts/acct_b?asOf=2030-02-01T00:00:00Z',
          sam,
        )
      ).statusCode,
    ).toBe(200)
    expect((await get('/api/entities/teams/x', admin)).statusCode).toBe(404)
  })
})
