/** `leadlens sources add|revoke|list`: ingestion sources and write keys. */
import { addSource, listSources, revokeSource } from '../ingest/sources.js'

import type { Command } from 'commander'
import type { CliContext } from './cli-context.js'

export function registerSourcesCommand(program: Command, context: CliContext) {
  const sources = program
    .command('sources')
    .description('ingestion sources and their write keys')

  sources
    .command('add')
    .description('make a source and print its write key (shown only once)')
    .argument('<name>')
    .action(async function runSourcesAdd(name: string) {
      const { writeKey } = await addSource(await context.openStore(), name)
      context.err(`source ${name} added; its write key (shown only once):`)
      context.out(writeKey)
    })

  sources
    .command('revoke')
    .description('revoke a source: its write key gets 401 from now on')
    .argument('<name>')
    .action(async function runSourcesRevoke(name: string) {
      await revokeSource(await context.openStore(), name)
      context.out(`source ${name} revoked`)
    })

  sources
    .command('list')
    .description('every source, with its state')
    .action(async function runSourcesList() {
      const all = await listSources(await context.openStore())
      for (const source of all) {
        const state = source.revokedAt
          ? `revoked ${source.revokedAt}`
          : 'active'
        context.out(`${source.name}  ${state}  created ${source.createdAt}`)
      }
    })
}
