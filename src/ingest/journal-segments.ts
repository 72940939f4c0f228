/**
 * The accept journal's files (see accept-journal.ts): segments named by the
 * position of their first record, each starting with a header (magic,
 * journal id, start position); records of a header (magic, meta length,
 * body length, CRC-32 of meta and body), the envelope as JSON and the body.
 * Positions count record bytes only, across segments. Reading them back
 * stops at the first record that does not read whole (a torn end).
 */
import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  openSync,
  writeSync,
  writevSync,
} from 'node:fs'
import { open, readdir, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'

import { bytesOf } from './body-bytes.js'

import type { BodyJson } from './body-bytes.js'
import type { MessageType } from './normalize-message.js'

/** One accepted body as the journal holds it. */
export interface JournalRecord {
  sourceId: string
  receivedAt: Date
  impliedType: MessageType | null
  messages: number
  body: string
}

/** A record to write: its body as text or as the UTF-8 bytes received. */
export type NewJournalRecord = Omit<JournalRecord, 'body'> & { body: BodyJson }

/** A waiting record: where it is and what it holds, without its body. */
export interface JournalHead {
  /** Its position: the record's id. */
  id: number
  /** The position just past it. */
  end: number
  sourceId: string
  receivedAt: Date
  impliedType: MessageType | null
  messages: number
  /** Body bytes. */
  bytes: number
  /** The accepting process's parsed copy, if it kept one. */
  token: string | null
}

export interface Segment {
  start: number
  path: string
  /** Record bytes in it. */
  length: number
}

export interface JournalWarnings {
  warn(details: object, message: string): void
}

/** A journal that cannot be used as it is; the message says what to do. */
export class JournalError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JournalError'
  }
}

const segmentMagic = Buffer.from('LLJOURN1')
export const segmentHeaderBytes = 32
const recordMagic = 0x4c4c5231 // 'LLR1'
const recordHeaderBytes = 16
const recordMagicBytes = Buffer.from('LLR1')

export const segmentPattern = /^\d{16}\.journal$/

function segmentName(start: number): string {
  return `${String(start).padStart(16, '0')}.journal`
}

export function writeAll(fd: number, buffer: Buffer, position: number): void {
  let written = 0
  while (written < buffer.length) {
    written += writeSync(
      fd,
      buffer,
      written,
      buffer.length - written,
      position + written,
    )
  }
}

export function createSegment(
  directory: string,
  id: string,
  start: number,
): Segment {
  const path = join(directory, segmentName(start))
  const header = Buffer.alloc(segmentHeaderBytes)
  segmentMagic.copy(header, 0)
  Buffer.from(id, 'hex').copy(header, 8)
  header.writeBigUInt64BE(BigInt(start), 24)
  const fd = openSync(path, 'wx')
  try {
    writeAll(fd, header, 0)
    fdatasyncSync(fd)
  } finally {
    closeSync(fd)
  }
  // The new name itself must survive a crash.
  const folder = openSync(directory, 'r')
  try {
    fsyncSync(folder)
  } finally {
    closeSync(folder)
  }

  return { start, path, length: 0 }
}

/**
 * Writes `parts` one after the other from `position`, in one `writev` (the
 * bodies are not copied into one buffer). libuv splits a call of more
 * buffers than the kernel takes and resumes a short write; should fewer
 * bytes be written all the same, the rest go as a copy.
 */
export function writeAllParts(
  fd: number,
  parts: readonly Buffer[],
  position: number,
): void {
  const length = parts.reduce((sum, part) => sum + part.length, 0)
  const written = writevSync(fd, parts, position)
  if (written < length)
    writeAll(fd, Buffer.concat(parts).subarray(written), position + written)
}

export function encodeRecords(
  records: readonly NewJournalRecord[],
  tokens: readonly (string | null)[],
  start: number,
): { parts: Buffer[]; length: number; heads: JournalHead[] } {
  const parts: Buffer[] = []
  const heads: JournalHead[] = []
  let position = start
  records.forEach((record, index) => {
    const meta = Buffer.from(
      JSON.stringify({
        s: record.sourceId,
        r: record.receivedAt.getTime(),
        t: record.impliedType,
        m: record.messages,
      }),
    )
    const body = bytesOf(record.body)
    const header = Buffer.alloc(recordHeaderBytes)
    header.writeUInt32BE(recordMagic, 0)
    header.writeUInt32BE(meta.length, 4)
    header.writeUInt32BE(body.length, 8)
    header.writeUInt32BE(crc32(body, crc32(meta)), 12)
    parts.push(header, meta, body)
    const end = position + recordHeaderBytes + meta.length + body.length
    heads.push({
      id: position,
      end,
      sourceId: record.sourceId,
      receivedAt: record.receivedAt,
      impliedType: record.impliedType,
      messages: record.messages,
      bytes: body.length,
      token: tokens[index] ?? null,
    })
    position = end
  })

  return { parts, length: position - start, heads }
}

/** The record at `offset` of `data`, or null when it is torn or damaged. */
export function decodeRecord(
  data: Buffer,
  offset: number,
): (JournalRecord & { length: number; bodyBytes: number }) | null {
  if (data.length - offset < recordHeaderBytes) return null
  if (data.readUInt32BE(offset) !== recordMagic) return null
  const metaLength = data.readUInt32BE(offset + 4)
  const bodyLength = data.readUInt32BE(offset + 8)
  const length = recordHeaderBytes + metaLength + bodyLength
  if (data.length - offset < length) return null
  const metaStart = offset + recordHeaderBytes
  const meta = data.subarray(metaStart, metaStart + metaLength)
  const body = data.subarray(metaStart + metaLength, offset + length)
  if (crc32(body, crc32(meta)) !== data.readUInt32BE(offset + 12)) return null

  try {
    const envelope = JSON.parse(meta.toString()) as {
      s: string
      r: number
      t: MessageType | null
      m: number
    }
    return {
      sourceId: envelope.s,
      receivedAt: new Date(envelope.r),
      impliedType: envelope.t,
      messages: envelope.m,
      body: body.toString(),
      // As written: a body of bytes that are not UTF-8 decodes longer.
      bodyBytes: bodyLength,
      length,
    }
  } catch {
    return null
  }
}

/**
 * The segment files of the journal in `directory`, in order; none when the
 * directory does not exist. Any other trouble reading it is a JournalError.
 */
export async function listSegments(directory: string): Promise<string[]> {
  try {
    const names = await readdir(directory)
    return names.filter((name) => segmentPattern.test(name)).sort()
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return []
    throw new JournalError(
      `${directory} cannot be read as an accept journal: ${messageOf(error)}`,
    )
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export interface Scan {
  segments: Segment[]
  waiting: JournalHead[]
  /** The position past the last record found (0 with none). */
  end: number
}

/**
 * Reads the segments of `directory` from `expected.appliedTo` on; `mend`
 * cuts off a torn end and deletes segments wholly applied.
 */
export async function scanJournal(
  directory: string,
  expected: { id: string; appliedTo: number },
  options: { log?: JournalWarnings | undefined; mend: boolean },
): Promise<Scan> {
  const names = await listSegments(directory)
  // A journal in use always keeps its current segment, applied or not.
  if (names.length === 0 && expected.appliedTo > 0) {
    throw new JournalError(
      `${directory} holds no accept journal, but this store has applied ` +
        `one up to position ${expected.appliedTo}: acknowledged bodies not ` +
        'yet applied may be in it. Put the .inbox directory that was beside ' +
        'the store back; if it is lost for good, `leadlens inbox ' +
        'forget-journal` lets the store start a new one',
    )
  }
  const scan: Scan = { segments: [], waiting: [], end: 0 }
  for (const [index, name] of names.entries()) {
    const path = join(directory, name)
    const data = await readFile(path).catch((error: unknown) => {
      throw new JournalError(`${path} cannot be read: ${messageOf(error)}`)
    })
    const isLast = index === names.length - 1
    const segment = await readSegmentHeader(path, data, {
      isLast,
      mend: options.mend,
    })
    if (segment === null) continue
    if (segment.id !== expected.id) {
      throw new JournalError(
        `${directory} holds the accept journal of another store (journal ` +
          `${segment.id}; this store's is ${expected.id}): move it away`,
      )
    }
    const length = await readRecords(path, data, segment.start, {
      appliedTo: expected.appliedTo,
      into: scan.waiting,
      ...options,
    })
    scan.end = segment.start + length
    // Wholly applied and not the last: a delete a crash interrupted.
    if (!isLast && scan.end <= expected.appliedTo) {
      if (options.mend) await unlink(path).catch(() => {})
      continue
    }
    scan.segments.push({ start: segment.start, path, length })
  }

  return scan
}

async function readSegmentHeader(
  path: string,
  data: Buffer,
  at: { isLast: boolean; mend: boolean },
): Promise<{ id: string; start: number } | null> {
  const isWhole =
    data.length >= segmentHeaderBytes &&
    data.subarray(0, 8).equals(segmentMagic)
  if (!isWhole) {
    // A segment whose creation a crash cut short holds no record.
    if (at.isLast && data.length < segmentHeaderBytes) {
      if (at.mend) await unlink(path)
      return null
    }
    throw new JournalError(`${path} is not a Leadlens accept journal segment`)
  }

  return {
    id: data.subarray(8, 24).toString('hex'),
    start: Number(data.readBigUInt64BE(24)),
  }
}

// Reads the records of one segment into `into` (those from appliedTo on);
// a torn or damaged tail is cut off. Returns the segment's record bytes.
async function readRecords(
  path: string,
  data: Buffer,
  start: number,
  target: {
    appliedTo: number
    into: JournalHead[]
    log?: JournalWarnings | undefined
    mend: boolean
  },
): Promise<number> {
  const records = data.subarray(segmentHeaderBytes)
  let offset = Math.max(0, target.appliedTo - start)
  if (offset > records.length) {
    throw new JournalError(
      `${path} ends at position ${start + records.length}, before the ` +
        `position the store has applied (${target.appliedTo}): the journal ` +
        'is not the one this store wrote',
    )
  }
  while (offset < records.length) {
    const record = decodeRecord(records, offset)
    if (record === null && offset === target.appliedTo - start)
      refuseMisplacedStart(path, records, offset)
    if (record === null) break
    const id = start + offset
    target.into.push({
      id,
      end: id + record.length,
      sourceId: record.sourceId,
      receivedAt: record.receivedAt,
      impliedType: record.impliedType,
      messages: record.messages,
      bytes: record.bodyBytes,
      token: null,
    })
    offset += record.length
  }
  if (offset < records.length && target.mend) {
    // A crash mid-write (never acknowledged), or damage past which no
    // record boundary can be trusted.
    target.log?.warn(
      { path, position: start + offset, bytes: records.length - offset },
      'cut unreadable bytes off the end of the accept journal',
    )
    const handle = await open(path, 'r+')
    try {
      await handle.truncate(segmentHeaderBytes + offset)
      await handle.datasync()
    } finally {
      await handle.close()
    }
  }

  return offset
}

// The position the store applied up to must start a record, or a torn end
// (a crash mid-write after everything before it was applied). The records
// before it tell: they end exactly there, or one spans it (the position is
// not this journal's). When they cannot be read, a whole record after the
// position says the same: cutting there would lose it.
function refuseMisplacedStart(
  path: string,
  records: Buffer,
  offset: number,
): void {
  let at = 0
  while (at < offset) {
    const record = decodeRecord(records, at)
    if (record === null) break
    at += record.length
  }
  if (at === offset) return
  if (at < offset && !hasWholeRecordAfter(records, offset)) return

  throw new JournalError(
    `${path} has no record at the position the store has applied up to ` +
      `(${offset} bytes in): the journal is not the one this store wrote`,
  )
}

function hasWholeRecordAfter(records: Buffer, offset: number): boolean {
  for (let at = offset + 1; at + recordHeaderBytes <= records.length; at++) {
    at = records.indexOf(recordMagicBytes, at)
    if (at < 0) return false
    if (decodeRecord(records, at) !== null) return true
  }

  return false
}
