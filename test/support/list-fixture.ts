/**
 * A small workspace for list tests, written through the real pipeline:
 * messages through `writeMessages`, CRM records through `importRecords`.
 *
 * Accounts: acct_a (Acme, acme.example, 250 employees), acct_b (Beta,
 * beta.example, 40), acct_c (Gamma, gamma.example, 100).
 * CRM: owners rep1 (Rita@Example.com), rep2; companies C-A (account_id
 * acct_a, rep1), C-B (domain www.beta.example, so acct_b by domain, rep2),
 * C-C (account_id acct_c, rep1). Contacts: ann@acme.example (C-A, rep2),
 * cy@beta.example (C-B). Deals: D1 acct_a Won 5000, D2 acct_a Lost 100,
 * D3 C-B (company only) Won 700, D4 acct_c Open 50.
 * Users: ann (acct_a), ben (acct_a), cy (acct_b).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { parseImportMapping } from '../../src/connectors/csv/import-mapping.js'
import { importRecords } from '../../src/connectors/csv/import-records.js'
import { normalizeMessage } from '../../src/ingest/normalize-message.js'
import { writeMessages } from '../../src/ingest/write-messages.js'

import type { RecordKindName } from '../../src/connectors/csv/record-kinds.js'
import type { Store } from '../../src/store/store.js'

const messages = [
  { type: 'identify', userId: 'ann', traits: { email: 'ann@acme.example' } },
  {
    type: 'identify',
    userId: 'ben',
    traits: { email: 'ben@acme.example', title: 'CTO' },
  },
  {
    type: 'identify',
    userId: 'cy',
    traits: { email: 'cy@beta.example', title: 'Engineer' },
  },
  {
    type: 'group',
    userId: 'ann',
    groupId: 'acct_a',
    traits: { name: 'Acme', website: 'https://acme.example', employees: 250 },
  },
  { type: 'group', userId: 'ben', groupId: 'acct_a' },
  {
    type: 'group',
    userId: 'cy',
    groupId: 'acct_b',
    traits: { name: 'Beta', domain: 'beta.example', employees: 40 },
  },
  {
    type: 'group',
    userId: 'zed',
    groupId: 'acct_c',
    traits: { name: 'Gamma', domain: 'gamma.example', employees: 100 },
  },
]

const records: Record<
  string,
  { id: string; columns?: Record<string, string>; rows: object[] }
> = {
  owners: {
    id: 'Id',
    columns: { Email: 'email', Name: 'name' },
    rows: [
      { Id: 'rep1', Email: 'Rita@Example.com', Name: 'Rita' },
      { Id: 'rep2', Email: 'sam@example.com', Name: 'Sam' },
    ],
  },
  companies: {
    id: 'Id',
    columns: {
      Name: 'name',
      Website: 'domain',
      AccountId: 'account_id',
      OwnerId: 'owner_id',
    },
    rows: [
      {
        Id: 'C-A',
        Name: 'Acme Inc',
        AccountId: 'acct_a',
        OwnerId: 'rep1',
        tier: 'gold',
      },
      {
        Id: 'C-B',
        Name: 'Beta GmbH',
        Website: 'www.beta.example',
        OwnerId: 'rep2',
        tier: 'silver',
      },
      {
        Id: 'C-C',
        Name: 'Gamma Ltd',
        AccountId: 'acct_c',
        OwnerId: 'rep1',
        tier: 'bronze',
      },
    ],
  },
  contacts: {
    id: 'Id',
    columns: { Email: 'email', CompanyId: 'company_id', OwnerId: 'owner_id' },
    rows: [
      {
        Id: 'K1',
        Email: 'Ann@Acme.example',
        CompanyId: 'C-A',
        OwnerId: 'rep2',
        lifecycle: 'sql',
      },
      {
        Id: 'K2',
        Email: 'cy@beta.example',
        CompanyId: 'C-B',
        lifecycle: 'lead',
      },
    ],
  },
  deals: {
    id: 'Id',
    columns: {
      Stage: 'stage',
      Amount: 'amount',
      AccountId: 'account_id',
      CompanyId: 'company_id',
    },
    rows: [
      { Id: 'D1', AccountId: 'acct_a', Stage: 'Won', Amount: 5000 },
      { Id: 'D2', AccountId: 'acct_a', Stage: 'Lost', Amount: 100 },
      { Id: 'D3', CompanyId: 'C-B', Stage: 'Won', Amount: 700 },
      { Id: 'D4', AccountId: 'acct_c', Stage: 'Open', Amount: 50 },
    ],
  },
}

/** Loads the fixture into `store`. */
export async function loadListFixture(store: Store): Promise<void> {
  const receivedAt = new Date('2030-01-01T00:00:00Z')
  const normalized = messages.map((raw, index) => {
    const result = normalizeMessage(
      { ...raw, messageId: `fx${index}`, timestamp: '2024-12-01T00:00:00Z' },
      { sourceId: 'fixture', receivedAt },
    )
    if (!result.ok) throw new Error(JSON.stringify(result.issues))
    return result.message
  })
  await writeMessages(store, normalized)

  const directory = await mkdtemp(join(tmpdir(), 'leadlens-fixture-'))
  try {
    for (const [kind, spec] of Object.entries(records)) {
      const file = join(directory, `${kind}.json`)
      await writeFile(file, JSON.stringify(spec.rows))
      const mapping = parseImportMapping(
        { id: spec.id, columns: spec.columns ?? {} },
        'fixture',
      )
      await importRecords(store, kind as RecordKindName, file, mapping)
    }
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}
