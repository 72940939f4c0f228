/**
 * Makes any JSON value safe to store: NUL characters and lone UTF-16
 * surrogates become U+FFFD in strings and keys; accents and emoji stay as
 * they are.
 */
import { emptyRecord } from '../catalog/own-property.js'
export function sanitizeText<T>(value: T): T {
  return sanitizeValue(value) as T
}

function sanitizeValue(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeString(value)
  if (Array.isArray(value)) return value.map(sanitizeValue)

  if (value !== null && typeof value === 'object') {
    const clean: Record<string, unknown> = emptyRecord()
    for (const [key, inner] of Object.entries(value)) {
      clean[sanitizeString(key)] = sanitizeValue(inner)
    }

    return clean
  }

  return value
}

/** One string with NULs and lone surrogates replaced by U+FFFD. */
export function sanitizeString(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed()

  return wellFormed.includes('\u0000')
    ? wellFormed.replaceAll('\u0000', '\uFFFD')
    : wellFormed
}
