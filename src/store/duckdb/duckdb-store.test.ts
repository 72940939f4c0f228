import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../../test/support/temp-store.js'
import { StoreError } from '../store-error.js'

import type { TempStore } from '../../../test/support/temp-store.js'

let temp: TempStore
beforeEach(async () => {
  temp = await openTempStore('duckdb')
})
afterEach(async () => {
  await temp.dispose()
})

describe('DuckDbStore', () => {
  it('rolls a failed transaction back whole, staging tables included, and stages again after', async () => {
    await expect(
      temp.store.transaction(async () => {
        await temp.store.stage('staged_x', { id: 'VARCHAR' }, [['a']])
        await temp.store.execute(
          "INSERT INTO settings VALUES ('timezone', 'UTC')",
        )
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')

    expect(
      await temp.store.query('SELECT count(*) AS n FROM settings'),
    ).toEqual([{ n: 0 }])
    // Staging tables live on the writer's session: read them inside.
    const staged = await temp.store.transaction(async () => {
      await temp.store.stage('staged_x', { id: 'VARCHAR' }, [['b']])
      return temp.store.query('SELECT id FROM temp.staged_x')
    })
    expect(staged).toEqual([{ id: 'b' }])
  })

  it('reads committed data on its own connection while a write is under way', async () => {
    let release = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let inserted = () => {}
    const insertedYet = new Promise<void>((resolve) => {
      inserted = resolve
    })
    const writing = temp.store.transaction(async () => {
      await temp.store.execute(
        "INSERT INTO settings VALUES ('timezone', 'UTC')",
      )
      inserted()
      await gate
    })

    await insertedYet
    // This read is outside the transaction: it sees only committed rows.
    expect(
      await temp.store.query('SELECT count(*) AS n FROM settings'),
    ).toEqual([{ n: 0 }])
    release()
    await writing
    expect(
      await temp.store.query('SELECT count(*) AS n FROM settings'),
    ).toEqual([{ n: 1 }])
  })

  it('names the statement when one fails', async () => {
    await expect(
      temp.store.query('SELECT * FROM no_such_table'),
    ).rejects.toThrow(StoreError)
    await expect(
      temp.store.query('SELECT * FROM no_such_table'),
    ).rejects.toThrow(/no_such_table/)
  })
})
