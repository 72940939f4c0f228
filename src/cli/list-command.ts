/** `leadlens list run LIST`: a list definition file, run at `--as-of`. */
import { deleteDefinition, readDefinition } from '../catalog/definitions.js'
import {
  forgetListMembership,
  readListChanges,
} from '../lists/list-membership.js'
import { loadList, runAndRecord } from '../lists/saved-lists.js'
import { CliUserError } from './cli-error.js'
import { formatRows } from './format-rows.js'
import { parseAsOf, parseFormat } from './parse-options.js'

import type { Command } from 'commander'
import type { CliContext } from './cli-context.js'

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
    .description('run a saved list, or a list definition file (YAML or JSON)')
    .argument('<list>', 'a saved list name or a definition file')
    .option(
      '--as <email>',
      '$me is this email (the CLI is trusted: it filters only where the list says $me)',
    )
    .option('--as-of <iso>', 'evaluate at this instant (default now)')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--limit <n>', 'at most this many rows')
    .action(async function runListCommand(file: string, options: RunOptions) {
      const format = parseFormat(options.format)
      const asOf = parseAsOf(options.asOf)
      const limit = parseLimit(options.limit)
      const store = await context.openStore({ mustExist: true })
      const loaded = await loadList(store, file)

      const result = await runAndRecord(store, loaded, {
        ...(asOf === undefined ? {} : { asOf }),
        ...(options.as === undefined ? {} : { me: options.as }),
        ...(limit === undefined ? {} : { limit }),
      })
      for (const warning of result.warnings) {
        context.err(`warning: ${warning.path}: ${warning.message}`)
      }
      if (result.entered !== undefined) {
        context.err(
          `${loaded.savedName}: ${result.entered} entered, ${result.left} left since the last run`,
        )
      }
      context.out(formatRows(result, format))
    })

  list
    .command('changes')
    .description('who entered and left a saved list, as its runs found them')
    .argument('<name>', 'a saved list')
    .option(
      '--since <iso>',
      'changes at or after this instant',
      '1970-01-01T00:00:00Z',
    )
    .option('--format <format>', 'table or json', 'table')
    .action(async function runListChanges(
      name: string,
      options: { since: string; format: string },
    ) {
      const since = parseAsOf(options.since, '--since') ?? new Date(0)
      const store = await context.openStore({ mustExist: true })
      if ((await readDefinition(store, 'list', name)) === undefined) {
        throw new CliUserError(`no saved list named ${name}`)
      }
      const changes = await readListChanges(store, name, since)
      if (options.format === 'json') {
        context.out(JSON.stringify({ changes }, null, 2))
        return
      }
      for (const change of changes) {
        context.out(
          `${change.at}  ${change.change.padEnd(7)}  ${change.entityId}${change.viewer ? `  (as ${change.viewer})` : ''}`,
        )
      }
      context.err(`${changes.length} change(s)`)
    })

  list
    .command('delete')
    .description('delete a saved list and its history')
    .argument('<name>')
    .action(async function runListDelete(name: string) {
      const store = await context.openStore({ mustExist: true })
      if (!(await deleteDefinition(store, 'list', name))) {
        throw new CliUserError(`no saved list named ${name}`)
      }
      await forgetListMembership(store, name)
      context.out(`list ${name} deleted`)
    })
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
