/**
 * `leadlens serve` on a store with no source makes one and prints its key
 * once. When the server cannot start, it makes none: a key nobody saw
 * would leave the next start with a source and no key to send.
 */
import { mkdir, rename } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { AcceptJournal } from '../src/ingest/accept-journal.js'
import {
  assertBuilt,
  runCli,
  startServe,
  stopServe,
} from './support/leadlens-cli.js'
import { createTempLocation, testStoreDialect } from './support/temp-store.js'

import type { TempLocation } from './support/temp-store.js'

let location: TempLocation
beforeAll(async () => {
  assertBuilt()
  location = await createTempLocation()
})
afterAll(async () => {
  await location.dispose()
})

describe.skipIf(testStoreDialect === 'postgres')(
  'leadlens serve and its first write key',
  () => {
    it('makes no source when it refuses to start, and prints the key once it starts', async () => {
      // Another store's journal where this new store's would go.
      const inbox = `${location.path}.inbox`
      await mkdir(join(inbox, '..'), { recursive: true })
      const stray = await AcceptJournal.open(inbox, {
        id: AcceptJournal.newId(),
        appliedTo: 0,
      })
      await stray.close()

      const refused = await runCli([
        '--db',
        location.path,
        'serve',
        '--port',
        '0',
      ])
      expect(refused.code, refused.stderr).not.toBe(0)
      expect(refused.stderr).toContain(inbox)
      const none = await runCli(['--db', location.path, 'sources', 'list'])
      expect(none.code, none.stderr).toBe(0)
      expect(none.stdout).not.toContain('default')

      // The stray journal moved away: the server starts and shows a key.
      await rename(inbox, `${inbox}.elsewhere`)
      const serve = await startServe(
        location.path,
        join(inbox, '..', 'serve.log'),
      )
      try {
        await expect
          .poll(() => serve.stderr())
          .toMatch(
            /write key {2}ll_\S+ {2}\(source "default", shown only once\)/,
          )
      } finally {
        await stopServe(serve)
      }
    })
  },
)
