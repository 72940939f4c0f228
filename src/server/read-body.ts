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
  | {
      ok: true
      value: unknown
      /** The JSON's UTF-8 bytes, decompressed, without a byte-order mark. */
      json: Buffer
    }
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

  // A byte-order mark is not part of the JSON.
  const json = startsWithByteOrderMark(bytes) ? bytes.subarray(3) : bytes
  try {
    return { ok: true, value: JSON.parse(json.toString('utf8')), json }
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

function startsWithByteOrderMark(bytes: Buffer): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
}

function tooLarge(): BodyResult {
  return {
    ok: false,
    status: 413,
    code: 'INGEST_BATCH_TOO_LARGE',
    message: `the body is over the 500 KB batch limit (${batchSizeLimitBytes} bytes)`,
  }
}
