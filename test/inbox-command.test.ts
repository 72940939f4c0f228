/**
 * `leadlens inbox apply`: what a stopped server left in the inbox is applied
 * from the CLI, a body that cannot be applied is set aside with its error,
 * and `--retry-failed` gives it another try once it can be read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { assertBuilt, runCli } from './support/leadlens-cli.js'
import { createTempLocation, withStore } from './support/temp-store.js'

import type { TempLocation } from './support/temp-store.js'

let location: TempLocation
beforeAll(async () => {
  assertBuilt()
  location = await createTempLocation()
  const added = await runCli(['--db', location.path, 'sources', 'add', 'web'])
  expect(added.code, added.stderr).toBe(0)
})
afterAll(async () => {
  await location.dispose()
})

const body = (ids: string[]) =>
  JSON.stringify({
    batch: ids.map((messageId) => ({
      type: 'track',
      event: 'Report Run',
      userId: 'ann',
      messageId,
      timestamp: '2030-03-01T11:59:00Z',
    })),
  })

describe('leadlens inbox apply', () => {
  it('applies what the inbox holds, sets aside what it cannot read, and retries it on request', async () => {
    await withStore(location.path, async (store) => {
      for (const [text, messages] of [
        [body(['i1', 'i2']), 2],
        ['{"batch": [', 3],
      ] as const) {
        await store.executeCommitted(
          `INSERT INTO ingest_inbox
           (source_id, received_at, implied_type, body, messages, bytes)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          ['web', new Date('2030-03-01T12:00:00Z'), null, text, messages, 10],
        )
      }
    })

    const first = await runCli(['--db', location.path, 'inbox', 'apply'])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout.trim()).toBe(
      '2 new messages stored; 0 messages waiting, 1 bodies failed',
    )
    expect(first.stderr).toContain('kept in ingest_failed')

    const stats = await runCli([
      '--db',
      location.path,
      'stats',
      '--format',
      'json',
    ])
    expect(JSON.parse(stats.stdout)).toMatchObject({
      events: 2,
      ingest: { waiting: 0, failedBodies: 1, failedMessages: 3 },
    })

    // Someone repairs the body; a retry applies it.
    await withStore(location.path, (store) =>
      store.execute('UPDATE ingest_failed SET body = $1', [body(['i3'])]),
    )
    const retry = await runCli([
      '--db',
      location.path,
      'inbox',
      'apply',
      '--retry-failed',
    ])
    expect(retry.code, retry.stderr).toBe(0)
    expect(retry.stderr).toContain('1 failed bodies moved back to the inbox')
    expect(retry.stdout.trim()).toBe(
      '1 new messages stored; 0 messages waiting, 0 bodies failed',
    )
  })
})
