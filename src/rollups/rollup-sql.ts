/**
 * The few SQL expressions of rollups whose spelling may differ between
 * dialects, kept in one place so the dialect layer can route them.
 * Both read the same on DuckDB and PostgreSQL 15 where noted.
 */

/**
 * The UTC midnight starting the day of a TIMESTAMPTZ, as a TIMESTAMPTZ,
 * whatever the session's time zone (DuckDB and PostgreSQL alike).
 * @example utcDayStartSql('e.timestamp')
 */
export function utcDayStartSql(column: string): string {
  return `(date_trunc('day', ${column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`
}

/**
 * A numeric event property as DOUBLE, NULL when missing or not a number:
 * the one definition that raw metrics and rollups both use, so their sums
 * agree. `pointer` is SQL for a JSON pointer (`/name`).
 * TODO(PostgreSQL dialect): `properties #>> path` with a safe cast there.
 */
export function numericPropertySql(properties: string, pointer: string) {
  return `TRY_CAST(json_extract_string(${properties}, ${pointer}) AS DOUBLE)`
}

/**
 * SQL turning a property name column into a JSON pointer (`/a~1b` for
 * `a/b`), as {@link toJsonPointer} does in JavaScript.
 */
export function jsonPointerSql(property: string): string {
  return `('/' || replace(replace(${property}, '~', '~0'), '/', '~1'))`
}

/**
 * The JSON pointer of a top-level property name.
 * @example toJsonPointer('a/b') // '/a~1b'
 */
export function toJsonPointer(property: string): string {
  return `/${property.replaceAll('~', '~0').replaceAll('/', '~1')}`
}
