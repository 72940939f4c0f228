/**
 * Reads a record by a key that came from input (a field name, a CSV
 * header, a score name) without ever reaching the prototype: `toString`
 * or `__proto__` are just names that are not there.
 * @example ownProperty({ a: 1 }, 'toString') // undefined
 */
export function ownProperty<T>(
  record: Readonly<Record<string, T>> | undefined,
  key: string,
): T | undefined {
  return record !== undefined && Object.hasOwn(record, key)
    ? record[key]
    : undefined
}

/**
 * A record without a prototype, so input keys such as `__proto__` are
 * stored as data (JSON.stringify writes them like any other key).
 */
export function emptyRecord<T = unknown>(): Record<string, T> {
  return Object.create(null) as Record<string, T>
}
