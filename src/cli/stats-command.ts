/** `leadlens stats`: what the store holds. */
import { readStats } from '../catalog/read-stats.js'

import type { Command } from 'commander'
import type { CliContext } from './cli-context.js'

export function registerStatsCommand(program: Command, context: CliContext) {
  program
    .command('stats')
    .description(
      'counts: users, accounts, memberships, events by type and name',
    )
    .option('--format <format>', 'table or json', 'table')
    .action(async function runStats(options: { format: string }) {
      const stats = await readStats(
        await context.openStore({ mustExist: true }),
      )
      if (options.format === 'json') {
        context.out(JSON.stringify(stats, null, 2))
        return
      }

      const lines = [
        `users             ${stats.users}`,
        `anonymous users   ${stats.anonymousUsers}`,
        `linked identities ${stats.identities}`,
        `accounts          ${stats.accounts}`,
        `memberships       ${stats.memberships}`,
        `events            ${stats.events}`,
        ...Object.entries(stats.eventsByType).map(
          ([type, n]) => `  ${type.padEnd(16)}${n}`,
        ),
        'track events by name',
        ...Object.entries(stats.eventsByName).map(
          ([name, n]) => `  ${name.padEnd(16)}${n}`,
        ),
        `crm               owners ${stats.crm.owners}, companies ${stats.crm.companies}, contacts ${stats.crm.contacts}, deals ${stats.crm.deals}`,
        `ingestion inbox   ${stats.ingest.waiting} messages waiting, ` +
          `${stats.ingest.failedBodies} bodies failed` +
          (stats.ingest.failedBodies > 0
            ? ` (${stats.ingest.failedMessages} messages; leadlens inbox apply --retry-failed)`
            : ''),
        ...(stats.ingest.journalProblem === null
          ? []
          : [`ingestion journal NOT COUNTED: ${stats.ingest.journalProblem}`]),
      ]
      context.out(lines.join('\n'))
    })
}
