import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { migrateStore, migrations } from './schema.js'

import type { TempStore } from '../../test/support/temp-store.js'

let temp: TempStore
beforeEach(async () => {
  temp = await openTempStore()
})
afterEach(async () => {
  await temp.dispose()
})

describe('migrations', () => {
  it('give an inbox made without its token column the column (migration 9)', async () => {
    const { store } = temp
    // A store whose migration 7 predates the token column.
    await store.execute('ALTER TABLE ingest_inbox DROP COLUMN token')
    await store.execute('DROP TABLE ingest_journal')
    await store.execute('DELETE FROM schema_migrations WHERE version >= 9')

    expect(await migrateStore(store)).toBe(migrations.at(-1)?.version)
    await store.execute(
      `INSERT INTO ingest_inbox
       (source_id, received_at, implied_type, body, messages, bytes, token)
       VALUES ('web', $1, NULL, '{}', 0, 2, 't')`,
      [new Date()],
    )
    expect(await store.query('SELECT token FROM ingest_inbox')).toEqual([
      { token: 't' },
    ])
  })

  it('store PostgreSQL inbox bodies with LZ4 where the server has it (migration 11)', async (context) => {
    const { store } = temp
    if (store.dialect !== 'postgres') context.skip()
    const [server] = await store.query<{ lz4: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_settings
        WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) AS lz4`,
    )
    const rows = await store.query<{ table: string; method: string }>(
      `SELECT c.relname AS table, a.attcompression::text AS method
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE c.relname IN ('ingest_inbox', 'ingest_failed')
         AND c.relnamespace = current_schema()::regnamespace
         AND a.attname = 'body'
       ORDER BY 1`,
    )
    // 'l' is LZ4; '' the server's default (pglz), kept where LZ4 is missing.
    const method = server?.lz4 ? 'l' : ''
    expect(rows).toEqual([
      { table: 'ingest_failed', method },
      { table: 'ingest_inbox', method },
    ])
  })

  it('run each once: a store already current is left as it is', async () => {
    const before = await temp.store.query(
      'SELECT version FROM schema_migrations ORDER BY version',
    )
    await migrateStore(temp.store)
    expect(
      await temp.store.query(
        'SELECT version FROM schema_migrations ORDER BY version',
      ),
    ).toEqual(before)
  })
})
