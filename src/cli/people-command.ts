/** `leadlens people add EMAIL --role R`: a person and their API token. */
import { addPerson } from '../server/people.js'

import type { Command } from 'commander'
import type { CliContext } from './cli-context.js'

export function registerPeopleCommand(program: Command, context: CliContext) {
  program
    .command('people')
    .description('people who use the API and app')
    .command('add')
    .description(
      'add a person (or give them a new token); prints their API token once',
    )
    .argument('<email>')
    .requiredOption('--role <role>', 'admin, manager or rep')
    .action(async function runPeopleAdd(
      email: string,
      options: { role: string },
    ) {
      const token = await addPerson(
        await context.openStore(),
        email,
        options.role,
      )
      context.err(`${email} (${options.role}); API token, shown only once:`)
      context.out(token)
    })
}
