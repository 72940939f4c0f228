/**
 * Ingestion's settings from the environment (LEADLENS_INGEST_*): whole
 * numbers, refused with the variable named when they are not.
 */

/** A whole number from the environment, or `fallback` when unset. */
export function settingFromEnvironment(
  name: string,
  fallback: number,
  rule: { least: number; what: string },
): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  if (!/^\d+$/.test(text.trim()) || Number(text) < rule.least) {
    throw new Error(`${name}=${text} is not ${rule.what} (e.g. ${fallback})`)
  }

  return Number(text)
}
