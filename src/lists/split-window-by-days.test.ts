import { describe, expect, it } from 'vitest'

import { splitWindowByUtcDays } from './split-window-by-days.js'

const at = (iso: string) => new Date(iso)

describe('splitWindowByUtcDays', () => {
  it('keeps the whole days of a rolling window and leaves its edges out', () => {
    const asOf = at('2030-01-10T15:30:00Z')
    const split = splitWindowByUtcDays(
      {
        start: at('2030-01-03T15:30:00Z'),
        startInclusive: false,
        end: asOf,
        endInclusive: true,
      },
      asOf,
    )
    expect(split).toEqual({
      from: at('2030-01-04T00:00:00Z'),
      to: at('2030-01-10T00:00:00Z'),
    })
  })

  it('leaves out a day whose first instant an open start excludes', () => {
    const split = splitWindowByUtcDays(
      {
        start: at('2030-01-03T00:00:00Z'),
        startInclusive: false,
        end: at('2030-01-06T00:00:00Z'),
        endInclusive: false,
      },
      at('2030-02-01T00:00:00Z'),
    )
    expect(split?.from).toEqual(at('2030-01-04T00:00:00Z'))
  })

  it('keeps a day starting at a closed start', () => {
    const split = splitWindowByUtcDays(
      {
        start: at('2030-01-03T00:00:00Z'),
        startInclusive: true,
        end: at('2030-01-06T00:00:00Z'),
        endInclusive: false,
      },
      at('2030-02-01T00:00:00Z'),
    )
    expect(split).toEqual({
      from: at('2030-01-03T00:00:00Z'),
      to: at('2030-01-06T00:00:00Z'),
    })
  })

  it('has no whole day in a window shorter than a day', () => {
    const asOf = at('2030-01-10T15:30:00Z')
    expect(
      splitWindowByUtcDays(
        {
          start: at('2030-01-09T15:30:00Z'),
          startInclusive: false,
          end: asOf,
          endInclusive: true,
        },
        asOf,
      ),
    ).toBeUndefined()
  })

  it('ends whole days at asOf when the window would reach past it', () => {
    expect(
      splitWindowByUtcDays(
        {
          start: at('2029-12-01T00:00:00Z'),
          startInclusive: true,
          end: at('2030-02-01T00:00:00Z'),
          endInclusive: false,
        },
        at('2030-01-10T15:30:00Z'),
      ),
    ).toEqual({
      from: at('2029-12-01T00:00:00Z'),
      to: at('2030-01-10T00:00:00Z'),
    })
  })

  it('has no start for all time', () => {
    expect(splitWindowByUtcDays(undefined, at('2030-01-10T15:30:00Z'))).toEqual(
      { to: at('2030-01-10T00:00:00Z') },
    )
  })
})
