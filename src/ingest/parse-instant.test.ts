import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { isValidTimeZone, parseInstant } from './parse-instant.js'

const iso = (value: unknown, zone?: string) => {
  const parsed = parseInstant(value, zone)
  return parsed.ok ? parsed.date.toISOString() : parsed.reason
}

describe('parseInstant', () => {
  it('reads epoch seconds and milliseconds by magnitude, as numbers or strings', () => {
    expect(iso('1685923200')).toBe('2023-06-05T00:00:00.000Z')
    expect(iso(1685923200)).toBe('2023-06-05T00:00:00.000Z')
    expect(iso(1685923200000)).toBe('2023-06-05T00:00:00.000Z')
    expect(iso('1685923200000')).toBe('2023-06-05T00:00:00.000Z')
  })

  it('keeps the offset of an ISO string', () => {
    expect(iso('2024-03-10T12:00:00+02:00')).toBe('2024-03-10T10:00:00.000Z')
    expect(iso('2024-03-10T12:00:00Z')).toBe('2024-03-10T12:00:00.000Z')
  })

  it('reads a zoneless string in the given IANA zone', () => {
    // Sao Paulo is UTC-3 in January 2024 (no daylight saving since 2019).
    expect(iso('2024-01-15T18:33:28.414', 'America/Sao_Paulo')).toBe(
      '2024-01-15T21:33:28.414Z',
    )
  })

  it('names the time, not the zone, when a zoneless time of day is out of range', () => {
    const message = (value: string, zone: string) => {
      const parsed = parseInstant(value, zone)
      return parsed.ok ? 'ok' : parsed.message
    }
    expect(message('2024-01-15T24:00:00.001', 'UTC')).toBe(
      '"2024-01-15T24:00:00.001" is not a valid time of day',
    )
    expect(message('2024-01-15T10:00:00', 'Mars/Olympus')).toBe(
      '"2024-01-15T10:00:00" is not valid in zone Mars/Olympus',
    )
  })

  it('refuses a zoneless string without a zone rather than guess', () => {
    expect(iso('2024-01-15T18:33:28.414')).toBe('zoneless')
  })

  it('rejects text that is no instant', () => {
    expect(iso('not a time')).toBe('invalid')
    expect(iso({})).toBe('invalid')
    expect(iso('2024-13-45T99:00:00Z')).toBe('invalid')
  })
})

describe('parseInstant: edge cases', () => {
  it('refuses short digit strings that are years or dates, not epochs', () => {
    expect(iso('2024')).toBe('invalid')
    expect(iso('20240115')).toBe('invalid')
    expect(iso('100000000')).toBe('1973-03-03T09:46:40.000Z')
  })

  it('refuses impossible calendar dates instead of rolling them over', () => {
    expect(iso('2024-02-30T00:00:00Z')).toBe('invalid')
    expect(iso('2024-02-29T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z')
  })

  it('reads an hour-only offset', () => {
    expect(iso('2024-01-01T12:00:00+05')).toBe('2024-01-01T07:00:00.000Z')
  })

  it('knows local, system and UTC+5 are not IANA zones', () => {
    expect(isValidTimeZone('local')).toBe(false)
    expect(isValidTimeZone('system')).toBe(false)
    expect(isValidTimeZone('UTC+5')).toBe(false)
    expect(isValidTimeZone('America/Sao_Paulo')).toBe(true)
    expect(isValidTimeZone('UTC')).toBe(true)
  })
})

describe('parseInstant: the canonical UTC form read field by field', () => {
  // The expected value comes from Date() itself, with a calendar check:
  // the day the text names must exist (Date() rolls Feb 30 into March).
  // The day is checked alone, at its midnight, because "T24:00:00" is the
  // end of the named day, which ECMAScript and ISO 8601 read as the next
  // day's midnight.
  function expected(text: string): string {
    const date = new Date(text)
    if (Number.isNaN(date.getTime())) return 'invalid'
    const day = text.slice(0, 10)
    const midnight = new Date(`${day}T00:00:00Z`)
    if (Number.isNaN(midnight.getTime())) return 'invalid'
    if (midnight.toISOString().slice(0, 10) !== day) return 'invalid'
    return date.toISOString()
  }

  it('agrees with Date() on any year, day, time and fraction, possible or not', () => {
    const pad = (n: number, width: number) => String(n).padStart(width, '0')
    const text = fc
      .record({
        year: fc.integer({ min: 1, max: 9999 }),
        month: fc.integer({ min: 0, max: 13 }),
        day: fc.integer({ min: 0, max: 32 }),
        hour: fc.integer({ min: 0, max: 25 }),
        minute: fc.integer({ min: 0, max: 61 }),
        second: fc.integer({ min: 0, max: 61 }),
        fraction: fc.oneof(
          fc.constant(''),
          fc.integer({ min: 0, max: 999 }).map((n) => `.${pad(n, 3)}`),
          fc.integer({ min: 0, max: 99 }).map((n) => `.${pad(n, 2)}`),
          fc.integer({ min: 0, max: 9 }).map((n) => `.${n}`),
        ),
      })
      .map(
        (p) =>
          `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}T` +
          `${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}${p.fraction}Z`,
      )
    fc.assert(
      fc.property(text, (value) => {
        expect(iso(value)).toBe(expected(value))
      }),
      { numRuns: 2_000 },
    )
  })

  it('reads 24:00:00 as the end of the day it names, and nothing past it', () => {
    expect(iso('2024-01-31T24:00:00Z')).toBe('2024-02-01T00:00:00.000Z')
    expect(iso('0001-01-01T24:00:00.000Z')).toBe('0001-01-02T00:00:00.000Z')
    expect(iso('2024-01-31T24:00:01Z')).toBe('invalid')
    expect(iso('2024-02-30T24:00:00Z')).toBe('invalid')
  })

  it('reads the years 0001 to 0099 as written, not as 19xx', () => {
    expect(iso('0050-06-01T00:00:00Z')).toBe('0050-06-01T00:00:00.000Z')
    expect(iso('0050-06-01T00:00:00+00:00')).toBe('0050-06-01T00:00:00.000Z')
    expect(iso('0001-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00.000Z')
  })

  it('refuses instants outside the years 0001 to 9999, which a store cannot hold', () => {
    expect(iso('0000-12-31T23:59:59.999Z')).toBe('invalid')
    expect(iso('9999-12-31T23:59:59.999Z')).toBe('9999-12-31T23:59:59.999Z')
    // -62198755200000 ms is 0000-01-01 (year -1 in the helper's terms).
    expect(iso(-62198755200000)).toBe('invalid')
    // Read as microseconds: year -7537.
    expect(iso(-3e17)).toBe('invalid')
    expect(iso(8.64e18)).toBe('invalid')
    const parsed = parseInstant(-3e17)
    expect(parsed.ok ? '' : parsed.message).toContain('0001 to 9999')
  })
})
