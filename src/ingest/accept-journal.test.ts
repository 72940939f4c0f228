import {
  appendFile,
  mkdtemp,
  readFile,
  readdir,
  rm,
  writeFile,
} from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { AcceptJournal } from './accept-journal.js'

import type { NewJournalRecord } from './journal-segments.js'

let directory = ''
const opened: AcceptJournal[] = []
beforeEach(async () => {
  directory = join(await mkdtemp(join(tmpdir(), 'leadlens-journal-')), 'inbox')
})
afterEach(async () => {
  for (const journal of opened.splice(0)) await journal.close()
  await rm(join(directory, '..'), { recursive: true, force: true })
})

const id = 'a1'.repeat(16)
const receivedAt = new Date('2030-03-01T12:00:00.123Z')

function record(body: string | Uint8Array, messages = 1): NewJournalRecord {
  return { sourceId: 'web', receivedAt, impliedType: null, messages, body }
}

async function openJournal(
  appliedTo = 0,
  options: Parameters<typeof AcceptJournal.open>[2] = {},
): Promise<AcceptJournal> {
  const journal = await AcceptJournal.open(
    directory,
    { id, appliedTo },
    options,
  )
  opened.push(journal)
  return journal
}

async function reopen(journal: AcceptJournal, appliedTo = 0) {
  await journal.close()
  opened.splice(opened.indexOf(journal), 1)
  return openJournal(appliedTo)
}

async function segmentFiles(): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith('.journal'))
}

// Record bytes: a 16-byte header, the envelope as JSON, then the body.
const envelopeBytes = JSON.stringify({
  s: 'web',
  r: receivedAt.getTime(),
  t: null,
  m: 1,
}).length

describe('the accept journal', () => {
  it('reads back, after a reopen, every body with the envelope it was accepted with', async () => {
    const journal = await openJournal()
    await journal.append([record('{"batch":[1]}'), record('ünïcödé ✓', 1)])
    await journal.append([
      { ...record('{}', 3), impliedType: 'track', sourceId: 'ios' },
    ])

    const again = await reopen(journal)
    const heads = again.heads
    expect(heads.map((head) => head.id)).toEqual([
      0,
      16 + envelopeBytes + 13,
      // The second body is 15 bytes in UTF-8: four 2-byte letters, a 3-byte ✓.
      16 + envelopeBytes + 13 + 16 + envelopeBytes + 15,
    ])
    expect(heads[2]).toMatchObject({
      sourceId: 'ios',
      impliedType: 'track',
      messages: 3,
      receivedAt,
      token: null,
    })
    expect(
      await Promise.all(heads.map((head) => again.readBody(head))),
    ).toEqual(['{"batch":[1]}', 'ünïcödé ✓', '{}'])
    expect(again.messagesWaiting).toBe(5)
    expect(again.end).toBe(heads[2]!.end)
  })

  it('writes bodies given as bytes as they are, and more records at once than one write takes', async () => {
    const journal = await openJournal()
    // 400 records are 1,200 buffers: more than one writev takes (IOV_MAX
    // is 1,024 on Linux).
    const bodies = Array.from({ length: 400 }, (_, n) => `{"n":${n},"é":"✓"}`)
    const bytes = bodies.map((body) => Buffer.from(body))
    // A view into a larger buffer: only its own bytes are written.
    const inside = Buffer.from('xx{"inside":true}yy').subarray(2, 17)
    await journal.append([...bytes.map((body) => record(body)), record(inside)])

    const again = await reopen(journal)
    expect(again.heads).toHaveLength(401)
    const read = await Promise.all(
      again.heads.map((head) => again.readBody(head)),
    )
    expect(read).toEqual([...bodies, '{"inside":true}'])
    expect(again.heads[1]!.bytes).toBe(Buffer.byteLength(bodies[1]!))
  })

  it('counts a body of bytes that are not UTF-8 by the bytes written, before and after a reopen', async () => {
    const journal = await openJournal()
    // A lone continuation byte: it reads back as U+FFFD, three bytes.
    const body = Buffer.from([0x7b, 0x80, 0x7d])
    const [head] = await journal.append([record(body)])
    expect(head!.bytes).toBe(3)

    const again = await reopen(journal)
    expect(again.heads[0]!.bytes).toBe(3)
    expect(await again.readBody(again.heads[0]!)).toBe('{\uFFFD}')
  })

  it.skipIf(!existsSync('/proc/self/fd'))(
    'closes every file it opened, though bodies are read at once',
    async () => {
      const openFiles = async () => (await readdir('/proc/self/fd')).length
      const before = await openFiles()
      const journal = await openJournal()
      const heads = await journal.append([
        record('a'),
        record('b'),
        record('c'),
      ])
      await Promise.all(heads.map((head) => journal.readBody(head)))
      await journal.close()
      opened.splice(0)

      expect(await openFiles()).toBe(before)
    },
  )

  it('reads back only what follows the position the store applied up to', async () => {
    const journal = await openJournal()
    const [first, second] = await journal.append([record('one'), record('two')])

    const again = await reopen(journal, first!.end)
    expect(again.heads.map((head) => head.id)).toEqual([second!.id])
    expect(await again.readBody(again.heads[0]!)).toBe('two')
  })

  it('cuts a torn record off the end, warns, and appends after the last whole one', async () => {
    const journal = await openJournal()
    await journal.append([record('kept')])
    await journal.close()
    opened.splice(0)
    const [segment] = await segmentFiles()
    // A crash mid-write: half a header and no body.
    await appendFile(join(directory, segment!), Buffer.from([0x4c, 0x4c, 0x52]))

    const warnings: object[] = []
    const again = await openJournal(0, {
      log: { warn: (details) => warnings.push(details) },
    })
    expect(again.heads).toHaveLength(1)
    expect(warnings).toEqual([expect.objectContaining({ bytes: 3 })])
    await again.append([record('after')])

    const third = await reopen(again)
    expect(
      await Promise.all(third.heads.map((head) => third.readBody(head))),
    ).toEqual(['kept', 'after'])
  })

  it('cuts a torn end that starts where the store applied up to, zeros or not', async () => {
    for (const tail of [
      Buffer.alloc(4_096),
      Buffer.from('LLR1 and then garbage'),
    ]) {
      const journal = await openJournal()
      const heads = await journal.append([record('applied'), record('too')])
      const appliedTo = heads[1]!.end
      await journal.close()
      opened.splice(0)
      const [segment] = await segmentFiles()
      await appendFile(join(directory, segment!), tail)

      const warnings: object[] = []
      const again = await openJournal(appliedTo, {
        log: { warn: (details) => warnings.push(details) },
      })
      expect(again.heads).toEqual([])
      expect(warnings).toEqual([
        expect.objectContaining({ position: appliedTo, bytes: tail.length }),
      ])
      const [next] = await again.append([record('after')])
      expect(next!.id).toBe(appliedTo)
      await again.close()
      opened.splice(0)
      await rm(directory, { recursive: true, force: true })
    }
  })

  it('stops at a record whose checksum fails and keeps the ones before it', async () => {
    const journal = await openJournal()
    const [, damaged] = await journal.append([
      record('first'),
      record('second'),
      record('third'),
    ])
    await journal.close()
    opened.splice(0)
    const [segment] = await segmentFiles()
    const path = join(directory, segment!)
    const bytes = await readFile(path)
    // One bit of the second body flipped (32: the segment header).
    const at = 32 + damaged!.end - 1
    bytes[at] = bytes[at]! ^ 1
    await writeFile(path, bytes)

    const again = await openJournal()
    expect(
      await Promise.all(again.heads.map((head) => again.readBody(head))),
    ).toEqual(['first'])
  })

  it('starts a new segment past its size and deletes the segments wholly applied', async () => {
    const journal = await openJournal(0, { segmentBytes: 100 })
    const heads = []
    for (let n = 0; n < 5; n++)
      heads.push(...(await journal.append([record('x'.repeat(60))])))
    expect(await segmentFiles()).toHaveLength(5)

    await journal.release(heads[2]!.end)
    expect(journal.heads.map((head) => head.id)).toEqual([
      heads[3]!.id,
      heads[4]!.id,
    ])
    expect(await segmentFiles()).toHaveLength(2)
    expect(await journal.readBody(journal.heads[1]!)).toBe('x'.repeat(60))

    const again = await reopen(journal, heads[2]!.end)
    expect(again.heads.map((head) => head.id)).toEqual([
      heads[3]!.id,
      heads[4]!.id,
    ])
  })

  it('refuses the journal of another store, naming its directory', async () => {
    const journal = await openJournal()
    await journal.append([record('theirs')])
    await journal.close()
    opened.splice(0)

    await expect(
      AcceptJournal.open(directory, { id: 'b2'.repeat(16), appliedTo: 0 }),
    ).rejects.toThrow(`${directory} holds the accept journal of another store`)
  })

  it('refuses a position that is no record boundary, and one past its end', async () => {
    const journal = await openJournal()
    const [only] = await journal.append([record('whole')])
    await journal.close()
    opened.splice(0)

    await expect(
      AcceptJournal.open(directory, { id, appliedTo: 5 }),
    ).rejects.toThrow('has no record at the position the store has applied')
    await expect(
      AcceptJournal.open(directory, { id, appliedTo: only!.end + 1 }),
    ).rejects.toThrow('before the position the store has applied')
    // Neither refusal changed the journal.
    expect((await openJournal()).heads).toHaveLength(1)
  })

  it('counts what waits without mending a torn end, as a reader beside a server must', async () => {
    const journal = await openJournal()
    await journal.append([record('a', 2), record('b', 3)])
    const [segment] = await segmentFiles()
    const path = join(directory, segment!)
    await appendFile(path, Buffer.from('torn'))
    const before = await readFile(path)

    expect(
      await AcceptJournal.countWaiting(directory, { id, appliedTo: 0 }),
    ).toBe(5)
    expect(await readFile(path)).toEqual(before)
  })

  it('lets one journal be open once in a process', async () => {
    await openJournal()
    await expect(
      AcceptJournal.open(directory, { id, appliedTo: 0 }),
    ).rejects.toThrow('is already open in this process')
  })
})
