/**
 * Composes two JSON merge patches (RFC 7396) into one: applying the result
 * equals applying the first, then the second. So traits sent in one batch
 * end as they would have in two (a null deletes, objects merge deeply).
 * @example composeMergePatch({ a: { b: 1, c: 2 } }, { a: { b: null } }) // { a: { b: null, c: 2 } }
 */
import { emptyRecord } from '../catalog/own-property.js'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

export function composeMergePatch(first: Json, second: Json): Json {
  const result = emptyRecord()
  for (const key of Object.keys(first)) result[key] = first[key]
  for (const key of Object.keys(second)) {
    const earlier = result[key]
    const later = second[key]
    result[key] =
      isObject(earlier) && isObject(later)
        ? composeMergePatch(earlier, later)
        : later
  }

  return result
}
