/**
 * The versioned schema. Each migration runs once, in order, inside one
 * transaction, and is recorded in `schema_migrations`. Add a migration to
 * change the schema; never edit one that has shipped.
 */
import { StoreError } from './store-error.js'

import type { SqlDialect } from './sql-dialect.js'
import type { Store, StoreDialect } from './store.js'

export interface Migration {
  version: number
  description: string
  /**
   * The statements, given the dialect's names for the types that differ
   * and, for what only one store needs, the dialect itself.
   */
  statements: (types: SqlDialect['types'], dialect: StoreDialect) => string[]
}

export const migrations: Migration[] = [
  {
    version: 1,
    description: 'people, accounts, events, CRM records, catalog',
    statements: ({ double, json }) => [
      `CREATE TABLE settings (
        key VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
      )`,
      `CREATE TABLE sources (
        source_id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        write_key VARCHAR NOT NULL UNIQUE,
        created_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ
      )`,
      // One row a person: an identified user, or an anonymous visitor not yet
      // identified. user_id is the userId, or the anonymousId of a visitor.
      `CREATE TABLE users (
        user_id VARCHAR PRIMARY KEY,
        is_anonymous BOOLEAN NOT NULL,
        email VARCHAR,
        created_at TIMESTAMPTZ,
        first_seen_at TIMESTAMPTZ,
        last_seen_at TIMESTAMPTZ,
        traits ${json} NOT NULL DEFAULT '{}',
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      // Every anonymousId (and alias previousId) that now means a known user.
      `CREATE TABLE identities (
        alias_id VARCHAR PRIMARY KEY,
        user_id VARCHAR NOT NULL,
        linked_at TIMESTAMPTZ NOT NULL,
        via VARCHAR NOT NULL
      )`,
      `CREATE TABLE accounts (
        account_id VARCHAR PRIMARY KEY,
        name VARCHAR,
        domain VARCHAR,
        created_at TIMESTAMPTZ,
        first_seen_at TIMESTAMPTZ,
        traits ${json} NOT NULL DEFAULT '{}',
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE memberships (
        user_id VARCHAR NOT NULL,
        account_id VARCHAR NOT NULL,
        started_at TIMESTAMPTZ,
        via VARCHAR NOT NULL,
        PRIMARY KEY (user_id, account_id)
      )`,
      // Every accepted message. person_id is the resolved person: the userId,
      // the user an anonymousId was linked to, or the anonymousId itself.
      `CREATE TABLE events (
        source_id VARCHAR NOT NULL,
        message_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        event VARCHAR,
        person_id VARCHAR,
        user_id VARCHAR,
        anonymous_id VARCHAR,
        account_id VARCHAR,
        timestamp TIMESTAMPTZ NOT NULL,
        original_timestamp VARCHAR,
        sent_at TIMESTAMPTZ,
        received_at TIMESTAMPTZ NOT NULL,
        properties ${json} NOT NULL DEFAULT '{}',
        context ${json} NOT NULL DEFAULT '{}'
      )`,
      // messageId dedup, per source, kept for at least 30 days.
      `CREATE TABLE message_ids (
        source_id VARCHAR NOT NULL,
        message_id VARCHAR NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (source_id, message_id)
      )`,
      `CREATE TABLE crm_owners (
        owner_id VARCHAR PRIMARY KEY,
        email VARCHAR,
        name VARCHAR,
        properties ${json} NOT NULL DEFAULT '{}',
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE crm_companies (
        company_id VARCHAR PRIMARY KEY,
        name VARCHAR,
        domain VARCHAR,
        account_id VARCHAR,
        owner_id VARCHAR,
        properties ${json} NOT NULL DEFAULT '{}',
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE crm_contacts (
        contact_id VARCHAR PRIMARY KEY,
        email VARCHAR,
        company_id VARCHAR,
        owner_id VARCHAR,
        properties ${json} NOT NULL DEFAULT '{}',
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE crm_deals (
        deal_id VARCHAR PRIMARY KEY,
        account_id VARCHAR,
        company_id VARCHAR,
        owner_id VARCHAR,
        stage VARCHAR,
        amount ${double},
        created_at TIMESTAMPTZ,
        closed_at TIMESTAMPTZ,
        properties ${json} NOT NULL DEFAULT '{}',
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      // The catalog's memory of property types: scope is user, account,
      // event, crm_company, crm_contact, crm_deal or crm_owner.
      `CREATE TABLE property_types (
        scope VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        first_seen_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (scope, name)
      )`,
    ],
  },
  {
    version: 2,
    description:
      'event names, saved lists, named metrics, list membership history',
    statements: ({ json }) => [
      `CREATE TABLE event_names (
        name VARCHAR PRIMARY KEY,
        first_seen_at TIMESTAMPTZ NOT NULL
      )`,
      `INSERT INTO event_names
       SELECT event, min(received_at) FROM events
       WHERE type = 'track' AND event IS NOT NULL GROUP BY event`,
      // Definitions kept as code would keep them: the whole object as JSON.
      `CREATE TABLE definitions (
        kind VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        definition ${json} NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (kind, name)
      )`,
      // Who is in a saved list now, and since when. A list using $me has a
      // membership per viewer; viewer is '' for everyone else.
      `CREATE TABLE list_members (
        list_name VARCHAR NOT NULL,
        viewer VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        entered_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (list_name, viewer, entity_id)
      )`,
      // Every entry and exit, at the asOf of the evaluation that found it.
      `CREATE TABLE list_changes (
        list_name VARCHAR NOT NULL,
        viewer VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        change VARCHAR NOT NULL,
        changed_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE list_evaluations (
        list_name VARCHAR NOT NULL,
        viewer VARCHAR NOT NULL,
        evaluated_at TIMESTAMPTZ NOT NULL,
        members INTEGER NOT NULL,
        PRIMARY KEY (list_name, viewer)
      )`,
      `CREATE TABLE people (
        email VARCHAR PRIMARY KEY,
        role VARCHAR NOT NULL,
        token_hash VARCHAR NOT NULL UNIQUE,
        created_at TIMESTAMPTZ NOT NULL
      )`,
    ],
  },
  {
    version: 3,
    description:
      'score history: current scores and every change of level or quadrant',
    statements: ({ double }) => [
      `CREATE TABLE score_current (
        score_name VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        fit ${double} NOT NULL,
        usage ${double} NOT NULL,
        total ${double} NOT NULL,
        fit_level VARCHAR NOT NULL,
        usage_level VARCHAR NOT NULL,
        quadrant VARCHAR NOT NULL,
        computed_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (score_name, entity_id)
      )`,
      `CREATE TABLE score_changes (
        score_name VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        from_quadrant VARCHAR,
        to_quadrant VARCHAR NOT NULL,
        from_fit_level VARCHAR,
        to_fit_level VARCHAR NOT NULL,
        from_usage_level VARCHAR,
        to_usage_level VARCHAR NOT NULL,
        total ${double} NOT NULL,
        changed_at TIMESTAMPTZ NOT NULL,
        cause VARCHAR NOT NULL
      )`,
    ],
  },
  {
    version: 4,
    description: 'billing: Stripe customers, prices, subscriptions, invoices',
    statements: ({ double, json }) => [
      // account_id / user_id: who the customer is in Leadlens (metadata,
      // else the email's domain or the email itself).
      `CREATE TABLE billing_customers (
        customer_id VARCHAR PRIMARY KEY,
        email VARCHAR,
        name VARCHAR,
        account_id VARCHAR,
        user_id VARCHAR,
        metadata ${json} NOT NULL DEFAULT '{}',
        created_at TIMESTAMPTZ,
        stripe_event_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE billing_prices (
        price_id VARCHAR PRIMARY KEY,
        nickname VARCHAR,
        product_id VARCHAR,
        product_name VARCHAR,
        unit_amount ${double},
        currency VARCHAR,
        billing_interval VARCHAR,
        interval_count INTEGER,
        stripe_event_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      // mrr: monthly recurring revenue in currency units (not cents).
      // stripe_event_at: when Stripe emitted the event that set this state,
      // so an older event arriving late does not overwrite a newer one.
      `CREATE TABLE billing_subscriptions (
        subscription_id VARCHAR PRIMARY KEY,
        customer_id VARCHAR,
        status VARCHAR,
        plan VARCHAR,
        price_id VARCHAR,
        quantity ${double},
        mrr ${double},
        currency VARCHAR,
        trial_end TIMESTAMPTZ,
        current_period_end TIMESTAMPTZ,
        canceled_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ,
        stripe_event_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE billing_invoices (
        invoice_id VARCHAR PRIMARY KEY,
        customer_id VARCHAR,
        subscription_id VARCHAR,
        status VARCHAR,
        amount_due ${double},
        amount_paid ${double},
        currency VARCHAR,
        paid_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ,
        stripe_event_at TIMESTAMPTZ,
        updated_at TIMESTAMPTZ NOT NULL
      )`,
    ],
  },
  {
    version: 5,
    description:
      'rollups: track events per account, event and UTC day; registered sums',
    statements: ({ double }) => [
      // Every track event counted once per account it belongs to: its
      // context.groupId, else each account its person is a member of.
      // day is the UTC midnight starting the day.
      `CREATE TABLE account_event_days (
        account_id VARCHAR NOT NULL,
        event VARCHAR NOT NULL,
        day TIMESTAMPTZ NOT NULL,
        events BIGINT NOT NULL,
        first_at TIMESTAMPTZ NOT NULL,
        last_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (account_id, event, day)
      )`,
      // The (event, property) pairs whose sums saved definitions use.
      `CREATE TABLE rollup_properties (
        event VARCHAR NOT NULL,
        property VARCHAR NOT NULL,
        registered_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (event, property)
      )`,
      `CREATE TABLE account_event_day_sums (
        account_id VARCHAR NOT NULL,
        event VARCHAR NOT NULL,
        property VARCHAR NOT NULL,
        day TIMESTAMPTZ NOT NULL,
        total ${double} NOT NULL,
        PRIMARY KEY (account_id, event, property, day)
      )`,
      `INSERT INTO account_event_days
       SELECT account_id, event,
         date_trunc('day', timestamp AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
         count(*), min(timestamp), max(timestamp)
       FROM (
         SELECT e.account_id, e.event, e.timestamp FROM events e
         WHERE e.type = 'track' AND e.event IS NOT NULL
           AND e.account_id IS NOT NULL
         UNION ALL
         SELECT m.account_id, e.event, e.timestamp FROM events e
         JOIN memberships m ON m.user_id = e.person_id
         WHERE e.type = 'track' AND e.event IS NOT NULL
           AND e.account_id IS NULL
       ) a
       GROUP BY 1, 2, 3`,
    ],
  },
  {
    version: 6,
    description:
      'PostgreSQL: indexes on events by time and person, and on the keys related records are found by',
    // DuckDB skips blocks by their min/max (zone maps), decorrelates EXISTS
    // into joins and keeps ART indexes in memory, so it gets none.
    // PostgreSQL would scan every event to read the partial days at a
    // window's edges or one person's events on a link, and scan a related
    // table once per account for a filter like "any deal won" inside an OR
    // (15 s instead of 0.7 s at the bench's size).
    statements: (_types, dialect) =>
      dialect === 'postgres'
        ? [
            'CREATE INDEX events_timestamp ON events (timestamp)',
            'CREATE INDEX events_person ON events (person_id, timestamp)',
            'CREATE INDEX memberships_account ON memberships (account_id)',
            'CREATE INDEX crm_deals_account ON crm_deals (account_id)',
            'CREATE INDEX crm_deals_company ON crm_deals (company_id)',
            'CREATE INDEX crm_contacts_company ON crm_contacts (company_id)',
            'CREATE INDEX crm_companies_account ON crm_companies (account_id)',
            'CREATE INDEX crm_companies_domain ON crm_companies (domain)',
            'CREATE INDEX billing_customers_account ON billing_customers (account_id)',
            'CREATE INDEX billing_subscriptions_customer ON billing_subscriptions (customer_id)',
            'CREATE INDEX billing_invoices_customer ON billing_invoices (customer_id)',
          ]
        : [],
  },
  {
    version: 7,
    description:
      'ingestion inbox: accepted request bodies, durable before they are applied',
    // An ingestion request is acknowledged once its body is committed here;
    // the applier turns bodies into events and deletes them in one
    // transaction, so a crash between the two loses nothing and applies
    // nothing twice. Bodies that cannot be applied move to ingest_failed.
    statements: () => [
      'CREATE SEQUENCE ingest_inbox_ids',
      `CREATE TABLE ingest_inbox (
        id BIGINT PRIMARY KEY DEFAULT nextval('ingest_inbox_ids'),
        source_id VARCHAR NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        implied_type VARCHAR,
        body VARCHAR NOT NULL,
        messages INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        -- Names the accepting process's parsed copy, which spares the
        -- applier parsing the body again while that process runs.
        token VARCHAR
      )`,
      `CREATE TABLE ingest_failed (
        id BIGINT PRIMARY KEY,
        source_id VARCHAR NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        implied_type VARCHAR,
        body VARCHAR NOT NULL,
        messages INTEGER NOT NULL,
        failed_at TIMESTAMPTZ NOT NULL,
        error VARCHAR NOT NULL
      )`,
    ],
  },
  {
    version: 8,
    description:
      'PostgreSQL: rollups indexed by event and day, covering the counts',
    // A windowed account metric reads one event's days for every account:
    // without this PostgreSQL scans the whole rollup (26M rows at the
    // bench's size); with it an index-only scan reads the window's rows
    // (list (d): 3.4 s -> 2.0 s). DuckDB's zone maps do this already.
    statements: (_types, dialect) =>
      dialect === 'postgres'
        ? [
            'CREATE INDEX account_event_days_event_day ON account_event_days (event, day, account_id) INCLUDE (events)',
            'CREATE INDEX account_event_day_sums_event_day ON account_event_day_sums (event, property, day, account_id) INCLUDE (total)',
          ]
        : [],
  },
  {
    version: 9,
    description:
      'ingestion inbox: the parsed-copy token on stores made before it',
    // Migration 7 gained its token column after a few stores were made with
    // an earlier form of it (during development); those get it here.
    statements: () => [
      'ALTER TABLE ingest_inbox ADD COLUMN IF NOT EXISTS token VARCHAR',
    ],
  },
  {
    version: 10,
    description: 'ingestion: how far the accept journal is applied',
    // A DuckDB file's inbox is an append-only journal beside it
    // (src/ingest/accept-journal.ts); the applier moves applied_to in its
    // own transaction. journal_id ties the journal to this store. Unused on
    // PostgreSQL, whose inbox is the shared ingest_inbox table.
    statements: () => [
      `CREATE TABLE ingest_journal (
        journal_id VARCHAR,
        applied_to BIGINT NOT NULL
      )`,
      'INSERT INTO ingest_journal VALUES (NULL, 0)',
    ],
  },
  {
    version: 11,
    description: 'PostgreSQL: inbox bodies compressed with LZ4',
    // Bodies of 2 KB and more are compressed in TOAST, by default with
    // pglz; LZ4 costs a fraction of its CPU, which the inbox's writer
    // shares with ingestion (scratch measure: 4 writers, 20 KB bodies,
    // 2,000 -> 3,750 rows committed a second). A server built without LZ4
    // (or older than 14) keeps pglz.
    statements: (_types, dialect) =>
      dialect === 'postgres'
        ? ['ingest_inbox', 'ingest_failed'].map(
            (table) => `DO $$ BEGIN
              ALTER TABLE ${table} ALTER COLUMN body SET COMPRESSION lz4;
            EXCEPTION WHEN feature_not_supported OR syntax_error THEN NULL;
            END $$`,
          )
        : [],
  },
]

/**
 * Applies every migration newer than the store's version, each in one
 * transaction, after the dialect's support functions. On PostgreSQL a
 * session advisory lock keeps two processes from migrating one schema at once.
 */
export async function migrateStore(store: Store): Promise<number> {
  const isPostgres = store.dialect === 'postgres'
  if (isPostgres) await store.execute(`SELECT pg_advisory_lock(${lockKey})`)

  try {
    return await applyMigrations(store)
  } finally {
    if (isPostgres) await store.execute(`SELECT pg_advisory_unlock(${lockKey})`)
  }
}

// One lock per schema: stores in other schemas of the database migrate freely.
const lockKey = "hashtext('leadlens migrations ' || current_schema())"

async function applyMigrations(store: Store): Promise<number> {
  for (const statement of store.sql.setupStatements) {
    await store.execute(statement)
  }

  await store.execute(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    description VARCHAR NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
  )`)

  const applied = await store.query<{ version: number }>(
    'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
  )
  const current = Number(applied[0]?.version ?? 0)

  for (const migration of migrations) {
    if (migration.version <= current) continue

    try {
      await store.transaction(async () => {
        for (const statement of migration.statements(
          store.sql.types,
          store.dialect,
        )) {
          await store.execute(statement)
        }

        await store.execute(
          'INSERT INTO schema_migrations VALUES ($1, $2, $3)',
          [migration.version, migration.description, new Date()],
        )
      })
    } catch (error) {
      throw new StoreError(
        'STORE_MIGRATION_FAILED',
        `migration ${migration.version} (${migration.description}) failed`,
        { cause: error },
      )
    }
  }

  return migrations.at(-1)?.version ?? 0
}
