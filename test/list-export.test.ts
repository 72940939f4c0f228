/**
 * A 6,000-row list exported as CSV over a real socket arrives in many
 * chunks (the server streams it from the store a chunk at a time) and
 * imports back cleanly as users.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { saveDefinition } from '../src/catalog/definitions.js'
import { parseImportMapping } from '../src/connectors/csv/import-mapping.js'
import { importRecords } from '../src/connectors/csv/import-records.js'
import { createApp } from '../src/server/create-app.js'
import { addPerson } from '../src/server/people.js'
import { openTempStore } from './support/temp-store.js'

import type { TempStore } from './support/temp-store.js'

const count = 6_000
let directory: string
const stores: TempStore[] = []

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'leadlens-export-'))
})
afterAll(async () => {
  for (const temp of stores) await temp.dispose()
  await rm(directory, { recursive: true, force: true })
})

describe('CSV export', () => {
  it('streams every row of a 6,000-row list, which imports back cleanly', async () => {
    const source = await openTempStore()
    stores.push(source)
    const lines = ['id,email,created_at,plan,note']
    for (let index = 0; index < count; index++) {
      const id = `user-${String(index).padStart(5, '0')}`
      // Quotes, commas and accents survive the round trip.
      lines.push(
        `${id},${id}@example.com,2030-01-01T00:00:00Z,${index % 2 ? 'team' : 'trial'},"says ""hi"", café"`,
      )
    }
    const usersFile = join(directory, 'users.csv')
    await writeFile(usersFile, `${lines.join('\n')}\n`)
    await importRecords(
      source.store,
      'users',
      usersFile,
      parseImportMapping({ id: 'id' }, 'map'),
    )
    await saveDefinition(source.store, 'list', 'Everyone', {
      name: 'Everyone',
      of: 'users',
      columns: ['user.id', 'user.email', 'user.plan', 'user.note'],
    })
    const token = await addPerson(source.store, 'ops@example.com', 'admin')

    const { app } = createApp(source.store)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    const port =
      typeof address === 'object' && address !== null ? address.port : 0
    const response = await fetch(
      `http://127.0.0.1:${port}/api/lists/Everyone/export.csv?asOf=2030-02-01T00:00:00Z`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    )
    const decoder = new TextDecoder()
    let text = ''
    let chunks = 0
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      chunks++
      text += decoder.decode(chunk, { stream: true })
    }
    await app.close()

    expect(response.status).toBe(200)
    expect(chunks).toBeGreaterThan(1)
    const exported = text.trimEnd().split('\n')
    expect(exported[0]).toBe('user.id,user.email,user.plan,user.note')
    expect(exported).toHaveLength(count + 1)

    const target = await openTempStore()
    stores.push(target)
    const exportFile = join(directory, 'export.csv')
    await writeFile(exportFile, text)
    const summary = await importRecords(
      target.store,
      'users',
      exportFile,
      parseImportMapping(
        {
          id: 'user.id',
          columns: {
            'user.email': 'email',
            'user.plan': 'plan',
            'user.note': 'note',
          },
        },
        'map',
      ),
    )
    expect(summary).toMatchObject({ rows: count, stored: count, rejected: [] })
    const { sql } = target.store
    const roundTrip = await target.store.query(
      `SELECT user_id, email, ${sql.jsonText('traits', '$1')} AS plan,
         ${sql.jsonText('traits', '$2')} AS note
       FROM users WHERE user_id IN ('user-00000', 'user-05999') ORDER BY user_id`,
      [sql.jsonPath(['plan']), sql.jsonPath(['note'])],
    )
    expect(roundTrip).toEqual([
      {
        user_id: 'user-00000',
        email: 'user-00000@example.com',
        plan: 'trial',
        note: 'says "hi", café',
      },
      {
        user_id: 'user-05999',
        email: 'user-05999@example.com',
        plan: 'team',
        note: 'says "hi", café',
      },
    ])
  }, 120_000)
})
