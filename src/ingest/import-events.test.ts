import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { importEvents } from './import-events.js'

import type { TempStore } from '../../test/support/temp-store.js'

let temp: TempStore
let directory = ''
beforeEach(async () => {
  temp = await openTempStore()
  directory = await mkdtemp(join(tmpdir(), 'leadlens-import-'))
})
afterEach(async () => {
  await temp.dispose()
  await rm(directory, { recursive: true, force: true })
})

const track = (id: string) =>
  JSON.stringify({
    type: 'track',
    event: 'Report Run',
    userId: 'ann',
    messageId: id,
    timestamp: '2030-03-01T12:00:00Z',
  })

describe('importEvents', () => {
  it("reports each file's own lines and stored messages, and totals for all", async () => {
    const first = join(directory, 'first.ndjson')
    const second = join(directory, 'second.ndjson')
    await writeFile(first, [track('a1'), track('a2'), '{"type":'].join('\n'))
    await writeFile(second, [track('b1'), '{"type": "track"}'].join('\n'))

    const progress: { file: string; lines: number; stored: number }[] = []
    const summary = await importEvents(temp.store, [first, second], {
      onProgress: (step) => progress.push(step),
    })

    expect(progress).toEqual([
      { file: first, lines: 3, stored: 2 },
      { file: second, lines: 2, stored: 1 },
    ])
    expect(summary).toMatchObject({ files: 2, lines: 5, stored: 3 })
    // One issue for each problem: the bad track misses its event and id.
    const rejectedLines = new Set(
      summary.rejected.map((issue) => `${issue.file}:${issue.line}`),
    )
    expect([...rejectedLines]).toEqual([`${first}:3`, `${second}:2`])
  })
})
