import { Command } from 'commander'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { openTempStore } from '../../test/support/temp-store.js'
import { registerServeCommand } from './serve-command.js'

import type { TempStore } from '../../test/support/temp-store.js'

let temp: TempStore
beforeEach(async () => {
  temp = await openTempStore()
})
afterEach(async () => {
  await temp.dispose()
})

describe('leadlens serve', () => {
  it('names a bad --port and opens no store', async () => {
    let opened = false
    for (const port of ['abc', '-1', '70000', '80.5', '']) {
      const program = new Command().exitOverride()
      registerServeCommand(program, {
        storeLocation: () => 'test',
        openStore: async () => {
          opened = true
          return temp.store
        },
        out: () => {},
        err: () => {},
      })
      await expect(
        program.parseAsync(['serve', '--port', port], { from: 'user' }),
        port,
      ).rejects.toThrow(
        `--port must be a whole number from 0 (any free port) to 65535, not ${port}`,
      )
    }
    expect(opened).toBe(false)
  })

  it('stops serving when it cannot make the first source', async () => {
    // Another server made `default` a moment earlier: this insert fails.
    const execute = temp.store.execute.bind(temp.store)
    temp.store.execute = (sql, params) =>
      /INSERT INTO sources/.test(sql)
        ? Promise.reject(new Error('duplicate key value (source_id)'))
        : execute(sql, params)
    const listening = () =>
      process
        .getActiveResourcesInfo()
        .filter((kind) => kind === 'TCPServerWrap').length
    const before = listening()
    const printed: string[] = []
    const program = new Command().exitOverride()
    registerServeCommand(program, {
      storeLocation: () => 'test',
      openStore: async () => temp.store,
      out: (text) => printed.push(text),
      err: (text) => printed.push(text),
    })

    await expect(
      program.parseAsync(['serve', '--port', '0'], { from: 'user' }),
    ).rejects.toThrow('duplicate key value')
    expect(printed).toEqual([])
    // It listened, then closed: no server is left running on the store
    // (the handle goes in the loop's close phase, after close() resolves).
    await expect.poll(listening).toBe(before)
  })
})
