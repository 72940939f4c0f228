import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../../test/support/temp-store.js'
import { ImportError } from './import-error.js'
import { parseImportMapping } from './import-mapping.js'
import { importRecords } from './import-records.js'

import type { TempStore } from '../../../test/support/temp-store.js'

let temp: TempStore
let directory: string
beforeEach(async () => {
  temp = await openTempStore()
  directory = await mkdtemp(join(tmpdir(), 'leadlens-import-'))
})
afterEach(async () => {
  await temp.dispose()
  await rm(directory, { recursive: true, force: true })
})

async function file(name: string, text: string) {
  const path = join(directory, name)
  await writeFile(path, text)
  return path
}

describe('importRecords', () => {
  it('renames, types and upserts accounts; unmapped columns become traits', async () => {
    const path = await file(
      'accounts.csv',
      'acct,account_name,seats,zip,since\nA1,Acme,12,02134,2024-01-02 03:04:05\nA2,"Beta, Inc.",7,10001,2024-02-01 00:00:00\n',
    )
    const mapping = parseImportMapping(
      {
        id: 'acct',
        columns: { account_name: 'name' },
        timestamps: { zone: 'Europe/Berlin' },
      },
      'map',
    )
    const summary = await importRecords(temp.store, 'accounts', path, mapping)

    expect(summary).toMatchObject({ rows: 2, stored: 2, rejected: [] })
    const rows = await temp.store.query(
      'SELECT account_id, name, traits FROM accounts ORDER BY account_id',
    )
    expect(
      rows.map((r) => [r.account_id, r.name, JSON.parse(String(r.traits))]),
    ).toEqual([
      // Berlin is UTC+1 in winter; a zip code with a leading zero stays text.
      [
        'A1',
        'Acme',
        { seats: 12, zip: '02134', since: '2024-01-02T02:04:05.000Z' },
      ],
      [
        'A2',
        'Beta, Inc.',
        { seats: 7, zip: '10001', since: '2024-01-31T23:00:00.000Z' },
      ],
    ])
    const types = await temp.store.query(
      "SELECT name, type FROM property_types WHERE scope = 'account' ORDER BY name",
    )
    expect(types).toEqual([
      { name: 'seats', type: 'number' },
      { name: 'since', type: 'timestamp' },
      { name: 'zip', type: 'string' },
    ])
  })

  it("makes a membership from a user row's account id, starting at created_at", async () => {
    const path = await file(
      'users.csv',
      'id,account_id,email,created_at\nu1,A1,Ann@Acme.example,2024-05-01 10:00:00\n',
    )
    const mapping = parseImportMapping(
      { id: 'id', timestamps: { zone: 'UTC' } },
      'map',
    )
    await importRecords(temp.store, 'users', path, mapping)

    expect(
      await temp.store.query(
        'SELECT user_id, account_id, started_at FROM memberships',
      ),
    ).toEqual([
      {
        user_id: 'u1',
        account_id: 'A1',
        started_at: '2024-05-01T10:00:00.000Z',
      },
    ])
    expect(
      await temp.store.query('SELECT email, is_anonymous FROM users'),
    ).toEqual([{ email: 'ann@acme.example', is_anonymous: false }])
  })

  it('rejects a row without an id, with a bad typed value or with too few fields, naming its line, and stores the rest', async () => {
    const path = await file(
      'deals.csv',
      'deal,stage,amount\nD1,Won,100\n,Lost,5\nD3,Won,lots\nD4,Lost,7\nD5,Won\n',
    )
    const mapping = parseImportMapping({ id: 'deal' }, 'map')
    const summary = await importRecords(temp.store, 'deals', path, mapping)

    expect(summary.stored).toBe(2)
    expect(summary.rejected.map((i) => [i.line, i.code, i.column])).toEqual([
      [3, 'IMPORT_ID_MISSING', 'deal'],
      [4, 'IMPORT_VALUE_INVALID', 'amount'],
      [6, 'IMPORT_ROW_MALFORMED', ''],
    ])
    expect(
      await temp.store.query(
        'SELECT deal_id, amount FROM crm_deals ORDER BY deal_id',
      ),
    ).toEqual([
      { deal_id: 'D1', amount: 100 },
      { deal_id: 'D4', amount: 7 },
    ])
  })

  it('keeps columns named like JavaScript built-ins as plain traits', async () => {
    const path = await file(
      'accounts.csv',
      'id,constructor,toString,__proto__\nA1,x,y,z\n',
    )
    await importRecords(
      temp.store,
      'accounts',
      path,
      parseImportMapping({ id: 'id' }, 'map'),
    )
    const rows = await temp.store.query('SELECT traits FROM accounts')
    expect(JSON.parse(String(rows[0]?.traits))).toEqual({
      constructor: 'x',
      toString: 'y',
      ['__proto__']: 'z',
    })
  })

  it('refuses zoneless timestamps without a zone in the mapping, storing nothing', async () => {
    const path = await file(
      'users.csv',
      'id,created_at\nu1,2024-05-01 10:00:00\n',
    )
    const mapping = parseImportMapping({ id: 'id' }, 'map')

    await expect(
      importRecords(temp.store, 'users', path, mapping),
    ).rejects.toThrow(ImportError)
    expect(await temp.store.query('SELECT count(*) AS n FROM users')).toEqual([
      { n: 0 },
    ])
  })

  it('refuses a mapping that names a column the file does not have', async () => {
    const path = await file('accounts.csv', 'id,name\nA1,Acme\n')
    const mapping = parseImportMapping(
      { id: 'id', columns: { nmae: 'name' } },
      'map',
    )

    await expect(
      importRecords(temp.store, 'accounts', path, mapping),
    ).rejects.toThrow(/nmae/)
  })

  it('reports every problem of a mapping file', () => {
    expect(() =>
      parseImportMapping(
        { columns: 'x', extra: 1, timestamps: { zone: 'Mars/Base' } },
        'map.yaml',
      ),
    ).toThrow(ImportError)
    try {
      parseImportMapping(
        { columns: 'x', extra: 1, timestamps: { zone: 'Mars/Base' } },
        'map.yaml',
      )
    } catch (error) {
      expect((error as ImportError).issues.length).toBeGreaterThanOrEqual(3)
    }
  })

  it('reads a JSON array of records with nested values kept', async () => {
    const path = await file(
      'companies.json',
      JSON.stringify([
        { Id: 'C1', Name: 'Acme', tags: ['a', 'b'], Owner: 'o1' },
      ]),
    )
    const mapping = parseImportMapping(
      { id: 'Id', columns: { Name: 'name', Owner: 'owner_id' } },
      'map',
    )
    await importRecords(temp.store, 'companies', path, mapping)

    const rows = await temp.store.query(
      'SELECT company_id, name, owner_id, properties FROM crm_companies',
    )
    expect(
      rows.map((r) => [
        r.company_id,
        r.name,
        r.owner_id,
        JSON.parse(String(r.properties)),
      ]),
    ).toEqual([['C1', 'Acme', 'o1', { tags: ['a', 'b'] }]])
  })
})
