/**
 * An accepted body's JSON as UTF-8 bytes: the routes hand the inbox the
 * bytes they received (no decoding and encoding again), tests and older
 * callers hand it text.
 */
export type BodyJson = string | Uint8Array

/** The body's bytes; a Uint8Array is viewed in place, not copied. */
export function bytesOf(body: BodyJson): Buffer {
  return typeof body === 'string'
    ? Buffer.from(body)
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
}
