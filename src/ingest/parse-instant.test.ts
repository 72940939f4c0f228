import { describe, expect, it } from 'vitest'

import { parseInstant } from './parse-instant.js'

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

  it('refuses a zoneless string without a zone rather than guess', () => {
    expect(iso('2024-01-15T18:33:28.414')).toBe('zoneless')
  })

  it('rejects text that is no instant', () => {
    expect(iso('not a time')).toBe('invalid')
    expect(iso({})).toBe('invalid')
    expect(iso('2024-13-45T99:00:00Z')).toBe('invalid')
  })
})
