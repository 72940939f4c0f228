/**
 * A checking worker's thread: decodes, parses and validates the bodies the
 * routes send it (see body-checker.ts) and answers each by its number.
 */
import { parentPort } from 'node:worker_threads'

import { checkBody } from './check-body.js'

import type { MessageType } from '../ingest/normalize-message.js'

export interface WorkerRequest {
  id: number
  raw: Uint8Array
  encoding: string | undefined
  receivedAt: number
  impliedType: MessageType | null
}

parentPort?.on('message', async function checkInWorker(job: WorkerRequest) {
  try {
    const result = await checkBody(
      {
        raw: Buffer.from(
          job.raw.buffer,
          job.raw.byteOffset,
          job.raw.byteLength,
        ),
        encoding: job.encoding,
        receivedAt: new Date(job.receivedAt),
        impliedType: job.impliedType,
      },
      true,
    )
    parentPort?.postMessage({ id: job.id, result })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    parentPort?.postMessage({ id: job.id, error: message })
  }
})
