import { describe, expect, it } from 'vitest'

import { parseDuration, resolveWindow } from './time-window.js'

const asOf = new Date('2030-01-10T02:00:00Z') // 2030-01-09 23:00 in Sao Paulo (UTC-3), a Wednesday
const zone = 'America/Sao_Paulo'
const bounds = (spec: unknown, z = zone) => {
  const w = resolveWindow(spec, asOf, z)
  return [
    w.start.toISOString(),
    w.startInclusive,
    w.end.toISOString(),
    w.endInclusive,
  ]
}

describe('time windows', () => {
  it('parses durations in minutes, hours, days and weeks', () => {
    expect(parseDuration('90m')).toBe(90 * 60_000)
    expect(parseDuration('12h')).toBe(12 * 3_600_000)
    expect(parseDuration('30d')).toBe(30 * 86_400_000)
    expect(parseDuration('2w')).toBe(14 * 86_400_000)
    expect(parseDuration('30 days')).toBeUndefined()
    expect(parseDuration('0d')).toBeUndefined()
  })

  it('makes a rolling window (asOf - d, asOf]', () => {
    expect(bounds('1d')).toEqual([
      '2030-01-09T02:00:00.000Z',
      false,
      '2030-01-10T02:00:00.000Z',
      true,
    ])
  })

  it('computes today, yesterday and last_n_days as local days of the zone', () => {
    expect(bounds('today')).toEqual([
      '2030-01-09T03:00:00.000Z',
      true,
      '2030-01-10T02:00:00.000Z',
      true,
    ])
    expect(bounds('yesterday')).toEqual([
      '2030-01-08T03:00:00.000Z',
      true,
      '2030-01-09T03:00:00.000Z',
      false,
    ])
    expect(bounds({ last_n_days: 2 })).toEqual([
      '2030-01-08T03:00:00.000Z',
      true,
      '2030-01-10T02:00:00.000Z',
      true,
    ])
    expect(bounds('today', 'UTC')).toEqual([
      '2030-01-10T00:00:00.000Z',
      true,
      '2030-01-10T02:00:00.000Z',
      true,
    ])
  })

  it('starts weeks on Monday and months on the first, in the zone', () => {
    expect(bounds('this_week')).toEqual([
      '2030-01-07T03:00:00.000Z',
      true,
      '2030-01-10T02:00:00.000Z',
      true,
    ])
    expect(bounds('last_week')).toEqual([
      '2029-12-31T03:00:00.000Z',
      true,
      '2030-01-07T03:00:00.000Z',
      false,
    ])
    expect(bounds('this_month')).toEqual([
      '2030-01-01T03:00:00.000Z',
      true,
      '2030-01-10T02:00:00.000Z',
      true,
    ])
    expect(bounds('last_month')).toEqual([
      '2029-12-01T03:00:00.000Z',
      true,
      '2030-01-01T03:00:00.000Z',
      false,
    ])
  })
})
