/**
 * The wikiticker messages posted over real HTTP on loopback, in batches of
 * 100 from four concurrent senders, store the same counts as the file import.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { afterAll, describe, expect, it } from 'vitest'

import { importEvents } from '../src/ingest/import-events.js'
import { readLines } from '../src/ingest/read-lines.js'
import { addSource } from '../src/ingest/sources.js'
import { createApp } from '../src/server/create-app.js'
import { readStats } from '../src/catalog/read-stats.js'
import { openTempStore } from './support/temp-store.js'

import type { TempStore } from './support/temp-store.js'

const file = fileURLToPath(
  new URL(
    '../../shared/data/wikiticker/segment-messages.ndjson.gz',
    import.meta.url,
  ),
)
const hasData = existsSync(file)
if (!hasData) console.warn(`wikiticker HTTP test skipped: ${file} is absent`)

const stores: TempStore[] = []
afterAll(async () => {
  for (const temp of stores) await temp.dispose()
})

describe.skipIf(!hasData)('wikiticker over HTTP', () => {
  it('stores the same counts as leadlens import events', async () => {
    const viaFile = await openTempStore()
    const viaHttp = await openTempStore()
    stores.push(viaFile, viaHttp)
    await importEvents(viaFile.store, [file])

    const { writeKey } = await addSource(viaHttp.store, 'wiki')
    const { app, inbox } = createApp(viaHttp.store)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    const port =
      typeof address === 'object' && address !== null ? address.port : 0

    const batches: unknown[][] = [[]]
    for await (const { text } of readLines(file)) {
      const last = batches.at(-1) as unknown[]
      last.push(JSON.parse(text))
      if (last.length === 100) batches.push([])
    }

    const statuses: number[] = []
    const senders = Array.from({ length: 4 }, async (_, sender) => {
      for (let index = sender; index < batches.length; index += 4) {
        const response = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
          },
          body: JSON.stringify({ batch: batches[index] }),
        })
        statuses.push(response.status)
        await response.arrayBuffer()
      }
    })
    await Promise.all(senders)
    // Every answer came once its body was in the inbox: wait until applied.
    await inbox.drain()
    await app.close()

    expect(new Set(statuses)).toEqual(new Set([200]))
    const fromFile = await readStats(viaFile.store)
    const fromHttp = await readStats(viaHttp.store)
    expect(fromHttp).toEqual(fromFile)
    expect(fromHttp.events).toBe(54_752)
  }, 180_000)
})
