/**
 * Streams the lines of a text file, gunzipping when the file is gzip
 * (by its magic bytes, not its name).
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { createGunzip } from 'node:zlib'

import type { Readable } from 'node:stream'

/** Opens a file as a text stream, gunzipped when it starts with gzip's magic. */
export async function openTextStream(path: string): Promise<Readable> {
  const handle = await open(path, 'r')
  const head = Buffer.alloc(2)
  try {
    await handle.read(head, 0, 2, 0)
  } finally {
    await handle.close()
  }

  const raw = createReadStream(path)
  const isGzip = head[0] === 0x1f && head[1] === 0x8b

  return isGzip ? raw.pipe(createGunzip()) : raw
}

/** Yields each line of a file with its 1-based number. */
export async function* readLines(
  path: string,
): AsyncGenerator<{ line: number; text: string }> {
  const stream = await openTextStream(path)
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  let line = 0
  for await (const text of lines) {
    line++
    yield { line, text }
  }
}
