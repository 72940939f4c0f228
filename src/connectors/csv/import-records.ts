/**
 * `leadlens import users|accounts|contacts|companies|deals|owners`: rows of
 * a CSV or JSON file, renamed and typed by a mapping, upserted in one
 * transaction. A bad row is reported with its line and stored nowhere; the
 * other rows are stored.
 */
import { emptyRecord, ownProperty } from '../../catalog/own-property.js'
import { recordPropertyTypes } from '../../catalog/property-catalog.js'
import { registrableDomain } from '../../ingest/email-domain.js'
import { addMembershipsToRollups } from '../../rollups/maintain-rollups.js'
import { quoteIdentifier } from '../../store/store.js'
import {
  convertValue,
  hasZone,
  inferColumnType,
  isEmptyValue,
} from './convert-value.js'
import { ImportError } from './import-error.js'
import { readRecords } from './read-records.js'
import { recordKinds } from './record-kinds.js'

import type { PropertyTypeMap } from '../../catalog/property-catalog.js'
import type { AppendValue, Store } from '../../store/store.js'
import type { ImportIssue } from './import-error.js'
import type { ColumnType, ImportMapping } from './import-mapping.js'
import type { RecordKind, RecordKindName } from './record-kinds.js'
import type { SourceRecord } from './read-records.js'

export interface ImportRecordsSummary {
  kind: RecordKindName
  rows: number
  stored: number
  rejected: ImportIssue[]
  memberships: number
}

interface ColumnPlan {
  source: string
  field: string
  type: ColumnType
  /** Stored in a column of its own, rather than in the JSON bag. */
  isCore: boolean
}

interface PreparedRow {
  id: string
  core: Record<string, string | number | boolean | Date | null>
  bag: Record<string, unknown>
}

/** Imports one file of records of `kind` with `mapping`. */
export async function importRecords(
  store: Store,
  kindName: RecordKindName,
  file: string,
  mapping: ImportMapping,
): Promise<ImportRecordsSummary> {
  const kind = recordKinds[kindName]
  const records = await readRecords(file)
  const plan = planColumns(records, mapping, kind, file)
  const rejected: ImportIssue[] = []
  const rows = new Map<string, PreparedRow>()

  for (const record of records) {
    const row = prepareRow(record, plan, mapping, file, rejected)
    if (row === undefined) continue

    // A later row for the same id updates the earlier one, as a re-import would.
    const earlier = rows.get(row.id)
    if (earlier === undefined) rows.set(row.id, row)
    else {
      for (const [key, value] of Object.entries(row.core)) {
        if (value !== null) earlier.core[key] = value
      }
      Object.assign(earlier.bag, row.bag)
    }
  }

  let memberships = 0
  await store.transaction(async () => {
    await upsertRows(store, kind, [...rows.values()])
    if (kindName === 'users')
      memberships = await addMemberships(store, [...rows.values()])
    await recordPropertyTypes(store, bagTypes(kind, plan), new Date())
  })

  return {
    kind: kindName,
    rows: records.length,
    stored: rows.size,
    rejected,
    memberships,
  }
}

function planColumns(
  records: SourceRecord[],
  mapping: ImportMapping,
  kind: RecordKind,
  file: string,
): ColumnPlan[] {
  const sourceColumns = new Set<string>()
  for (const record of records) {
    for (const key of Object.keys(record.values)) sourceColumns.add(key)
  }

  const missing = [mapping.id, ...Object.keys(mapping.columns)].filter(
    (column) => records.length > 0 && !sourceColumns.has(column),
  )
  if (missing.length > 0) {
    throw new ImportError(
      'IMPORT_COLUMN_MISSING',
      file,
      `the mapping names columns the file does not have: ${missing.join(', ')}`,
      [`columns in the file: ${[...sourceColumns].join(', ')}`],
    )
  }

  const plan: ColumnPlan[] = []
  const problems: string[] = []
  for (const source of sourceColumns) {
    if (source === mapping.id) continue

    const field = ownProperty(mapping.columns, source) ?? source
    const coreType = ownProperty(kind.fields, field)
    const type =
      ownProperty(mapping.types, source) ??
      ownProperty(mapping.types, field) ??
      coreType ??
      inferColumnType(records.map((r) => ownProperty(r.values, source)))

    if (
      type === 'timestamp' &&
      mapping.timestamps.zone === undefined &&
      records.some((r) => {
        const value = ownProperty(r.values, source)
        return typeof value === 'string' && value !== '' && !hasZone(value)
      })
    ) {
      problems.push(
        `column ${source} holds timestamps without a time zone; ` +
          'add `timestamps: { zone: UTC }` (or their IANA zone) to the mapping',
      )
    }

    plan.push({ source, field, type, isCore: coreType !== undefined })
  }

  if (problems.length > 0) {
    throw new ImportError(
      'IMPORT_MAPPING_INVALID',
      file,
      'cannot read timestamps',
      problems,
    )
  }

  return plan
}

function prepareRow(
  record: SourceRecord,
  plan: ColumnPlan[],
  mapping: ImportMapping,
  file: string,
  rejected: ImportIssue[],
): PreparedRow | undefined {
  if (record.malformed !== undefined) {
    rejected.push({
      file,
      line: record.line,
      column: '',
      code: 'IMPORT_ROW_MALFORMED',
      message: record.malformed,
    })
    return undefined
  }

  const idValue = ownProperty(record.values, mapping.id)
  if (isEmptyValue(idValue) || typeof idValue === 'object') {
    rejected.push({
      file,
      line: record.line,
      column: mapping.id,
      code: 'IMPORT_ID_MISSING',
      message: `no id in column ${mapping.id}`,
    })
    return undefined
  }

  const row: PreparedRow = {
    id: String(idValue).trim(),
    core: emptyRecord(),
    bag: emptyRecord(),
  }
  let isValid = true
  for (const column of plan) {
    const raw = ownProperty(record.values, column.source)
    if (!column.isCore && raw !== null && typeof raw === 'object') {
      row.bag[column.field] = raw
      continue
    }

    const converted = convertValue(raw, column.type, mapping.timestamps.zone)
    if (!converted.ok) {
      rejected.push({
        file,
        line: record.line,
        column: column.source,
        code: converted.zoneless
          ? 'IMPORT_TIMESTAMP_ZONELESS'
          : 'IMPORT_VALUE_INVALID',
        message: `${column.source}: ${converted.message}`,
      })
      isValid = false
      continue
    }

    const value =
      converted.value instanceof Date ? converted.value : converted.value
    if (column.isCore) row.core[column.field] = value
    else if (value !== null) {
      row.bag[column.field] =
        value instanceof Date ? value.toISOString() : value
    }
  }

  // Domains compare by their registrable domain (www.acme.com is acme.com).
  if (typeof row.core.domain === 'string') {
    row.core.domain =
      registrableDomain(row.core.domain) ?? row.core.domain.toLowerCase()
  }
  if (typeof row.core.email === 'string')
    row.core.email = row.core.email.trim().toLowerCase()

  return isValid ? row : undefined
}

async function upsertRows(store: Store, kind: RecordKind, rows: PreparedRow[]) {
  const coreFields = Object.keys(kind.fields).filter(
    (field) => !(kind.table === 'users' && field === 'account_id'),
  )
  const now = new Date()
  const columns = [kind.idColumn, ...coreFields, kind.bagColumn, 'updated_at']
  const types: Record<string, string> = {
    [kind.idColumn]: 'VARCHAR',
    [kind.bagColumn]: store.sql.types.json,
    updated_at: 'TIMESTAMPTZ',
  }
  for (const field of coreFields)
    types[field] = sqlType(store, ownProperty(kind.fields, field) ?? 'string')

  const staged = `staged_import_${kind.table}`
  await store.stage(
    staged,
    Object.fromEntries(
      columns.map((c) => [c, ownProperty(types, c) ?? 'VARCHAR']),
    ),
    rows.map((row): AppendValue[] => [
      row.id,
      ...coreFields.map((field) => row.core[field] ?? null),
      JSON.stringify(row.bag),
      now,
    ]),
  )

  const table = quoteIdentifier(kind.table)
  const extra =
    kind.table === 'users'
      ? {
          columns: ', is_anonymous',
          values: ', false',
          update: 'is_anonymous = false,',
        }
      : { columns: '', values: '', update: '' }
  const updates = coreFields
    .map(
      (f) =>
        `${quoteIdentifier(f)} = coalesce(excluded.${quoteIdentifier(f)}, ${table}.${quoteIdentifier(f)})`,
    )
    .join(', ')
  const bag = quoteIdentifier(kind.bagColumn)

  await store.execute(
    `INSERT INTO ${table} (${columns.map(quoteIdentifier).join(', ')}${extra.columns})
     SELECT ${columns.map(quoteIdentifier).join(', ')}${extra.values} FROM ${store.sql.staged(staged)}
     ON CONFLICT (${quoteIdentifier(kind.idColumn)})
     DO UPDATE SET ${extra.update} ${updates},
       ${bag} = ${store.sql.mergePatch(`${table}.${bag}`, `excluded.${bag}`)},
       updated_at = excluded.updated_at`,
  )
}

// A user row naming an account makes a membership from the user's created_at.
async function addMemberships(
  store: Store,
  rows: PreparedRow[],
): Promise<number> {
  const memberships = rows
    .filter(
      (row) =>
        typeof row.core.account_id === 'string' && row.core.account_id !== '',
    )
    .map((row): AppendValue[] => [
      row.id,
      String(row.core.account_id),
      row.core.created_at instanceof Date ? row.core.created_at : null,
      'import',
    ])
  if (memberships.length === 0) return 0

  await store.stage(
    'staged_import_memberships',
    {
      user_id: 'VARCHAR',
      account_id: 'VARCHAR',
      started_at: 'TIMESTAMPTZ',
      via: 'VARCHAR',
    },
    memberships,
  )
  await addMembershipsToRollups(store, 'staged_import_memberships')
  await store.execute(
    `INSERT INTO memberships SELECT * FROM ${store.sql.staged('staged_import_memberships')}
     ON CONFLICT (user_id, account_id) DO UPDATE SET
       started_at = coalesce(excluded.started_at, memberships.started_at)`,
  )
  // An account named before its own import exists from now on, with no traits.
  await store.execute(
    `INSERT INTO accounts (account_id, updated_at)
     SELECT DISTINCT account_id, now() FROM ${store.sql.staged('staged_import_memberships')}
     ON CONFLICT DO NOTHING`,
  )

  return memberships.length
}

function bagTypes(kind: RecordKind, plan: ColumnPlan[]): PropertyTypeMap {
  const types = new Map<string, ColumnType>()
  for (const column of plan) {
    if (!column.isCore) types.set(column.field, column.type)
  }

  return new Map([[kind.scope, types]])
}

function sqlType(store: Store, type: ColumnType): string {
  if (type === 'number') return store.sql.types.double
  if (type === 'boolean') return 'BOOLEAN'
  if (type === 'timestamp') return 'TIMESTAMPTZ'

  return 'VARCHAR'
}
