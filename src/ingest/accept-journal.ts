/**
 * The accept journal: where a DuckDB store's ingestion inbox keeps accepted
 * request bodies until they are applied. An append-only file written and
 * `fdatasync`ed once per group of requests, so an acknowledged body is on
 * disk at a fraction of the cost of a DuckDB commit (about 1 ms of CPU per
 * commit however small, against a write and a sync).
 *
 * Layout: a directory beside the store file (`<store>.inbox/`) of segment
 * files named by the position of their first record. A segment starts with
 * a header (magic, journal id, start position); each record is a header
 * (magic, meta length, body length, CRC-32 of meta and body), the envelope
 * as JSON and the body. Positions count record bytes only, across segments.
 *
 * The store keeps the position applied up to (`ingest_journal`), moved in
 * the applier's own transaction, and the journal id, so a journal is never
 * applied to a database it does not belong to. On open, records from that
 * position are read back; a torn record at the end (a crash mid-write, never
 * acknowledged) is cut off. Segments wholly applied are deleted.
 */
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  writeSync,
} from 'node:fs'
import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { crc32 } from 'node:zlib'

import type { FileHandle } from 'node:fs/promises'
import type { MessageType } from './normalize-message.js'

/** One accepted body as the journal holds it. */
export interface JournalRecord {
  sourceId: string
  receivedAt: Date
  impliedType: MessageType | null
  messages: number
  body: string
}

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

interface Segment {
  start: number
  path: string
  /** Record bytes in it. */
  length: number
}

interface JournalWarnings {
  warn(details: object, message: string): void
}

/** A journal that cannot be used as it is; the message says what to do. */
export class JournalError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JournalError'
  }
}

/** One appender per journal: DuckDB's lock keeps other processes away. */
const openDirectories = new Set<string>()

const segmentMagic = Buffer.from('LLJOURN1')
const segmentHeaderBytes = 32
const recordMagic = 0x4c4c5231 // 'LLR1'
const recordHeaderBytes = 16
/** A new segment is started once the current one holds this many bytes. */
const defaultSegmentBytes = 64 * 1024 * 1024

const segmentPattern = /^\d{16}\.journal$/

function segmentName(start: number): string {
  return `${String(start).padStart(16, '0')}.journal`
}

export class AcceptJournal {
  readonly directory: string
  readonly id: string
  private readonly segmentBytes: number
  private segments: Segment[]
  /** The current segment, open for appends. */
  private fd: number
  /** Earlier segments' descriptors, closed once no sync runs on them. */
  private retired: number[] = []
  /** Segments open for reading bodies back, by path. */
  private readonly readers = new Map<string, FileHandle>()
  private readonly waiting: JournalHead[]
  private waitingMessages: number
  /** Written but not yet synced: they join `waiting` once on disk. */
  private unsynced: JournalHead[] = []
  private syncWaiters: SyncWaiter[] = []
  private syncing: Promise<void> | undefined
  /** A failed write or sync left the tail unknown: no more appends. */
  private broken: Error | undefined

  private constructor(init: {
    directory: string
    id: string
    segmentBytes: number
    segments: Segment[]
    fd: number
    waiting: JournalHead[]
  }) {
    this.directory = init.directory
    this.id = init.id
    this.segmentBytes = init.segmentBytes
    this.segments = init.segments
    this.fd = init.fd
    this.waiting = init.waiting
    this.waitingMessages = init.waiting.reduce((n, h) => n + h.messages, 0)
  }

  /**
   * Opens (or creates) the journal in `directory` for a store that knows it
   * as `id` and has applied it up to `appliedTo`; reads back what waits.
   */
  static async open(
    directory: string,
    expected: { id: string; appliedTo: number },
    options: { segmentBytes?: number; log?: JournalWarnings | undefined } = {},
  ): Promise<AcceptJournal> {
    const key = resolve(directory)
    if (openDirectories.has(key))
      throw new JournalError(`${directory} is already open in this process`)
    openDirectories.add(key)
    try {
      await mkdir(directory, { recursive: true })
      const scan = await scanJournal(directory, expected, {
        log: options.log,
        mend: true,
      })
      let segments = scan.segments
      if (segments.length === 0) {
        const start = Math.max(expected.appliedTo, scan.end)
        segments = [createSegment(directory, expected.id, start)]
      }
      const current = segments.at(-1) as Segment

      return new AcceptJournal({
        directory,
        id: expected.id,
        segmentBytes: options.segmentBytes ?? defaultSegmentBytes,
        segments,
        fd: openSync(current.path, 'r+'),
        waiting: scan.waiting,
      })
    } catch (error) {
      openDirectories.delete(key)
      throw error
    }
  }

  /**
   * Messages waiting in the journal in `directory`, read without changing
   * it (a server may be appending to it).
   */
  static async countWaiting(
    directory: string,
    expected: { id: string; appliedTo: number },
  ): Promise<number> {
    const scan = await scanJournal(directory, expected, { mend: false })

    return scan.waiting.reduce((sum, head) => sum + head.messages, 0)
  }

  /** Whether `directory` holds any journal segment. */
  static async isPresent(directory: string): Promise<boolean> {
    const names = await readdir(directory).catch(() => [] as string[])
    return names.some((name) => segmentPattern.test(name))
  }

  /** A new journal id, to be stored with the store before the journal is made. */
  static newId(): string {
    return randomBytes(16).toString('hex')
  }

  /** The records on disk and not yet applied, oldest first. */
  get heads(): readonly JournalHead[] {
    return this.waiting
  }

  /** Messages in the records not yet applied. */
  get messagesWaiting(): number {
    return this.waitingMessages
  }

  /** The position the next record gets. */
  get end(): number {
    const current = this.segments.at(-1) as Segment
    return current.start + current.length
  }

  /**
   * Writes `records` at once (a copy to the page cache, in call order) and
   * resolves once a sync has put them on disk. Appends may overlap: those
   * written while a sync runs share the next one, so a sync serves every
   * request that arrived during the one before.
   */
  async append(
    records: readonly JournalRecord[],
    tokens: readonly (string | null)[] = [],
  ): Promise<JournalHead[]> {
    if (this.broken !== undefined) throw this.broken
    if (this.currentSegment.length >= this.segmentBytes) this.rotate()

    const segment = this.currentSegment
    const { buffer, heads } = encodeRecords(records, tokens, this.end)
    try {
      writeAll(this.fd, buffer, segmentHeaderBytes + segment.length)
    } catch (error) {
      this.cutBack(segment, error)
      throw error
    }
    segment.length += buffer.length
    for (const head of heads) this.unsynced.push(head)

    await new Promise<void>((resolve, reject) => {
      this.syncWaiters.push({ upTo: this.end, resolve, reject })
      this.startSync()
    })

    return heads
  }

  /** The body of a waiting record, read from its segment. */
  async readBody(head: JournalHead): Promise<string> {
    const segment = this.segmentOf(head.id)
    let reader = this.readers.get(segment.path)
    if (reader === undefined) {
      reader = await open(segment.path, 'r')
      this.readers.set(segment.path, reader)
    }

    const length = head.end - head.id
    const buffer = Buffer.alloc(length)
    const at = segmentHeaderBytes + head.id - segment.start
    await reader.read(buffer, 0, length, at)
    const record = decodeRecord(buffer, 0)
    if (record === null)
      throw new JournalError(
        `the journal record at ${head.id} in ${segment.path} no longer reads back`,
      )

    return record.body
  }

  /**
   * Forgets the records before `position` (the store has applied them, in a
   * committed transaction) and deletes the segments wholly before it.
   */
  async release(position: number): Promise<void> {
    while (this.waiting.length > 0 && this.waiting[0]!.end <= position) {
      const head = this.waiting.shift() as JournalHead
      this.waitingMessages -= head.messages
    }

    const done = this.segments.filter(
      (segment) =>
        segment !== this.currentSegment &&
        segment.start + segment.length <= position,
    )
    this.segments = this.segments.filter((s) => !done.includes(s))
    for (const segment of done) {
      await this.readers.get(segment.path)?.close()
      this.readers.delete(segment.path)
      await unlink(segment.path).catch(() => {})
    }
  }

  /** Waits for the sync under way, then closes every file. */
  async close(): Promise<void> {
    while (this.syncing !== undefined) await this.syncing
    openDirectories.delete(resolve(this.directory))
    for (const reader of this.readers.values()) await reader.close()
    this.readers.clear()
    for (const fd of [...this.retired, this.fd]) closeSync(fd)
    this.retired = []
  }

  private get currentSegment(): Segment {
    return this.segments.at(-1) as Segment
  }

  private segmentOf(position: number): Segment {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i] as Segment
      if (segment.start <= position) return segment
    }
    throw new JournalError(`no journal segment holds position ${position}`)
  }

  // One sync at a time, covering everything written when it starts; the
  // appends it covers are answered, and the next starts if more wait.
  private startSync(): void {
    if (this.syncing !== undefined || this.syncWaiters.length === 0) return

    const target = this.end
    this.syncing = new Promise<void>((done) => {
      fdatasync(this.fd, (error) => {
        this.syncing = undefined
        done()
        if (this.retired.length > 0) {
          for (const fd of this.retired) closeSync(fd)
          this.retired = []
        }
        if (error !== null) {
          this.failSyncs(error)
          return
        }
        this.settleUpTo(target)
        this.startSync()
      })
    })
  }

  private settleUpTo(target: number): void {
    let synced = 0
    while (synced < this.unsynced.length) {
      const head = this.unsynced[synced] as JournalHead
      if (head.end > target) break
      this.waiting.push(head)
      this.waitingMessages += head.messages
      synced++
    }
    this.unsynced = this.unsynced.slice(synced)

    const done = this.syncWaiters.filter((waiter) => waiter.upTo <= target)
    this.syncWaiters = this.syncWaiters.filter((waiter) => waiter.upTo > target)
    for (const waiter of done) waiter.resolve()
  }

  // After a failed sync nothing written since the last good one can be
  // trusted to be on disk (the kernel may have dropped it): refuse more.
  private failSyncs(cause: Error): void {
    this.broken = new JournalError(
      `the accept journal in ${this.directory} could not be synced to disk ` +
        `(${cause.message}); restart the server`,
    )
    const waiters = this.syncWaiters
    this.syncWaiters = []
    this.unsynced = []
    for (const waiter of waiters) waiter.reject(this.broken)
  }

  // A new segment, made durable before use; everything in the old one is
  // synced now, so later syncs (on the new one) answer its appends too.
  private rotate(): void {
    const segment = createSegment(this.directory, this.id, this.end)
    fdatasyncSync(this.fd)
    if (this.syncing === undefined) closeSync(this.fd)
    else this.retired.push(this.fd)
    this.fd = openSync(segment.path, 'r+')
    this.segments.push(segment)
  }

  // After a failed write the tail is unknown: cut it back to the last good
  // record, or refuse further appends if even that fails.
  private cutBack(segment: Segment, cause: unknown): void {
    try {
      ftruncateSync(this.fd, segmentHeaderBytes + segment.length)
    } catch {
      this.broken = new JournalError(
        `the accept journal ${segment.path} could not be written and its ` +
          `end could not be restored (${describe(cause)}); restart the server`,
      )
    }
  }
}

interface SyncWaiter {
  /** Answered once everything before this position is on disk. */
  upTo: number
  resolve: () => void
  reject: (error: unknown) => void
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function writeAll(fd: number, buffer: Buffer, position: number): void {
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

function createSegment(directory: string, id: string, start: number): Segment {
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

function encodeRecords(
  records: readonly JournalRecord[],
  tokens: readonly (string | null)[],
  start: number,
): { buffer: Buffer; heads: JournalHead[] } {
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
    const body = Buffer.from(record.body)
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

  return { buffer: Buffer.concat(parts), heads }
}

/** The record at `offset` of `data`, or null when it is torn or damaged. */
function decodeRecord(
  data: Buffer,
  offset: number,
): (JournalRecord & { length: number }) | null {
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
      length,
    }
  } catch {
    return null
  }
}

interface Scan {
  segments: Segment[]
  waiting: JournalHead[]
  /** The position past the last record found (0 with none). */
  end: number
}

/**
 * Reads the segments of `directory` from `expected.appliedTo` on; `mend`
 * cuts off a torn end and deletes segments wholly applied.
 */
async function scanJournal(
  directory: string,
  expected: { id: string; appliedTo: number },
  options: { log?: JournalWarnings | undefined; mend: boolean },
): Promise<Scan> {
  const names = (await readdir(directory).catch(() => [] as string[]))
    .filter((name) => segmentPattern.test(name))
    .sort()
  const scan: Scan = { segments: [], waiting: [], end: 0 }
  for (const [index, name] of names.entries()) {
    const path = join(directory, name)
    const data = await readFile(path)
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
    if (record === null && offset === target.appliedTo - start && offset > 0)
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
      bytes: Buffer.byteLength(record.body),
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

// The position the store applied up to must start a record (or be torn).
function refuseMisplacedStart(
  path: string,
  records: Buffer,
  offset: number,
): void {
  const isTorn = records.length - offset < recordHeaderBytes
  if (isTorn || records.readUInt32BE(offset) === recordMagic) return

  throw new JournalError(
    `${path} has no record at the position the store has applied up to ` +
      `(${offset} bytes in): the journal is not the one this store wrote`,
  )
}
