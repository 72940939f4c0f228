/**
 * The PostgreSQL store against a real server (the postgres run of the
 * suite only): COPY, transactions, staging, streaming, URLs and errors.
 */
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { openStore } from '../src/store/open-store.js'
import { parsePostgresLocation } from '../src/store/postgres/postgres-location.js'
import { StoreError } from '../src/store/store-error.js'
import {
  createTempLocation,
  openTempStore,
  testPostgresUrl,
  testStoreDialect,
} from './support/temp-store.js'

import type { Store } from '../src/store/store.js'
import type { TempLocation, TempStore } from './support/temp-store.js'

describe.skipIf(testStoreDialect !== 'postgres')('PostgresStore', () => {
  let temp: TempStore
  let store: Store
  beforeAll(async () => {
    temp = await openTempStore()
    store = temp.store
    await store.execute(
      'CREATE TABLE samples (id INTEGER, label VARCHAR, at TIMESTAMPTZ, n DOUBLE PRECISION, ok BOOLEAN, doc JSONB)',
    )
  })
  afterAll(async () => {
    await temp.dispose()
  })
  afterEach(async () => {
    await store.execute('DELETE FROM samples')
  })

  it('bulk loads through COPY and reads back every character as it was sent', async () => {
    const labels = [
      'tab\there',
      'line\nbreak',
      'carriage\rreturn',
      'back\\slash',
      '\\N',
      '',
      'café 🚀 e\u0301 日本 \u2028',
      'quote\'s "double"',
    ]
    await store.appendRows(
      'samples',
      ['id', 'label', 'at', 'n', 'ok', 'doc'],
      labels.map((label, index) => [
        index,
        label,
        new Date(Date.UTC(2030, 0, 1, 0, 0, index, 5)),
        index + 0.25,
        index % 2 === 0,
        JSON.stringify({ label }),
      ]),
    )
    await store.appendRows('samples', ['id', 'label'], [[99, null]])

    const rows = await store.query<Record<string, unknown>>(
      'SELECT * FROM samples ORDER BY id',
    )
    expect(rows.map((row) => row.label)).toEqual([...labels, null])
    expect(rows[1]).toEqual({
      id: 1,
      label: 'line\nbreak',
      at: '2030-01-01T00:00:01.005Z',
      n: 1.25,
      ok: false,
      doc: '{"label":"line\\nbreak"}',
    })
  })

  it('refuses a NUL character with a clear error and stores nothing', async () => {
    await expect(
      store.appendRows(
        'samples',
        ['id', 'label'],
        [
          [1, 'fine'],
          [2, 'bad\0value'],
        ],
      ),
    ).rejects.toThrow(/NUL character/)
    expect(await store.query('SELECT count(*) AS n FROM samples')).toEqual([
      { n: 0 },
    ])
  })

  it('rolls a failed transaction back whole, runs afterCommit only on commit, and joins nested calls', async () => {
    const committed: string[] = []
    await expect(
      store.transaction(async () => {
        await store.execute('INSERT INTO samples (id) VALUES (1)')
        store.afterCommit(() => committed.push('failed'))
        await store.transaction(async () => {
          await store.execute('INSERT INTO samples (id) VALUES (2)')
        })
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await store.query('SELECT count(*) AS n FROM samples')).toEqual([
      { n: 0 },
    ])

    await store.transaction(async () => {
      await store.execute('INSERT INTO samples (id) VALUES (3)')
      store.afterCommit(() => committed.push('done'))
      await store.transaction(async () => {
        await store.execute('INSERT INTO samples (id) VALUES (4)')
      })
      expect(committed).toEqual([])
    })
    expect(committed).toEqual(['done'])
    expect(await store.query('SELECT count(*) AS n FROM samples')).toEqual([
      { n: 2 },
    ])
  })

  it('lets reads outside a transaction see only committed rows', async () => {
    let release = () => undefined as void
    const held = new Promise<void>((resolve) => (release = resolve))
    let inserted = () => undefined as void
    const hasInserted = new Promise<void>((resolve) => (inserted = resolve))

    const writing = store.transaction(async () => {
      await store.execute('INSERT INTO samples (id) VALUES (1)')
      inserted()
      await held
    })
    await hasInserted
    expect(await store.query('SELECT count(*) AS n FROM samples')).toEqual([
      { n: 0 },
    ])
    release()
    await writing
    expect(await store.query('SELECT count(*) AS n FROM samples')).toEqual([
      { n: 1 },
    ])
  })

  it('stages rows in a session-private table, replaced by each stage and gone with a rollback', async () => {
    const staged = store.sql.staged('staged_sample')
    await store.transaction(async () => {
      await store.stage('staged_sample', { id: 'VARCHAR' }, [['a'], ['b']])
      await store.stage('staged_sample', { id: 'VARCHAR' }, [['c']])
      expect(await store.query(`SELECT id FROM ${staged}`)).toEqual([
        { id: 'c' },
      ])
    })
    // Another session (the read pool) has no such table.
    await expect(store.query(`SELECT id FROM ${staged}`)).rejects.toThrow(
      StoreError,
    )

    await expect(
      store.transaction(async () => {
        await store.stage('staged_other', { id: 'VARCHAR' }, [['x']])
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    await store.transaction(async () => {
      await store.stage('staged_other', { id: 'VARCHAR' }, [['y']])
      expect(
        await store.query(`SELECT id FROM ${store.sql.staged('staged_other')}`),
      ).toEqual([{ id: 'y' }])
    })
  })

  it('streams a large result in chunks through a cursor', async () => {
    const chunks: number[] = []
    let total = 0
    for await (const rows of store.stream<{ n: number }>(
      'SELECT n FROM generate_series(1, $1::integer) AS n ORDER BY n',
      [4_500],
    )) {
      chunks.push(rows.length)
      total += rows.reduce((sum, row) => sum + row.n, 0)
    }
    expect(chunks).toEqual([2_000, 2_000, 500])
    expect(total).toBe((4_500 * 4_501) / 2)
  })

  it('reads counts, sums and instants as plain values', async () => {
    const [row] = await store.query(
      `SELECT count(*) AS c, sum(1::numeric) AS s, 9007199254740993::bigint AS big,
         TIMESTAMPTZ '2030-01-01 12:00:00+02' AS at, DATE '2030-01-02' AS day,
         '{"b": 1, "a": [1, 2]}'::jsonb AS doc`,
    )
    expect(row).toEqual({
      c: 1,
      s: 1,
      big: '9007199254740993',
      at: '2030-01-01T10:00:00.000Z',
      day: '2030-01-02T00:00:00.000Z',
      doc: '{"a":[1,2],"b":1}',
    })
  })

  it('opens its writer connection again after the server ended it, between transactions', async () => {
    const [before] = await store.transaction(() =>
      store.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'),
    )
    const admin = new pg.Client({
      connectionString: parsePostgresLocation(testPostgresUrl).connectionString,
    })
    await admin.connect()
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [before?.pid])
    } finally {
      await admin.end()
    }
    // The end of the session reaches the client a moment later.
    await new Promise((resolve) => setTimeout(resolve, 200))

    await store.transaction(async () => {
      await store.stage('staged_after_loss', { id: 'VARCHAR' }, [['x']])
      await store.execute(
        `INSERT INTO samples (id, label) SELECT 7, id FROM ${store.sql.staged('staged_after_loss')}`,
      )
    })
    const [after] = await store.transaction(() =>
      store.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'),
    )
    expect(after?.pid).not.toBe(before?.pid)
    expect(
      await store.query('SELECT id, label FROM samples WHERE id = 7'),
    ).toEqual([{ id: 7, label: 'x' }])
  })

  it('runs the session in UTC', async () => {
    expect(await store.query('SHOW TimeZone')).toEqual([{ TimeZone: 'UTC' }])
  })
})

describe.skipIf(testStoreDialect !== 'postgres')(
  'opening a PostgreSQL store',
  () => {
    const locations: TempLocation[] = []
    afterAll(async () => {
      for (const location of locations) await location.dispose()
    })

    it('creates the schema of ?schema=, migrating it once when two processes open it at once', async () => {
      const location = await createTempLocation()
      locations.push(location)
      const [first, second] = await Promise.all([
        openStore(location.path),
        openStore(location.path),
      ])
      try {
        expect(
          await first.query('SELECT count(*) AS n FROM schema_migrations'),
        ).toEqual(
          await second.query('SELECT count(*) AS n FROM schema_migrations'),
        )
        expect(await first.query('SELECT current_schema() AS s')).toEqual([
          { s: new URL(location.path).searchParams.get('schema') },
        ])
      } finally {
        await first.close()
        await second.close()
      }
    })

    it('never shows the password in its location', async () => {
      const location = await createTempLocation()
      locations.push(location)
      const url = new URL(location.path)
      url.password = 'not-shown'
      if (url.username === '') url.username = 'postgres'
      const store = await openStore(url.toString())
      try {
        expect(store.location).not.toContain('not-shown')
        expect(store.location).toContain(':***@')
      } finally {
        await store.close()
      }
    })

    it('says which server it cannot reach, without the password', async () => {
      const url = new URL(testPostgresUrl)
      url.port = '1'
      url.username = 'ann'
      url.password = 's3cret'
      let thrown: unknown
      try {
        await openStore(url.toString())
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(StoreError)
      expect(thrown).toMatchObject({ code: 'STORE_UNREACHABLE' })
      const { message, userMessage } = thrown as StoreError
      expect(userMessage).toContain(`${url.hostname}:1`)
      expect(`${message} ${userMessage}`).not.toContain('s3cret')
    })

    it('names the database that does not exist', async () => {
      const url = new URL(testPostgresUrl)
      url.pathname = '/leadlens_no_such_database'
      await expect(openStore(url.toString())).rejects.toMatchObject({
        code: 'STORE_OPEN_FAILED',
        userMessage: expect.stringContaining('leadlens_no_such_database'),
      })
    })
  },
)
