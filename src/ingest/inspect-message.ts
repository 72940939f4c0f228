/**
 * One walk over a parsed message that answers what validation asks of its
 * whole tree: does it nest too deeply, does any string or key need
 * sanitizing (a NUL or a UTF-16 surrogate), and an upper bound of its size
 * as JSON. Ingestion runs it on every message, so it allocates nothing and
 * touches each value once; the exact size (`JSON.stringify`) and the
 * sanitized copy are made only when the walk says they may be needed.
 */

export interface MessageInspection {
  /** Deeper than the limit given (the walk stopped there). */
  tooDeep: boolean
  /** Some string or key holds a NUL or a surrogate (paired or lone). */
  hasSuspectText: boolean
  /** At least the message's UTF-8 size as JSON; usually far more. */
  sizeBound: number
}

// NUL, or any UTF-16 surrogate: a pair is fine, but telling it from a lone
// one is left to sanitizeText, which runs only when this matches.
const suspectText = /[\u0000\uD800-\uDFFF]/

// A UTF-16 unit takes at most 6 bytes as JSON (`\u001f`); a number at most
// 24 characters (`-1.7976931348623157e+308`); quotes, colons, commas.
const bytesPerUnit = 6
const numberBytes = 24

let sizeBound = 0
let suspect = false

function visit(value: unknown, depth: number, limit: number): boolean {
  if (typeof value === 'string') {
    sizeBound += bytesPerUnit * value.length + 3
    if (!suspect && suspectText.test(value)) suspect = true
    return true
  }
  if (value === null || typeof value !== 'object') {
    sizeBound += numberBytes
    return true
  }
  if (depth >= limit) return false

  if (Array.isArray(value)) {
    sizeBound += 2
    for (const item of value as unknown[])
      if (!visit(item, depth + 1, limit)) return false
    return true
  }

  sizeBound += 2
  const record = value as Record<string, unknown>
  for (const key in record) {
    sizeBound += bytesPerUnit * key.length + 4
    if (!suspect && suspectText.test(key)) suspect = true
    if (!visit(record[key], depth + 1, limit)) return false
  }

  return true
}

/**
 * Walks `value` once. `maxDepth` counts objects and arrays: `{ a: [1] }`
 * nests 2 deep. The walk stops as soon as it is deeper, so no input can
 * overflow the stack.
 */
export function inspectMessage(
  value: unknown,
  maxDepth: number,
): MessageInspection {
  sizeBound = 0
  suspect = false
  const withinDepth = visit(value, 0, maxDepth)

  return { tooDeep: !withinDepth, hasSuspectText: suspect, sizeBound }
}
