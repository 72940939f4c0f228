import { describe, expect, it } from 'vitest'

import { StoreError } from '../store-error.js'
import { bindParams, toCopyLine } from './postgres-values.js'

describe('toCopyLine', () => {
  it('escapes backslashes, tabs, newlines and carriage returns, and writes NULL as \\N', () => {
    expect(toCopyLine(['a\tb', 'c\nd', 'e\rf', 'g\\h', null])).toBe(
      'a\\tb\tc\\nd\te\\rf\tg\\\\h\t\\N\n',
    )
  })

  it('keeps the text "\\N" apart from NULL, and the empty string apart from both', () => {
    expect(toCopyLine(['\\N', '', null])).toBe('\\\\N\t\t\\N\n')
  })

  it('writes instants as ISO UTC, booleans as t/f and numbers in full', () => {
    expect(
      toCopyLine([new Date('2030-01-02T03:04:05.678Z'), true, false, 0.1, -2]),
    ).toBe('2030-01-02T03:04:05.678Z\tt\tf\t0.1\t-2\n')
  })

  it('keeps unicode as it is', () => {
    expect(toCopyLine(['café 🚀 e\u0301 日本'])).toBe('café 🚀 e\u0301 日本\n')
  })

  it('refuses a NUL character, which PostgreSQL text cannot hold', () => {
    expect(() => toCopyLine(['a\0b'])).toThrow(StoreError)
    expect(() => toCopyLine(['a\0b'])).toThrow(/NUL/)
  })
})

describe('bindParams', () => {
  it('casts numbers, booleans, bigints and instants as DuckDB binds them, leaving text untyped', () => {
    const bound = bindParams('SELECT $1, $2, $3, $4, $5, $6', [
      1.5,
      true,
      10n,
      new Date('2030-01-01T00:00:00Z'),
      'text',
      null,
    ])
    expect(bound.text).toBe(
      'SELECT $1::double precision, $2::boolean, $3::bigint, $4::timestamptz, $5, $6',
    )
    expect(bound.values).toEqual([
      1.5,
      true,
      '10',
      '2030-01-01T00:00:00.000Z',
      'text',
      null,
    ])
  })

  it('leaves placeholders inside quoted text, quoted names and comments alone', () => {
    const bound = bindParams(
      `SELECT '$1', "$1", $1 -- $1\n/* $1 */, $10`,
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    )
    expect(bound.text).toBe(
      `SELECT '$1', "$1", $1::double precision -- $1\n/* $1 */, $10::double precision`,
    )
  })

  it('changes nothing without parameters', () => {
    expect(bindParams('SELECT $$1$$', [])).toEqual({
      text: 'SELECT $$1$$',
      values: [],
    })
  })
})
