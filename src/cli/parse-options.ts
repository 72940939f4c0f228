/** Reading the flags several commands share: --format, --as-of, --since, --port. */
import { parseZonedIsoInstant } from '../ingest/parse-instant.js'
import { CliUserError } from './cli-error.js'
import { outputFormats } from './format-rows.js'

import type { OutputFormat } from './format-rows.js'

/** Reads `--format`. */
export function parseFormat(text: string): OutputFormat {
  if ((outputFormats as readonly string[]).includes(text))
    return text as OutputFormat
  throw new CliUserError(
    `--format must be one of ${outputFormats.join(', ')}, not ${text}`,
  )
}

/** Reads an instant flag (`--as-of`, `--since`): ISO 8601 with a zone. */
export function parseAsOf(
  text: string | undefined,
  flag = '--as-of',
): Date | undefined {
  if (text === undefined) return undefined
  const date = parseZonedIsoInstant(text)
  if (date === undefined) {
    throw new CliUserError(
      `${flag} must be an ISO 8601 instant with a zone, e.g. 2025-01-01T00:00:00Z; got ${text}`,
    )
  }

  return date
}

/** Reads `--port`: a whole number from 0 (any free port) to 65535. */
export function parsePort(text: string): number {
  if (/^\d{1,5}$/.test(text) && Number(text) <= 65_535) return Number(text)
  throw new CliUserError(
    `--port must be a whole number from 0 (any free port) to 65535, not ${text}`,
  )
}
