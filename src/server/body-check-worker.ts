/**
 * A checking worker's thread: decodes, parses and validates the bodies the
 * routes send it (see body-checker.ts) and answers each by its number.
 */
import { parentPort } from 'node:worker_threads'

import { checkBody } from './check-body.js'

import type { MessageType } from '../ingest/normalize-message.js'
import type { BodyFailure, CheckedBody } from './check-body.js'

export interface WorkerRequest {
  id: number
  raw: Uint8Array
  encoding: string | undefined
  receivedAt: number
  impliedType: MessageType | null
}

/**
 * A checked body as a worker answers it. Its JSON bytes are sent back only
 * when they are not a part of the body the route sent (a compressed body);
 * else the answer says where in that body they are, and the route takes
 * them from its own copy: 20 KB a request not copied twice more.
 */
export type WorkerResult =
  | BodyFailure
  | (Omit<CheckedBody, 'json'> &
      ({ json: Uint8Array } | { jsonStart: number; jsonEnd: number }))

parentPort?.on('message', async function checkInWorker(job: WorkerRequest) {
  try {
    const raw = Buffer.from(
      job.raw.buffer,
      job.raw.byteOffset,
      job.raw.byteLength,
    )
    const result = await checkBody(
      {
        raw,
        encoding: job.encoding,
        receivedAt: new Date(job.receivedAt),
        impliedType: job.impliedType,
      },
      true,
    )
    parentPort?.postMessage({ id: job.id, result: answerOf(result, raw) })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    parentPort?.postMessage({ id: job.id, error: message })
  }
})

function answerOf(
  result: CheckedBody | BodyFailure,
  raw: Buffer,
): WorkerResult {
  if (!result.ok || result.json.buffer !== raw.buffer) return result

  const { json, ...rest } = result
  const jsonStart = json.byteOffset - raw.byteOffset

  return { ...rest, jsonStart, jsonEnd: jsonStart + json.length }
}
