import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import {
  openTempStore,
  testStoreDialect,
} from '../../test/support/temp-store.js'
import { parsePostgresLocation } from '../store/postgres/postgres-location.js'
import { quoteIdentifier } from '../store/store.js'
import { readStats } from '../catalog/read-stats.js'
import { moveToFailed } from './apply-inbox.js'
import { IngestInbox } from './ingest-inbox.js'
import { forgetLostJournal } from './journal-queue.js'

import type { TempStore } from '../../test/support/temp-store.js'
import type { IngestInboxOptions } from './ingest-inbox.js'

let temp: TempStore
beforeEach(async () => {
  temp = await openTempStore()
})
afterEach(async () => {
  await temp.dispose()
})

const receivedAt = new Date('2030-03-01T12:00:00Z')

function trackBody(ids: string[], sentAt?: string): string {
  return JSON.stringify({
    batch: ids.map((id) => ({
      type: 'track',
      event: 'Report Run',
      userId: 'ann',
      messageId: id,
      timestamp: '2030-03-01T11:59:00Z',
    })),
    ...(sentAt === undefined ? {} : { sentAt }),
  })
}

/** Writes an inbox row as an earlier (crashed) process would have left it. */
async function leaveInInbox(body: string, messages: number) {
  await temp.store.executeCommitted(
    `INSERT INTO ingest_inbox
     (source_id, received_at, implied_type, body, messages, bytes)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    ['web', receivedAt, null, body, messages, body.length],
  )
}

/** An inbox on the test store that has applied all it found at start. */
async function applyWhatIsLeft(
  options: IngestInboxOptions = {},
): Promise<IngestInbox> {
  const inbox = new IngestInbox(temp.store, options)
  await inbox.start()
  await inbox.drain()
  return inbox
}

/** Makes the next `times` inserts of people fail with `error()`; returns the undo. */
function failInsertsOfPeople(times: number, error: () => Error): () => void {
  let left = times
  const execute = temp.store.execute.bind(temp.store)
  temp.store.execute = async (sql, params) => {
    if (sql.includes('INSERT INTO users') && left-- > 0) throw error()
    return execute(sql, params)
  }

  return () => {
    temp.store.execute = execute
  }
}

const count = async (table: string) =>
  Number((await temp.store.query(`SELECT count(*) AS n FROM ${table}`))[0]?.n)

describe('the ingestion inbox', () => {
  it('keeps an accepted body until it is applied, then holds its events and no inbox row', async () => {
    const inbox = new IngestInbox(temp.store)
    await inbox.accept({
      sourceId: 'web',
      receivedAt,
      impliedType: null,
      body: trackBody(['a1', 'a2']),
      messages: 2,
    })
    // The accept is durable on its own: a reader of the store (and of its
    // journal, on DuckDB) sees it waiting, unless it is applied already.
    const { ingest } = await readStats(temp.store)
    expect(ingest.waiting + (await count('events'))).toBeGreaterThan(0)

    await inbox.drain()
    expect(await count('events')).toBe(2)
    expect(await count('ingest_inbox')).toBe(0)
    expect((await readStats(temp.store)).ingest.waiting).toBe(0)
    expect(await inbox.readBacklog()).toBe(0)
    await inbox.stop()
  })

  it('applies on start what an earlier process left, with the receipt time it was accepted at', async () => {
    // sentAt ten minutes after receipt: the client clock is 10 minutes
    // fast, so the event time moves 10 minutes back (11:49), as at acceptance.
    await leaveInInbox(trackBody(['c1', 'c2', 'c3'], '2030-03-01T12:10:00Z'), 3)
    const inbox = new IngestInbox(temp.store)
    await inbox.start()
    expect(await inbox.readBacklog()).toBe(3)
    await inbox.drain()

    const events = await temp.store.query<{ timestamp: string }>(
      'SELECT timestamp FROM events ORDER BY message_id',
    )
    expect(events.map((e) => new Date(e.timestamp).toISOString())).toEqual(
      Array(3).fill('2030-03-01T11:49:00.000Z'),
    )
    expect(await inbox.readBacklog()).toBe(0)
    await inbox.stop()
  })

  it('moves a body it cannot apply to ingest_failed, whole, and applies the bodies around it', async () => {
    await leaveInInbox(trackBody(['g1', 'g2']), 2)
    await leaveInInbox('{"batch": [ not json', 5)
    await leaveInInbox(trackBody(['g3']), 1)
    const errors: string[] = []
    const inbox = await applyWhatIsLeft({
      log: {
        warn: () => undefined,
        error: (_details, message) => errors.push(message),
      },
    })

    const ids = await temp.store.query<{ message_id: string }>(
      'SELECT message_id FROM events ORDER BY 1',
    )
    expect(ids.map((row) => row.message_id)).toEqual(['g1', 'g2', 'g3'])
    const failed = await temp.store.query<{
      body: string
      messages: number
      error: string
    }>('SELECT body, messages, error FROM ingest_failed')
    expect(failed).toHaveLength(1)
    expect(failed[0]?.body).toBe('{"batch": [ not json')
    expect(Number(failed[0]?.messages)).toBe(5)
    expect(failed[0]?.error).toMatch(/JSON/)
    expect(errors).toContain(
      'an ingested body could not be applied; kept in ingest_failed',
    )
    expect(await count('ingest_inbox')).toBe(0)
    expect(await inbox.readBacklog()).toBe(0)
    await inbox.stop()
  })

  it('retries a body whose write fails twice (a race with another writer), and sets nothing aside', async () => {
    await leaveInInbox(trackBody(['r1']), 1)
    // The first two inserts of people fail as a concurrent writer's
    // unique-key race would.
    const restore = failInsertsOfPeople(
      2,
      () => new Error('duplicate key value violates unique constraint'),
    )
    const inbox = await applyWhatIsLeft()
    restore()

    expect(await count('events')).toBe(1)
    expect(await count('ingest_failed')).toBe(0)
    expect(await count('ingest_inbox')).toBe(0)
    await inbox.stop()
  })

  it('never sets a body aside for lost connections, however many', async () => {
    await leaveInInbox(trackBody(['k1']), 1)
    // Four applies in a row lose the server's session, as a restart would.
    const restore = failInsertsOfPeople(4, () => {
      const ended = Object.assign(
        new Error('terminating connection due to administrator command'),
        { code: '57P01' },
      )
      return new Error('insert failed', { cause: ended })
    })
    const inbox = await applyWhatIsLeft()
    restore()

    expect(await count('events')).toBe(1)
    expect(await count('ingest_failed')).toBe(0)
    await inbox.stop()
  })

  it('counts the backlog from the store, so a server sees what another applied', async () => {
    // Servers share the table; a DuckDB file's journal has one process.
    const accepting = new IngestInbox(temp.store, { queue: 'table' })
    // The first server accepts but, being busy, applies nothing yet.
    await leaveInInbox(trackBody(['b1', 'b2']), 2)
    expect(await accepting.readBacklog()).toBe(2)

    const applying = await applyWhatIsLeft({ queue: 'table' })
    expect(await accepting.readBacklog()).toBe(0)
    expect(accepting.backlog).toBe(0)
    await applying.stop()
    await accepting.stop()
  })

  it('applies many bodies in transactions no larger than its limits', async () => {
    for (let n = 0; n < 12; n++) await leaveInInbox(trackBody([`l${n}`]), 1)
    const applied: number[] = []
    const inbox = await applyWhatIsLeft({
      apply: { maxMessages: 5 },
      onApplied: (stored) => applied.push(stored),
    })
    expect(applied).toEqual([5, 5, 2])
    expect(await count('events')).toBe(12)
    await inbox.stop()
  })

  describe('giving way to requests that keep coming', () => {
    /** Accepts one body every 10 ms, not waiting for commits, until `until()` or `ms` pass. */
    async function keepAccepting(
      inbox: IngestInbox,
      ms: number,
      until: () => Promise<boolean> = async () => false,
    ): Promise<number> {
      const started = Date.now()
      const accepted: Promise<void>[] = []
      while (Date.now() - started < ms && !(await until())) {
        const id = `k${accepted.length}`
        accepted.push(
          inbox.accept({
            sourceId: 'web',
            receivedAt: new Date(),
            impliedType: null,
            body: trackBody([id]),
            messages: 1,
          }),
        )
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await Promise.all(accepted)
      return accepted.length
    }

    const events = async () =>
      Number(
        (
          await temp.store.query<{ n: number }>(
            'SELECT count(*) AS n FROM events',
          )
        )[0]?.n,
      )

    it('applies nothing while requests arrive closer than giveWayMs, then everything once they pause', async () => {
      const inbox = new IngestInbox(temp.store, {
        giveWayMs: 1_500,
        maxApplyLagMs: 600_000,
      })
      await inbox.start()
      // Done with what start found (nothing), so no apply is under way.
      await inbox.drain()
      const sent = await keepAccepting(inbox, 300)
      expect(sent).toBeGreaterThan(5)
      expect(await events()).toBe(0)
      expect(await inbox.readBacklog()).toBe(sent)

      // No drain(): the applier starts by itself once the requests pause.
      while ((await inbox.readBacklog()) > 0)
        await new Promise((resolve) => setTimeout(resolve, 50))
      expect(await events()).toBe(sent)
      await inbox.stop()
    })

    it('applies once the oldest message has waited maxApplyLagMs, though requests keep coming', async () => {
      const inbox = new IngestInbox(temp.store, {
        giveWayMs: 600_000,
        maxApplyLagMs: 200,
      })
      await inbox.start()
      // Stops once something is applied; 30 s is only a cap for a broken applier.
      await keepAccepting(inbox, 30_000, async () => (await events()) > 0)
      expect(await events()).toBeGreaterThan(0)
      await inbox.stop()
    })

    it('applies at once on stop(), however recent the last request', async () => {
      const inbox = new IngestInbox(temp.store, {
        giveWayMs: 600_000,
        maxApplyLagMs: 600_000,
      })
      await inbox.start()
      const sent = await keepAccepting(inbox, 100)
      await inbox.stop()
      expect(await events()).toBe(sent)
    })
  })

  it('names a bad ingestion setting in the environment instead of guessing', () => {
    const saved = { ...process.env }
    try {
      process.env.LEADLENS_INGEST_APPLY_LAG_MS = '2s'
      expect(() => new IngestInbox(temp.store)).toThrow(
        'LEADLENS_INGEST_APPLY_LAG_MS=2s is not a number of milliseconds',
      )
      process.env.LEADLENS_INGEST_APPLY_LAG_MS = '0'
      process.env.LEADLENS_INGEST_BACKLOG_LIMIT = '0'
      expect(() => new IngestInbox(temp.store)).toThrow(
        'LEADLENS_INGEST_BACKLOG_LIMIT=0 is not a number of messages of at least 1',
      )
    } finally {
      process.env = saved
    }
  })

  it('refuses accepts once stopped, and says so', async () => {
    const inbox = new IngestInbox(temp.store)
    await inbox.stop()
    await expect(
      inbox.accept({
        sourceId: 'web',
        receivedAt,
        impliedType: null,
        body: trackBody(['s1']),
        messages: 1,
      }),
    ).rejects.toThrow('the ingestion inbox is stopped')
  })

  describe.skipIf(testStoreDialect !== 'duckdb')(
    "a DuckDB file's accept journal",
    () => {
      const accepted = (ids: string[], body = trackBody(ids)) => ({
        sourceId: 'web',
        receivedAt,
        impliedType: null,
        body,
        messages: ids.length,
      })
      // An inbox that applies nothing on its own, nor when stopped: what
      // it accepts is left for the next start, as after a crash.
      const holdingInbox = () =>
        new IngestInbox(temp.store, {
          giveWayMs: 60_000,
          maxApplyLagMs: 60_000,
          stopApplyingWithinMs: 0,
        })

      it('keeps what it accepted across a restart, and applies it once', async () => {
        const first = holdingInbox()
        await first.accept(accepted(['j1', 'j2']))
        await first.accept(accepted(['j3']))
        await first.stop()
        expect(await count('events')).toBe(0)
        expect(await count('ingest_inbox')).toBe(0)

        const second = await applyWhatIsLeft()
        expect(await count('events')).toBe(3)
        await second.stop()

        const third = new IngestInbox(temp.store)
        await third.start()
        expect(await third.readBacklog()).toBe(0)
        await third.drain()
        expect(await count('events')).toBe(3)
        expect(await count('message_ids')).toBe(3)
        await third.stop()
      })

      it('moves a journal body it cannot apply to ingest_failed, whole, and applies the bodies around it', async () => {
        const first = holdingInbox()
        await first.accept(accepted(['f1']))
        await first.accept(accepted(['x', 'y'], '{"batch": [ not json'))
        await first.accept(accepted(['f2']))
        await first.stop()

        const inbox = await applyWhatIsLeft()
        const ids = await temp.store.query<{ message_id: string }>(
          'SELECT message_id FROM events ORDER BY 1',
        )
        expect(ids.map((row) => row.message_id)).toEqual(['f1', 'f2'])
        const failed = await temp.store.query<{
          body: string
          messages: number
        }>('SELECT body, messages FROM ingest_failed')
        expect(failed).toEqual([{ body: '{"batch": [ not json', messages: 2 }])
        expect(await inbox.readBacklog()).toBe(0)
        await inbox.stop()
      })

      it('applies rows an earlier version left in the inbox table before the journal', async () => {
        await leaveInInbox(trackBody(['t1']), 1)
        const inbox = new IngestInbox(temp.store, { giveWayMs: 0 })
        await inbox.start()
        await inbox.accept(accepted(['t2']))
        await inbox.drain()

        expect(await count('events')).toBe(2)
        expect(await count('ingest_inbox')).toBe(0)
        expect((await readStats(temp.store)).ingest.waiting).toBe(0)
        await inbox.stop()
      })

      it('refuses a journal left beside the store by another one, naming it', async () => {
        const directory = temp.store.journalDirectory as string
        await mkdir(directory, { recursive: true })
        await writeFile(join(directory, '0000000000000000.journal'), 'x')

        const inbox = new IngestInbox(temp.store)
        await expect(inbox.start()).rejects.toThrow(
          `${directory} holds an accept journal, but the store`,
        )
        await expect(inbox.accept(accepted(['r1']))).rejects.toThrow(
          'holds an accept journal',
        )
      })

      it('refuses to start over a journal gone missing, until told to forget it', async () => {
        const directory = temp.store.journalDirectory as string
        await (await applyWhatIsLeft()).stop()
        const first = holdingInbox()
        await first.accept(accepted(['m1']))
        await first.stop()
        await (await applyWhatIsLeft()).stop()
        const second = holdingInbox()
        await second.accept(accepted(['m2', 'm3']))
        await second.stop()
        // The store moves without its .inbox directory.
        await rm(directory, { recursive: true })

        const missing = 'holds no accept journal, but this store has applied'
        const stats = (await readStats(temp.store)).ingest
        expect(stats.waiting).toBe(0)
        expect(stats.journalProblem).toContain(`${directory} ${missing}`)
        await expect(new IngestInbox(temp.store).start()).rejects.toThrow(
          missing,
        )
        // An empty directory is no journal either.
        await expect(new IngestInbox(temp.store).start()).rejects.toThrow(
          missing,
        )

        await forgetLostJournal(temp.store)
        const fresh = new IngestInbox(temp.store, { giveWayMs: 0 })
        await fresh.start()
        await fresh.accept(accepted(['m4']))
        await fresh.drain()
        await fresh.stop()
        const ids = await temp.store.query<{ message_id: string }>(
          'SELECT message_id FROM events ORDER BY 1',
        )
        expect(ids.map((row) => row.message_id)).toEqual(['m1', 'm4'])
      })

      it('names what it cannot read in the journal directory, for stats and start alike', async () => {
        const directory = temp.store.journalDirectory as string
        await mkdir(join(directory, '0000000000000000.journal'), {
          recursive: true,
        })
        await temp.store.execute(
          "UPDATE ingest_journal SET journal_id = 'd4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4'",
        )
        const unreadable = `${join(directory, '0000000000000000.journal')} cannot be read`
        expect((await readStats(temp.store)).ingest.journalProblem).toContain(
          unreadable,
        )
        await expect(new IngestInbox(temp.store).start()).rejects.toThrow(
          unreadable,
        )

        // A file where the directory should be.
        await rm(directory, { recursive: true })
        await writeFile(directory, 'not a directory')
        expect((await readStats(temp.store)).ingest.journalProblem).toContain(
          `${directory} cannot be read as an accept journal`,
        )
      })

      it('has stats name a journal they cannot count, instead of showing 0 waiting', async () => {
        const directory = temp.store.journalDirectory as string
        const first = holdingInbox()
        await first.accept(accepted(['s1', 's2']))
        await first.stop()
        expect((await readStats(temp.store)).ingest).toMatchObject({
          waiting: 2,
          journalProblem: null,
        })

        // The store forgets its journal, as one removed and made again would.
        await temp.store.execute('UPDATE ingest_journal SET journal_id = NULL')
        const stray = (await readStats(temp.store)).ingest
        expect(stray.waiting).toBe(0)
        expect(stray.journalProblem).toContain(
          `${directory} holds an accept journal, but the store`,
        )

        // The store knows another journal than the one beside it.
        await temp.store.execute(
          "UPDATE ingest_journal SET journal_id = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3'",
        )
        const foreign = (await readStats(temp.store)).ingest
        expect(foreign.waiting).toBe(0)
        expect(foreign.journalProblem).toContain(
          'holds the accept journal of another store',
        )
      })
    },
  )

  it.skipIf(testStoreDialect !== 'postgres')(
    'sets aside no body another server holds (PostgreSQL)',
    async () => {
      await leaveInInbox('{"batch": [', 1)
      const [row] = await temp.store.query<{ id: number }>(
        'SELECT id FROM ingest_inbox',
      )
      const location = parsePostgresLocation(temp.path)
      const other = new pg.Client({
        connectionString: location.connectionString,
      })
      await other.connect()
      try {
        await other.query('BEGIN')
        await other.query(
          `SELECT id FROM ${quoteIdentifier(location.schema)}.ingest_inbox FOR UPDATE`,
        )
        expect(await moveToFailed(temp.store, Number(row?.id), 'x')).toBe(0)
        await other.query('ROLLBACK')
      } finally {
        await other.end()
      }
      expect(await count('ingest_inbox')).toBe(1)
      expect(await count('ingest_failed')).toBe(0)
    },
  )
})
