import { describe, expect, it } from 'vitest'

import { toCsvCell } from './to-csv-cell.js'

describe('toCsvCell', () => {
  it('defuses text a spreadsheet would run as a formula', () => {
    expect(toCsvCell('=HYPERLINK("http://x","y")')).toBe(
      `'=HYPERLINK("http://x","y")`,
    )
    expect(toCsvCell('@SUM(A1)')).toBe(`'@SUM(A1)`)
    expect(toCsvCell('+1 call me')).toBe(`'+1 call me`)
  })

  it('leaves numbers, negative ones included, and plain text alone', () => {
    expect(toCsvCell(-5)).toBe('-5')
    expect(toCsvCell('-5.5')).toBe('-5.5')
    expect(toCsvCell('Acme, Inc.')).toBe('Acme, Inc.')
    expect(toCsvCell(null)).toBe('')
  })
})
