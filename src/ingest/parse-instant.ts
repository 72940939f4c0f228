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
// What SDKs send nearly always (Date.toISOString()): read field by field.
const utcIso =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/

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

    return invalid(`${JSON.stringify(value)} is not valid in zone ${zone}`)
  }

  return invalid(`${JSON.stringify(value)} is not an ISO 8601 instant`)
}

// A canonical UTC instant, or undefined to take the general path (which
// also names what is wrong). Impossible dates and times are not read here.
function readUtcIso(text: string): Date | undefined {
  const match = utcIso.exec(text)
  if (match === null) return undefined
  const [year, month, day, hour, minute, second] = match
    .slice(1, 7)
    .map(Number) as [number, number, number, number, number, number]
  const milliseconds = Number((match[7] ?? '').padEnd(3, '0'))
  if (hour > 23 || minute > 59 || second > 59) return undefined
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
  // Date.UTC maps years below 100 to 19xx, and rolls Feb 30 into March.
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  )
    return undefined

  return isStorableInstant(date) ? date : undefined
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
