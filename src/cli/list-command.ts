/** `leadlens list run LIST`: a list definition file, run at `--as-of`. */
import { readListDefinition } from '../lists/read-list-definition.js'
import { runList } from '../lists/run-list.js'
import { CliUserError } from './cli-error.js'
import { formatRows, outputFormats } from './format-rows.js'

import type { Command } from 'commander'
import type { OutputFormat } from './format-rows.js'
import type { CliContext } from './main.js'

interface RunOptions {
  as?: string
  asOf?: string
  format: string
  limit?: string
}

export function registerListCommands(program: Command, context: CliContext) {
  const list = program
    .command('list')
    .description('run lists of users or accounts')

  list
    .command('run')
    .description('run a list definition (YAML or JSON file)')
    .argument('<list>', 'a list definition file')
    .option('--as <email>', 'run as this person: $me is their email')
    .option('--as-of <iso>', 'evaluate at this instant (default now)')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--limit <n>', 'at most this many rows')
    .action(async function runListCommand(file: string, options: RunOptions) {
      const format = parseFormat(options.format)
      const asOf = parseAsOf(options.asOf)
      const limit = parseLimit(options.limit)
      const definition = await readListDefinition(file)
      const store = await context.openStore()

      const result = await runList(store, definition, {
        ...(asOf === undefined ? {} : { asOf }),
        ...(options.as === undefined ? {} : { me: options.as }),
        ...(limit === undefined ? {} : { limit }),
      })
      context.out(formatRows(result, format))
    })
}

/** Reads `--format`. */
export function parseFormat(text: string): OutputFormat {
  if ((outputFormats as readonly string[]).includes(text))
    return text as OutputFormat
  throw new CliUserError(
    `--format must be one of ${outputFormats.join(', ')}, not ${text}`,
  )
}

/** Reads `--as-of`: an ISO 8601 instant with a zone. */
export function parseAsOf(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined
  const date = new Date(text)
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(text) || Number.isNaN(date.getTime())) {
    throw new CliUserError(
      `--as-of must be an ISO 8601 instant with a zone, e.g. 2025-01-01T00:00:00Z; got ${text}`,
    )
  }

  return date
}

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const limit = Number(text)
  if (!Number.isInteger(limit) || limit <= 0)
    throw new CliUserError(
      `--limit must be a positive whole number, not ${text}`,
    )

  return limit
}
