import { describe, expect, it } from 'vitest'

import { coercePropertyValue, inferPropertyType } from './property-type.js'

describe('coercePropertyValue', () => {
  it('turns a decimal string into a number only when nothing is lost', () => {
    expect(coercePropertyValue('7', 'number')).toEqual({ ok: true, value: 7 })
    expect(coercePropertyValue('-2.5', 'number')).toEqual({
      ok: true,
      value: -2.5,
    })
    expect(coercePropertyValue('0x1F', 'number').ok).toBe(false)
    expect(coercePropertyValue('007', 'number').ok).toBe(false)
    expect(coercePropertyValue('12345678901234567890', 'number').ok).toBe(false)
    expect(coercePropertyValue('1e3', 'number').ok).toBe(false)
    expect(coercePropertyValue(' 8', 'number').ok).toBe(false)
  })

  it('accepts only ISO instants with a zone for a timestamp', () => {
    expect(coercePropertyValue('2024-01-01T00:00:00Z', 'timestamp').ok).toBe(
      true,
    )
    expect(coercePropertyValue('Jan 5 2024', 'timestamp').ok).toBe(false)
  })

  it('writes numbers and booleans as text for a string property', () => {
    expect(coercePropertyValue(7, 'string')).toEqual({ ok: true, value: '7' })
    expect(coercePropertyValue(true, 'string')).toEqual({
      ok: true,
      value: 'true',
    })
  })

  it('infers a type from the first value', () => {
    expect(inferPropertyType('2024-01-01T00:00:00Z')).toBe('timestamp')
    expect(inferPropertyType('hello')).toBe('string')
    expect(inferPropertyType([1])).toBe('array')
  })
})
