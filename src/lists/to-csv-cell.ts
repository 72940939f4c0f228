/**
 * One value as a CSV cell. Text that a spreadsheet would run as a formula
 * (starting with = + - @, a tab or a carriage return) gets a leading `'`,
 * as OWASP advises; numbers, including negative ones, are left alone.
 * @example toCsvCell('=HYPERLINK("x")') // "'=HYPERLINK(\"x\")"
 */
export function toCsvCell(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'object') return JSON.stringify(value)
  if (typeof value !== 'string') return String(value)

  const isFormula =
    /^[=+\-@\t\r]/.test(value) &&
    !/^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value)

  return isFormula ? `'${value}` : value
}
