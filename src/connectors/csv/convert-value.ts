/**
 * Converts imported cell values to their column type, and infers a
 * column's type from all of its values.
 */
import { parseInstant } from '../../ingest/parse-instant.js'

import type { ColumnType } from './import-mapping.js'

const numberText = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/
// Integers past 2^53 (long ids) would lose digits as numbers: they are text.
const isExactNumberText = (text: string) =>
  numberText.test(text) &&
  (!/^-?\d+$/.test(text) || Number.isSafeInteger(Number(text)))
const booleanText = /^(true|false)$/i
const timestampText =
  /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i
const zoneSuffix = /(Z|[+-]\d{2}:?\d{2})$/i

/** Whether a value counts as empty (an empty CSV cell). */
export function isEmptyValue(value: unknown): boolean {
  return value === undefined || value === null || value === ''
}

/**
 * The narrowest type all of a column's non-empty values fit.
 * @example inferColumnType(['1', '2.5']) // 'number'
 * @example inferColumnType(['02134']) // 'string': a leading zero is text
 */
export function inferColumnType(values: readonly unknown[]): ColumnType {
  const present = values.filter((v) => !isEmptyValue(v))
  if (present.length === 0) return 'string'

  const all = (test: (v: unknown) => boolean) => present.every(test)
  if (
    all(
      (v) =>
        typeof v === 'number' ||
        (typeof v === 'string' && isExactNumberText(v.trim())),
    )
  ) {
    return 'number'
  }
  if (
    all(
      (v) =>
        typeof v === 'boolean' ||
        (typeof v === 'string' && booleanText.test(v.trim())),
    )
  ) {
    return 'boolean'
  }
  if (all((v) => typeof v === 'string' && timestampText.test(v.trim()))) {
    return 'timestamp'
  }

  return 'string'
}

/** Whether a timestamp text carries its own zone. */
export function hasZone(text: string): boolean {
  return zoneSuffix.test(text.trim())
}

export type ConvertedValue =
  | { ok: true; value: string | number | boolean | Date | null }
  | { ok: false; zoneless?: boolean; message: string }

/** Converts one value to `type`; timestamps without a zone use `zone`. */
export function convertValue(
  value: unknown,
  type: ColumnType,
  zone: string | undefined,
): ConvertedValue {
  if (isEmptyValue(value)) return { ok: true, value: null }

  if (type === 'number') {
    const number =
      typeof value === 'number' ? value : Number(String(value).trim())
    if (Number.isFinite(number)) return { ok: true, value: number }

    return { ok: false, message: `${JSON.stringify(value)} is not a number` }
  }

  if (type === 'boolean') {
    if (typeof value === 'boolean') return { ok: true, value }
    const text = String(value).trim().toLowerCase()
    if (text === 'true' || text === '1') return { ok: true, value: true }
    if (text === 'false' || text === '0') return { ok: true, value: false }

    return {
      ok: false,
      message: `${JSON.stringify(value)} is not true or false`,
    }
  }

  if (type === 'timestamp') {
    const text = String(value).trim()
    const parsed = parseInstant(
      // A bare date means midnight in the import's zone.
      /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00` : text,
      zone,
    )
    if (parsed.ok) return { ok: true, value: parsed.date }

    return {
      ok: false,
      zoneless: parsed.reason === 'zoneless',
      message:
        parsed.reason === 'zoneless'
          ? `${JSON.stringify(value)} has no time zone; set timestamps.zone in the mapping`
          : parsed.message,
    }
  }

  if (typeof value === 'string') return { ok: true, value }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return { ok: true, value: String(value) }
  }

  return { ok: true, value: JSON.stringify(value) }
}
