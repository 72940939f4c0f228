/**
 * Property types: inferred from the first value seen, then kept. A later
 * value of another type is coerced when that loses nothing (`"7"` to 7),
 * otherwise kept raw and reported.
 */
export type PropertyType =
  'string' | 'number' | 'boolean' | 'timestamp' | 'object' | 'array'

const isoInstant =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i

/** The type a value declares by its form; null for null. */
export function inferPropertyType(value: unknown): PropertyType | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'number') return 'number'
  if (typeof value === 'boolean') return 'boolean'
  if (typeof value === 'string')
    return isoInstant.test(value) ? 'timestamp' : 'string'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'object') return 'object'

  return 'string'
}

export type CoercionResult =
  { ok: true; value: unknown } | { ok: false; value: unknown }

/**
 * Coerces `value` to `type` when no information is lost.
 * @example coercePropertyValue('7', 'number') // { ok: true, value: 7 }
 */
export function coercePropertyValue(
  value: unknown,
  type: PropertyType,
): CoercionResult {
  const actual = inferPropertyType(value)
  if (actual === null || actual === type) return { ok: true, value }

  if (type === 'number' && typeof value === 'string') {
    // Lossless only: plain decimal (no exponent, spaces or leading zeros)
    // and exact integers.
    const number = Number(value)
    const isDecimal = /^-?(0|[1-9]\d*)(\.\d+)?$/.test(value)
    const isExact = !/^-?\d+$/.test(value) || Number.isSafeInteger(number)
    if (isDecimal && isExact && Number.isFinite(number)) {
      return { ok: true, value: number }
    }
  }

  if (type === 'boolean' && typeof value === 'string') {
    const lower = value.trim().toLowerCase()
    if (lower === 'true') return { ok: true, value: true }
    if (lower === 'false') return { ok: true, value: false }
  }

  if (type === 'string' && (actual === 'number' || actual === 'boolean')) {
    return { ok: true, value: String(value) }
  }

  // A timestamp-looking string is still a string to a string property.
  if (type === 'string' && actual === 'timestamp') return { ok: true, value }

  if (
    type === 'timestamp' &&
    typeof value === 'string' &&
    isoInstant.test(value)
  ) {
    if (!Number.isNaN(Date.parse(value))) return { ok: true, value }
  }

  return { ok: false, value }
}
