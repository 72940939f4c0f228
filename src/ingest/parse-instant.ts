/**
 * Reads the instants clients send: ISO 8601 with a zone, epoch seconds or
 * milliseconds (numbers or digit strings, told apart by magnitude), and
 * zoneless ISO strings only when an IANA zone is known for them.
 */
import { DateTime } from 'luxon'

export type ParsedInstant =
  | { ok: true; date: Date }
  | { ok: false; reason: 'invalid' | 'zoneless'; message: string }

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
  if (typeof value === 'number') return fromEpoch(value)

  if (typeof value !== 'string') {
    return invalid(`expected a string or a number, got ${typeName(value)}`)
  }

  const text = value.trim()
  if (digits.test(text)) return fromEpoch(Number(text))

  if (zonedIso.test(text)) {
    const date = new Date(text.replace(' ', 'T'))
    if (!Number.isNaN(date.getTime())) return { ok: true, date }

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

    const local = DateTime.fromISO(text.replace(' ', 'T'), { zone })
    if (local.isValid) return { ok: true, date: local.toJSDate() }

    return invalid(`${JSON.stringify(value)} is not valid in zone ${zone}`)
  }

  return invalid(`${JSON.stringify(value)} is not an ISO 8601 instant`)
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

/** Whether `zone` is an IANA time zone name this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
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
