/**
 * Checks ingestion bodies off the event loop: decoding, `JSON.parse` and
 * validation of a 100-message batch take about as long as everything else
 * a request costs the server, so worker threads do them while the main
 * thread serves HTTP, commits accepts and applies them. Small bodies (one
 * message) are checked in the route's thread, where a trip to a worker
 * would cost more than the check. A worker that dies is replaced, and the
 * bodies it held are checked in the route's thread instead.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

import { bytesOf } from '../ingest/body-bytes.js'
import { settingFromEnvironment } from '../ingest/ingest-settings.js'
import { checkBody } from './check-body.js'

import type { WorkerRequest, WorkerResult } from './body-check-worker.js'
import type { BodyFailure, CheckRequest, CheckedBody } from './check-body.js'

export interface BodyCheckerOptions {
  /** Worker threads; 0 checks every body in the route's thread. */
  workers?: number
  /** Bodies smaller than this (bytes) are checked in the route's thread. */
  minWorkerBytes?: number
  log?: { warn(details: object, message: string): void }
}

/** Workers that fail in a row, never answering, before none is started again. */
const failuresBeforeGivingUp = 3

type CheckResult = CheckedBody | BodyFailure

interface Pending {
  request: CheckRequest
  resolve: (result: CheckResult) => void
  reject: (error: unknown) => void
}

interface Slot {
  worker: Worker
  pending: Map<number, Pending>
}

export class BodyChecker {
  private size: number
  private readonly minWorkerBytes: number
  private readonly log: BodyCheckerOptions['log']
  private slots: Slot[] = []
  /** Workers that ended without answering since one last answered. */
  private failures = 0
  private nextId = 0
  private closed = false

  constructor(options: BodyCheckerOptions = {}) {
    this.size =
      options.workers ??
      settingFromEnvironment('LEADLENS_INGEST_WORKERS', 1, {
        least: 0,
        what: 'a number of worker threads',
      })
    this.minWorkerBytes = options.minWorkerBytes ?? 4_096
    this.log = options.log
  }

  /** Decodes, parses and (in a worker) validates one body. */
  check(request: CheckRequest): Promise<CheckResult> {
    const useWorker =
      this.size > 0 && !this.closed && request.raw.length >= this.minWorkerBytes
    if (!useWorker) return checkBody(request, false)

    const slot = this.pickSlot()
    const id = ++this.nextId
    // A copy of its own, handed over whole (no second copy on the way).
    const raw = new Uint8Array(request.raw)
    const job: WorkerRequest = {
      id,
      raw,
      encoding: request.encoding,
      receivedAt: request.receivedAt.getTime(),
      impliedType: request.impliedType,
    }

    return new Promise((resolve, reject) => {
      slot.pending.set(id, { request, resolve, reject })
      slot.worker.postMessage(job, [raw.buffer])
    })
  }

  async close(): Promise<void> {
    this.closed = true
    const slots = this.slots
    this.slots = []
    await Promise.all(slots.map((slot) => slot.worker.terminate()))
  }

  // The worker with the fewest bodies in hand, started on first use.
  private pickSlot(): Slot {
    if (this.slots.length < this.size) {
      const slot = this.startWorker()
      this.slots.push(slot)
      return slot
    }

    return this.slots.reduce((least, slot) =>
      slot.pending.size < least.pending.size ? slot : least,
    )
  }

  private startWorker(): Slot {
    const worker = startWorkerThread()
    // Never what keeps the process alive; close() ends it.
    worker.unref()
    const slot: Slot = { worker, pending: new Map() }

    worker.on('message', (answer: WorkerAnswer) => {
      const pending = slot.pending.get(answer.id)
      if (pending === undefined) return
      slot.pending.delete(answer.id)
      this.failures = 0
      if ('result' in answer)
        pending.resolve(resultOf(answer.result, pending.request))
      else checkHere(pending)
    })
    const replace = (error?: Error) => {
      if (!this.slots.includes(slot)) return
      this.slots = this.slots.filter((other) => other !== slot)
      const left = [...slot.pending.values()]
      slot.pending.clear()
      for (const pending of left) checkHere(pending)
      if (this.closed) return

      this.failures++
      this.log?.warn(
        { err: error, bodies: left.length },
        "a body-checking worker ended; its bodies are checked in the route's thread",
      )
      if (this.failures >= failuresBeforeGivingUp) {
        this.size = 0
        this.log?.warn(
          { failures: this.failures },
          "body-checking workers keep failing; checking every body in the route's thread",
        )
      }
    }
    worker.on('error', replace)
    worker.on('exit', () => replace())

    return slot
  }
}

type WorkerAnswer =
  { id: number; result: WorkerResult } | { id: number; error: string }

// The JSON bytes are the worker's, or a part of the route's own body.
function resultOf(answer: WorkerResult, request: CheckRequest): CheckResult {
  if (!answer.ok) return answer
  if ('json' in answer) {
    const { json, ...rest } = answer
    return { ...rest, json: bytesOf(json) }
  }

  const { jsonStart, jsonEnd, ...rest } = answer
  return { ...rest, json: request.raw.subarray(jsonStart, jsonEnd) }
}

// The worker failed this body (or died): the route's thread checks it.
function checkHere(pending: Pending): void {
  checkBody(pending.request, false).then(pending.resolve, pending.reject)
}

// The compiled worker; run from the TypeScript sources (the tests, from the
// repository), the worker registers tsx's loader first and imports the
// source.
function startWorkerThread(): Worker {
  const compiled = new URL('./body-check-worker.js', import.meta.url)
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled)

  const source = new URL('./body-check-worker.ts', import.meta.url).href
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => {
       register()
       return import(${JSON.stringify(source)})
     })`,
    { eval: true },
  )
}
