/**
 * What each importable kind of record is: its table, id column, the fields
 * stored in columns of their own (with types), and where the rest go.
 */
import type { PropertyScope } from '../../catalog/property-catalog.js'
import type { ColumnType } from './import-mapping.js'

export const recordKindNames = [
  'users',
  'accounts',
  'contacts',
  'companies',
  'deals',
  'owners',
] as const

export type RecordKindName = (typeof recordKindNames)[number]

export interface RecordKind {
  table: string
  idColumn: string
  /** Fields with a column of their own: name -> type. */
  fields: Record<string, ColumnType>
  /** The JSON column that holds every other field. */
  bagColumn: 'traits' | 'properties'
  scope: PropertyScope
}

export const recordKinds: Record<RecordKindName, RecordKind> = {
  users: {
    table: 'users',
    idColumn: 'user_id',
    fields: { email: 'string', created_at: 'timestamp', account_id: 'string' },
    bagColumn: 'traits',
    scope: 'user',
  },
  accounts: {
    table: 'accounts',
    idColumn: 'account_id',
    fields: { name: 'string', domain: 'string', created_at: 'timestamp' },
    bagColumn: 'traits',
    scope: 'account',
  },
  contacts: {
    table: 'crm_contacts',
    idColumn: 'contact_id',
    fields: { email: 'string', company_id: 'string', owner_id: 'string' },
    bagColumn: 'properties',
    scope: 'crm_contact',
  },
  companies: {
    table: 'crm_companies',
    idColumn: 'company_id',
    fields: {
      name: 'string',
      domain: 'string',
      account_id: 'string',
      owner_id: 'string',
    },
    bagColumn: 'properties',
    scope: 'crm_company',
  },
  deals: {
    table: 'crm_deals',
    idColumn: 'deal_id',
    fields: {
      account_id: 'string',
      company_id: 'string',
      owner_id: 'string',
      stage: 'string',
      amount: 'number',
      created_at: 'timestamp',
      closed_at: 'timestamp',
    },
    bagColumn: 'properties',
    scope: 'crm_deal',
  },
  owners: {
    table: 'crm_owners',
    idColumn: 'owner_id',
    fields: { email: 'string', name: 'string' },
    bagColumn: 'properties',
    scope: 'crm_owner',
  },
}

/** Narrows a command-line word to a record kind. */
export function isRecordKindName(name: string): name is RecordKindName {
  return (recordKindNames as readonly string[]).includes(name)
}
