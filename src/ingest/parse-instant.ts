/**
 * Reads the instants clients send: ISO 8601 with a zone, epoch seconds or
 * milliseconds (numbers or digit strings, told apart by magnitude), and
 * zoneless ISO strings only when an IANA zone is known for them.
 */
import { DateTime } from 'luxon'

export type ParsedInstant =
  | { ok: true; date: Date }
  | { ok: false; reason: 'invalid' | 'zoneless'; message: string }

// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: both stores hold
// every instant between, and no product event lies outside.
const firstStorableMs = Date.parse('0001-01-01T00:00:00Z')
const latestMs = Date.parse('9999-12-31T23:59:59.999Z')

/** Whether an instant lies in the years 0001 to 9999, which both stores hold. */
export function isStorableInstant(date: Date): boolean {
  const time = date.getTime()
  return !Number.isNaN(time) && time >= firstStorableMs && time <= latestMs
}

// Below 1e11 a number is seconds (1e11 s is the year 5138); from there up to
// 1e14 milliseconds; above that microseconds.
const secondsLimit = 1e11
const millisecondsLimit = 1e14

const zonedIso =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/i
const zonelessIso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/
const digits = /^-?\d+(\.\d+)?$/

/**
 * Parses one instant.
 * @example parseInstant('1685923200') // 2023-06-05T00:00:00Z
 * @example parseInstant('2024-01-15T18:33:28.414', 'America/Sao_Paulo')
 */
export function parseInstant(value: unknown, zone?: string): ParsedInstant {
  const parsed = readInstant(value, zone)
  if (parsed.ok && !isStorableInstant(parsed.date)) {
    return invalid(`${JSON.stringify(value)} is outside the years 0001 to 9999`)
  }

  return parsed
}

function readInstant(value: unknown, zone?: string): ParsedInstant {
  if (typeof value === 'number') return fromEpoch(value)
  if (typeof value === 'string') {
    const date = readUtcIso(value)
    if (date !== undefined) return { ok: true, date }
  }

  if (typeof value !== 'string') {
    return invalid(`expected a string or a number, got ${typeName(value)}`)
  }

  const text = value.trim()
  if (digits.test(text)) {
    // "2024" or "20240115" are not epochs; epoch seconds since 1973 have 9+ digits.
    if (text.replace(/^-|\..*$/g, '').length < 9) {
      return invalid(
        `${JSON.stringify(value)} is neither an epoch (9+ digits) nor an ISO 8601 instant`,
      )
    }
    return fromEpoch(Number(text))
  }

  if (zonedIso.test(text)) {
    // Date() takes "+05:00" but not "+05".
    const normalized = text.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00')
    const date = new Date(normalized)
    if (!Number.isNaN(date.getTime()) && hasRealCalendarDate(normalized))
      return { ok: true, date }

    return invalid(`${JSON.stringify(value)} is not a valid instant`)
  }

  if (zonelessIso.test(text)) {
    if (zone === undefined) {
      return {
        ok: false,
        reason: 'zoneless',
        message:
          `${JSON.stringify(value)} has no time zone; add Z or an offset, ` +
          'or send context.timezone',
      }
    }

    if (!hasRealCalendarDate(text))
      return invalid(`${JSON.stringify(value)} is not a valid date`)
    const local = DateTime.fromISO(text.replace(' ', 'T'), { zone })
    if (local.isValid) return { ok: true, date: local.toJSDate() }

    // Luxon names the zone when it is the zone it cannot use, else the
    // part of the time that is out of range (an hour of 24 past 24:00:00).
    return local.invalidReason === 'unsupported zone'
      ? invalid(`${JSON.stringify(value)} is not valid in zone ${zone}`)
      : invalid(`${JSON.stringify(value)} is not a valid time of day`)
  }

  return invalid(`${JSON.stringify(value)} is not an ISO 8601 instant`)
}

// A canonical UTC instant (`YYYY-MM-DDTHH:MM:SS[.s{1,3}]Z`, what
// Date.toISOString() and nearly every SDK send), read character by
// character, or undefined to take the general path (which also names what
// is wrong). Impossible dates and times are not read here.
function readUtcIso(text: string): Date | undefined {
  const length = text.length
  if (length < 20 || length > 24 || length === 21) return undefined
  if (
    text.charCodeAt(4) !== dash ||
    text.charCodeAt(7) !== dash ||
    text.charCodeAt(10) !== letterT ||
    text.charCodeAt(13) !== colon ||
    text.charCodeAt(16) !== colon ||
    text.charCodeAt(length - 1) !== letterZ
  )
    return undefined
  const year = readDigits(text, 0, 4)
  const month = readDigits(text, 5, 2)
  const day = readDigits(text, 8, 2)
  const hour = readDigits(text, 11, 2)
  const minute = readDigits(text, 14, 2)
  const second = readDigits(text, 17, 2)
  let milliseconds = 0
  if (length > 20) {
    if (text.charCodeAt(19) !== dot) return undefined
    const fraction = readDigits(text, 20, length - 21)
    if (fraction < 0) return undefined
    milliseconds = fraction * 10 ** (24 - length)
  }
  if (
    year < 0 ||
    month < 0 ||
    day < 0 ||
    hour < 0 ||
    minute < 0 ||
    second < 0 ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    return undefined
  const time = Date.UTC(
    year,
    month - 1,
    day,
    hour,
    minute,
    second,
    milliseconds,
  )
  const date = new Date(time)
  // Every month has a 28th, and from the year 100 on Date.UTC reads the
  // year as written: such a date needs no second look.
  if (year >= 100 && month >= 1 && month <= 12 && day >= 1 && day <= 28)
    return date
  // Date.UTC maps years below 100 to 19xx, and rolls Feb 30 into March.
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  )
    return undefined

  return isStorableInstant(date) ? date : undefined
}

const dash = 45
const colon = 58
const dot = 46
const letterT = 84
const letterZ = 90

// The number `count` ASCII digits at `start` spell, or -1 if one is not a digit.
function readDigits(text: string, start: number, count: number): number {
  let value = 0
  for (let index = start; index < start + count; index++) {
    const digit = text.charCodeAt(index) - 48
    if (digit < 0 || digit > 9) return -1
    value = value * 10 + digit
  }

  return value
}

// Date() rolls 2024-02-30 over to March 1st; a message never means that.
function hasRealCalendarDate(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number)
  if (year === undefined || month === undefined || day === undefined)
    return false
  // Date.UTC would read the years 0 to 99 as 1900 to 1999.
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)

  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day
  )
}

function fromEpoch(value: number): ParsedInstant {
  if (!Number.isFinite(value)) return invalid(`${value} is not a finite number`)

  const magnitude = Math.abs(value)
  const milliseconds =
    magnitude < secondsLimit
      ? value * 1000
      : magnitude < millisecondsLimit
        ? value
        : value / 1000
  const date = new Date(Math.round(milliseconds))
  if (Number.isNaN(date.getTime())) return invalid(`${value} is out of range`)

  return { ok: true, date }
}

/**
 * An ISO 8601 instant with a zone, strictly (no epochs, no zoneless text,
 * no impossible dates): what flags, query values and definitions take.
 * @example parseZonedIsoInstant('2025-01-01T00:00:00+02:00') // 2024-12-31T22:00:00Z
 */
export function parseZonedIsoInstant(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !zonedIso.test(value.trim()))
    return undefined
  const parsed = parseInstant(value)

  return parsed.ok ? parsed.date : undefined
}

/**
 * Whether `zone` is an IANA time zone name (or UTC) this runtime knows.
 * luxon alone also takes `local`, `system` and `UTC+5`: never those.
 */
export function isValidTimeZone(zone: string): boolean {
  if (!/^(UTC|[A-Za-z]+(\/[A-Za-z0-9_+-]+)+)$/.test(zone)) return false
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
  } catch {
    return false
  }

  return DateTime.local().setZone(zone).isValid
}

function invalid(message: string): ParsedInstant {
  return { ok: false, reason: 'invalid', message }
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'

  return typeof value
}
