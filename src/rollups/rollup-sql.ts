/**
 * The few SQL expressions of rollups whose spelling may differ between
 * dialects, kept in one place; the differences go through the dialect.
 */
import type { SqlDialect } from '../store/sql-dialect.js'

/**
 * The UTC midnight starting the day of a TIMESTAMPTZ, as a TIMESTAMPTZ,
 * whatever the session's time zone (DuckDB and PostgreSQL alike).
 * @example utcDayStartSql('e.timestamp')
 */
export function utcDayStartSql(column: string): string {
  return `(date_trunc('day', ${column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`
}

/**
 * A numeric event property as a double, NULL when missing or not a number:
 * the one definition that raw metrics and rollups both use, so their sums
 * agree. `path` is SQL for a JSON path (`sql.jsonPath` bound, or
 * `sql.jsonPathOfKey` of a column).
 */
export function numericPropertySql(
  sql: SqlDialect,
  properties: string,
  path: string,
): string {
  return sql.tryCast(sql.jsonText(properties, path), 'double')
}
