/**
 * The accept journal: where a DuckDB store's ingestion inbox keeps accepted
 * request bodies until they are applied. An append-only file: each body is
 * written as it comes and one `fdatasync` covers every body written before
 * it started, so an acknowledged body is on disk at a fraction of the cost
 * of a DuckDB commit (about 1 ms of CPU per commit however small).
 *
 * Files: a directory beside the store file (`<store>.inbox/`) of segments
 * (journal-segments.ts). The store keeps the position applied up to
 * (`ingest_journal`), moved in the applier's own transaction, and the
 * journal id, so a journal is never applied to a database it does not
 * belong to. On open, records from that position are read back; a torn
 * record at the end (a crash mid-write, never acknowledged) is cut off.
 * Segments wholly applied are deleted.
 */
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
} from 'node:fs'
import { mkdir, open, unlink } from 'node:fs/promises'
import { resolve } from 'node:path'

import {
  JournalError,
  createSegment,
  decodeRecord,
  encodeRecords,
  listSegments,
  scanJournal,
  segmentHeaderBytes,
  writeAllParts,
} from './journal-segments.js'

import type { FileHandle } from 'node:fs/promises'
import type {
  JournalHead,
  JournalWarnings,
  NewJournalRecord,
  Segment,
} from './journal-segments.js'

export { JournalError } from './journal-segments.js'
export type { JournalHead, JournalRecord } from './journal-segments.js'

/** One appender per journal: DuckDB's lock keeps other processes away. */
const openDirectories = new Set<string>()

/** A new segment is started once the current one holds this many bytes. */
const defaultSegmentBytes = 64 * 1024 * 1024

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
  // One handle per segment, kept as a promise so that bodies read at once
  // share it instead of each opening (and leaking) its own.
  private readonly readers = new Map<string, Promise<FileHandle>>()
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
    return (await listSegments(directory)).length > 0
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
    records: readonly NewJournalRecord[],
    tokens: readonly (string | null)[] = [],
  ): Promise<JournalHead[]> {
    if (this.broken !== undefined) throw this.broken
    if (this.currentSegment.length >= this.segmentBytes) this.rotate()

    const segment = this.currentSegment
    const { parts, length, heads } = encodeRecords(records, tokens, this.end)
    try {
      writeAllParts(this.fd, parts, segmentHeaderBytes + segment.length)
    } catch (error) {
      this.cutBack(segment, error)
      throw error
    }
    segment.length += length
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
    let opening = this.readers.get(segment.path)
    if (opening === undefined) {
      opening = open(segment.path, 'r')
      this.readers.set(segment.path, opening)
      // A failed open is forgotten, so that the next read tries again.
      opening.catch(() => this.readers.delete(segment.path))
    }
    const reader = await opening

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
      const reader = this.readers.get(segment.path)
      this.readers.delete(segment.path)
      await reader?.then((handle) => handle.close()).catch(() => {})
      await unlink(segment.path).catch(() => {})
    }
  }

  /** Waits for the sync under way, then closes every file. */
  async close(): Promise<void> {
    while (this.syncing !== undefined) await this.syncing
    openDirectories.delete(resolve(this.directory))
    const readers = [...this.readers.values()]
    this.readers.clear()
    for (const reader of readers)
      await reader.then((handle) => handle.close()).catch(() => {})
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
