import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { writeWorkspaceSetting } from '../store/workspace-settings.js'
import { normalizeMessage } from './normalize-message.js'
import { writeMessages } from './write-messages.js'

import type { TempStore } from '../../test/support/temp-store.js'
import type { NormalizedMessage } from './normalize-message.js'

let temp: TempStore
beforeEach(async () => {
  temp = await openTempStore()
})
afterEach(async () => {
  await temp.dispose()
})

function message(
  raw: Record<string, unknown>,
  sourceId = 'web',
): NormalizedMessage {
  const result = normalizeMessage(raw, {
    sourceId,
    receivedAt: new Date('2030-01-01T00:00:00Z'),
  })
  if (!result.ok) throw new Error(JSON.stringify(result.issues))
  return result.message
}

let sequence = 0
const track = (extra: Record<string, unknown>) =>
  message({
    type: 'track',
    event: 'Clicked',
    timestamp: '2029-12-01T00:00:00Z',
    messageId: `m${++sequence}`,
    ...extra,
  })

describe('writeMessages', () => {
  it('stores a message sent twice with the same messageId once, counting one duplicate', async () => {
    const first = await writeMessages(temp.store, [
      track({ userId: 'u1', messageId: 'ord-9001-paid' }),
    ])
    const again = await writeMessages(temp.store, [
      track({ userId: 'u1', messageId: 'ord-9001-paid' }),
    ])

    expect(first).toMatchObject({ stored: 1, duplicates: 0 })
    expect(again).toMatchObject({ stored: 0, duplicates: 1 })
    const rows = await temp.store.query('SELECT count(*) AS n FROM events')
    expect(rows[0]?.n).toBe(1)
  })

  it('counts a duplicate inside one batch once', async () => {
    const summary = await writeMessages(temp.store, [
      track({ userId: 'u1', messageId: 'same' }),
      track({ userId: 'u1', messageId: 'same' }),
    ])
    expect(summary).toMatchObject({ stored: 1, duplicates: 1 })
  })

  it('keeps the same messageId apart for two sources', async () => {
    const summary = await writeMessages(temp.store, [
      message(
        { type: 'track', event: 'E', userId: 'u1', messageId: 'x' },
        'web',
      ),
      message(
        { type: 'track', event: 'E', userId: 'u1', messageId: 'x' },
        'ios',
      ),
    ])
    expect(summary).toMatchObject({ stored: 2, duplicates: 0 })
  })

  it("moves a visitor's history to the user on identify, across batches", async () => {
    await writeMessages(temp.store, [
      track({ anonymousId: 'anon-1' }),
      track({ anonymousId: 'anon-1' }),
    ])
    await writeMessages(temp.store, [
      message({
        type: 'identify',
        userId: 'u1',
        anonymousId: 'anon-1',
        messageId: 'id1',
        traits: { email: 'Ann@Example.COM' },
      }),
    ])
    await writeMessages(temp.store, [track({ anonymousId: 'anon-1' })])

    const persons = await temp.store.query(
      'SELECT DISTINCT person_id FROM events',
    )
    expect(persons).toEqual([{ person_id: 'u1' }])
    const users = await temp.store.query(
      'SELECT user_id, is_anonymous, email FROM users',
    )
    expect(users).toEqual([
      { user_id: 'u1', is_anonymous: false, email: 'ann@example.com' },
    ])
  })

  it('links a visitor identified in the same batch as its earlier events', async () => {
    await writeMessages(temp.store, [
      track({ anonymousId: 'anon-2' }),
      message({
        type: 'identify',
        userId: 'u2',
        anonymousId: 'anon-2',
        messageId: 'id2',
      }),
    ])
    const persons = await temp.store.query(
      'SELECT DISTINCT person_id FROM events',
    )
    expect(persons).toEqual([{ person_id: 'u2' }])
    const users = await temp.store.query('SELECT count(*) AS n FROM users')
    expect(users[0]?.n).toBe(1)
  })

  it('refuses to alias two identified users into one, and keeps the message', async () => {
    await writeMessages(temp.store, [
      message({ type: 'identify', userId: 'u1', messageId: 'a' }),
      message({ type: 'identify', userId: 'u2', messageId: 'b' }),
    ])
    const summary = await writeMessages(temp.store, [
      message({
        type: 'alias',
        previousId: 'u1',
        userId: 'u2',
        messageId: 'c',
      }),
    ])

    expect(summary.stored).toBe(1)
    expect(summary.warnings.map((w) => w.code)).toEqual([
      'INGEST_ALIAS_REFUSED',
    ])
    const users = await temp.store.query(
      'SELECT user_id FROM users ORDER BY user_id',
    )
    expect(users).toEqual([{ user_id: 'u1' }, { user_id: 'u2' }])
  })

  it('aliases a visitor to a user', async () => {
    await writeMessages(temp.store, [track({ anonymousId: 'anon-3' })])
    await writeMessages(temp.store, [
      message({
        type: 'alias',
        previousId: 'anon-3',
        userId: 'u3',
        messageId: 'al',
      }),
    ])
    const persons = await temp.store.query(
      "SELECT DISTINCT person_id FROM events WHERE type = 'track'",
    )
    expect(persons).toEqual([{ person_id: 'u3' }])
  })

  it('makes a membership and account traits from a group call, keeping its start', async () => {
    await writeMessages(temp.store, [
      message({
        type: 'group',
        userId: 'u1',
        groupId: 'acct_77',
        timestamp: '2029-05-01T00:00:00Z',
        traits: { name: 'Acme', employees: 120 },
        messageId: 'g1',
      }),
      message({
        type: 'group',
        userId: 'u1',
        groupId: 'acct_77',
        timestamp: '2029-06-01T00:00:00Z',
        traits: { plan: 'team' },
        messageId: 'g2',
      }),
    ])
    const accounts = await temp.store.query(
      'SELECT account_id, name, traits FROM accounts',
    )
    expect(accounts).toHaveLength(1)
    expect(accounts[0]?.name).toBe('Acme')
    expect(JSON.parse(String(accounts[0]?.traits))).toEqual({
      name: 'Acme',
      employees: 120,
      plan: 'team',
    })
    const memberships = await temp.store.query(
      'SELECT user_id, account_id, started_at FROM memberships',
    )
    expect(memberships).toEqual([
      {
        user_id: 'u1',
        account_id: 'acct_77',
        started_at: '2029-05-01T00:00:00.000Z',
      },
    ])
  })

  it('coerces a number sent later as "7" and keeps an uncoercible value raw, reporting it', async () => {
    await writeMessages(temp.store, [
      track({ userId: 'u1', properties: { seats: 3 } }),
    ])
    const summary = await writeMessages(temp.store, [
      track({ userId: 'u1', properties: { seats: '7' } }),
      track({ userId: 'u1', properties: { seats: 'many' } }),
    ])

    expect(summary.warnings).toHaveLength(1)
    expect(summary.warnings[0]).toMatchObject({
      code: 'INGEST_PROPERTY_TYPE_MISMATCH',
      path: 'properties.seats',
    })
    const { sql } = temp.store
    const rows = await temp.store.query(
      `SELECT ${sql.jsonValue('properties', '$1')} AS seats FROM events
       ORDER BY timestamp, message_id`,
      [sql.jsonPath(['seats'])],
    )
    expect(rows.map((r) => r.seats).sort()).toEqual(['"many"', '3', '7'])
  })
})

describe('writeMessages: accounts by email domain', () => {
  const identify = (userId: string, email: string) =>
    message({
      type: 'identify',
      userId,
      messageId: `id-${userId}`,
      traits: { email },
    })

  it('puts people on the account of their registrable domain, never a free-mail one', async () => {
    await writeWorkspaceSetting(
      temp.store,
      'match_accounts_by_email_domain',
      'true',
    )
    await writeMessages(temp.store, [
      identify('ann', 'ann@email.acme-corp.example'),
      identify('ben', 'ben@acme-corp.co.uk'),
      identify('cy', 'cy@gmail.com'),
    ])
    await writeMessages(temp.store, [identify('dee', 'dee@ACME-CORP.example')])

    const rows = await temp.store.query(
      'SELECT user_id, account_id FROM memberships ORDER BY user_id',
    )
    expect(rows).toEqual([
      { user_id: 'ann', account_id: 'acme-corp.example' },
      { user_id: 'ben', account_id: 'acme-corp.co.uk' },
      { user_id: 'dee', account_id: 'acme-corp.example' },
    ])
    expect(
      await temp.store.query('SELECT email FROM users WHERE user_id = $1', [
        'dee',
      ]),
    ).toEqual([{ email: 'dee@acme-corp.example' }])
  })

  it('joins the existing account that has the domain', async () => {
    await writeWorkspaceSetting(
      temp.store,
      'match_accounts_by_email_domain',
      'true',
    )
    await writeMessages(temp.store, [
      message({
        type: 'group',
        userId: 'x',
        groupId: 'acct_9',
        messageId: 'g',
        traits: { website: 'https://www.acme-corp.example' },
      }),
    ])
    await writeMessages(temp.store, [identify('eve', 'eve@acme-corp.example')])

    expect(
      await temp.store.query(
        "SELECT account_id FROM memberships WHERE user_id = 'eve'",
      ),
    ).toEqual([{ account_id: 'acct_9' }])
  })

  it('makes no membership from an email when the setting is off', async () => {
    await writeMessages(temp.store, [identify('fay', 'fay@acme-corp.example')])
    expect(
      await temp.store.query('SELECT count(*) AS n FROM memberships'),
    ).toEqual([{ n: 0 }])
  })
})

describe('writeMessages: identity chains', () => {
  it('follows anon -> u1 -> u2 made in one batch, keeping history and memberships', async () => {
    await writeMessages(temp.store, [
      message({
        type: 'track',
        event: 'E',
        anonymousId: 'a',
        messageId: 'c1',
        timestamp: '2029-12-01T00:00:00Z',
      }),
      message({
        type: 'group',
        anonymousId: 'a',
        groupId: 'acct1',
        messageId: 'c2',
        timestamp: '2029-12-01T00:00:00Z',
      }),
    ])
    await writeMessages(temp.store, [
      message({
        type: 'identify',
        anonymousId: 'a',
        userId: 'u1',
        messageId: 'c3',
      }),
      message({
        type: 'alias',
        previousId: 'u1',
        userId: 'u2',
        messageId: 'c4',
      }),
    ])
    await writeMessages(temp.store, [
      message({ type: 'track', event: 'E', anonymousId: 'a', messageId: 'c5' }),
    ])

    expect(
      await temp.store.query(
        "SELECT DISTINCT person_id FROM events WHERE type = 'track'",
      ),
    ).toEqual([{ person_id: 'u2' }])
    expect(
      await temp.store.query('SELECT user_id, account_id FROM memberships'),
    ).toEqual([{ user_id: 'u2', account_id: 'acct1' }])
    expect(
      await temp.store.query('SELECT user_id, is_anonymous FROM users'),
    ).toEqual([{ user_id: 'u2', is_anonymous: false }])
    expect(
      await temp.store.query(
        'SELECT alias_id, user_id FROM identities ORDER BY alias_id',
      ),
    ).toEqual([
      { alias_id: 'a', user_id: 'u2' },
      { alias_id: 'u1', user_id: 'u2' },
    ])
  })
})

describe('writeMessages: the same messages in one batch or several', () => {
  // A visitor identified as u1, then identified again as u2 (a shared
  // device): identify never merges two identified users, in one batch or
  // across batches; the visitor stays with u1.
  const messages = () => [
    message({
      type: 'track',
      event: 'x',
      userId: 'u1',
      messageId: 's1',
      timestamp: '2029-11-10T10:00:00Z',
    }),
    message({
      type: 'identify',
      anonymousId: 'a3',
      userId: 'u1',
      messageId: 's2',
      timestamp: '2029-11-11T10:00:00Z',
    }),
    message({
      type: 'identify',
      anonymousId: 'a3',
      userId: 'u2',
      messageId: 's3',
      timestamp: '2029-11-12T10:00:00Z',
    }),
    message({
      type: 'group',
      userId: 'u2',
      groupId: 'c1',
      messageId: 's4',
      timestamp: '2029-11-13T10:00:00Z',
    }),
  ]
  const people = async () => ({
    users: await temp.store.query(
      'SELECT user_id, is_anonymous FROM users ORDER BY user_id',
    ),
    identities: await temp.store.query(
      'SELECT alias_id, user_id FROM identities ORDER BY alias_id',
    ),
    memberships: await temp.store.query(
      'SELECT user_id, account_id FROM memberships',
    ),
    events: await temp.store.query(
      "SELECT person_id FROM events WHERE type = 'track'",
    ),
  })
  const expected = {
    users: [
      { user_id: 'u1', is_anonymous: false },
      { user_id: 'u2', is_anonymous: false },
    ],
    identities: [{ alias_id: 'a3', user_id: 'u1' }],
    memberships: [{ user_id: 'u2', account_id: 'c1' }],
    events: [{ person_id: 'u1' }],
  }

  it('keeps two identified users apart in one batch', async () => {
    await writeMessages(temp.store, messages())
    expect(await people()).toEqual(expected)
  })

  it('keeps them apart when the second identify comes in a later batch', async () => {
    const all = messages()
    await writeMessages(temp.store, all.slice(0, 2))
    await writeMessages(temp.store, all.slice(2))
    expect(await people()).toEqual(expected)
  })

  it('keeps them apart one message a batch', async () => {
    for (const one of messages()) await writeMessages(temp.store, [one])
    expect(await people()).toEqual(expected)
  })
})

describe('writeMessages: traits', () => {
  const identify = (id: string, traits: Record<string, unknown>) =>
    message({ type: 'identify', userId: 'u', messageId: id, traits })

  it('ends with the same traits whether two identify calls come in one batch or two', async () => {
    await writeMessages(temp.store, [
      identify('t1', { plan: 'pro', nested: { a: 1, b: 2 } }),
      identify('t2', { plan: null, nested: { a: null } }),
    ])
    const oneBatch = await temp.store.query('SELECT traits FROM users')
    expect(JSON.parse(String(oneBatch[0]?.traits))).toEqual({
      nested: { b: 2 },
    })

    const other = await openTempStore()
    try {
      await writeMessages(other.store, [
        identify('t1', { plan: 'pro', nested: { a: 1, b: 2 } }),
      ])
      await writeMessages(other.store, [
        identify('t2', { plan: null, nested: { a: null } }),
      ])
      const twoBatches = await other.store.query('SELECT traits FROM users')
      expect(JSON.parse(String(twoBatches[0]?.traits))).toEqual({
        nested: { b: 2 },
      })
    } finally {
      await other.dispose()
    }
  })
})
