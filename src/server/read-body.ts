/**
 * Ingestion bodies as clients send them: JSON under any content type
 * (RudderStack says x-www-form-urlencoded), plain, gzip or deflate.
 */
import { promisify } from 'node:util'
import { gunzip, inflate } from 'node:zlib'

import { batchSizeLimitBytes } from '../ingest/ingest-error.js'

const gunzipAsync = promisify(gunzip)
const inflateAsync = promisify(inflate)

export type BodyResult =
  | { ok: true; value: unknown; text: string; bytes: number }
  | { ok: false; status: 400 | 413 | 415; code: string; message: string }

/** Decodes and parses a raw request body. */
export async function readBody(
  raw: Buffer | undefined,
  encoding: string | undefined,
): Promise<BodyResult> {
  let bytes = raw ?? Buffer.alloc(0)
  const kind = (encoding ?? 'identity').trim().toLowerCase()
  try {
    if (kind === 'gzip' || kind === 'x-gzip')
      bytes = await gunzipAsync(bytes, {
        maxOutputLength: batchSizeLimitBytes + 1,
      })
    else if (kind === 'deflate')
      bytes = await inflateAsync(bytes, {
        maxOutputLength: batchSizeLimitBytes + 1,
      })
    else if (kind !== 'identity' && kind !== '') {
      return {
        ok: false,
        status: 415,
        code: 'INGEST_ENCODING_UNSUPPORTED',
        message: `Content-Encoding ${kind} is not supported; send gzip, deflate or none`,
      }
    }
  } catch (error) {
    if (
      error instanceof RangeError ||
      (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
    ) {
      return tooLarge()
    }
    return {
      ok: false,
      status: 400,
      code: 'INGEST_JSON_INVALID',
      message: `the ${kind} body could not be decompressed`,
    }
  }

  if (bytes.length > batchSizeLimitBytes) return tooLarge()

  try {
    const decoded = bytes.toString('utf8')
    // A byte-order mark is not part of the JSON.
    const text = decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded
    return { ok: true, value: JSON.parse(text), text, bytes: bytes.length }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return {
      ok: false,
      status: 400,
      code: 'INGEST_JSON_INVALID',
      message: `the body is not valid JSON: ${reason}`,
    }
  }
}

function tooLarge(): BodyResult {
  return {
    ok: false,
    status: 413,
    code: 'INGEST_BATCH_TOO_LARGE',
    message: `the body is over the 500 KB batch limit (${batchSizeLimitBytes} bytes)`,
  }
}
