/**
 * `leadlens inbox apply [--retry-failed]`: applies what the ingestion inbox
 * holds now, as a server does on start, and optionally gives the bodies
 * that failed to apply another try (after a fix, say).
 * `leadlens inbox forget-journal`: lets a DuckDB file whose accept journal
 * is lost start a new one.
 */
import { requeueFailed } from '../ingest/apply-inbox.js'
import { IngestInbox } from '../ingest/ingest-inbox.js'
import { forgetLostJournal } from '../ingest/journal-queue.js'
import { readStats } from '../catalog/read-stats.js'

import type { Command } from 'commander'
import type { CliContext } from './cli-context.js'

export function registerInboxCommand(program: Command, context: CliContext) {
  const inbox = program
    .command('inbox')
    .description('the ingestion inbox: accepted bodies not yet applied')

  inbox
    .command('apply')
    .description(
      'apply every accepted body now (a running server does this itself)',
    )
    .option('--retry-failed', 'move the bodies in ingest_failed back first')
    .action(async function runInboxApply(options: { retryFailed?: boolean }) {
      const store = await context.openStore({ mustExist: true })
      if (options.retryFailed) {
        const moved = await requeueFailed(store)
        context.err(`${moved} failed bodies moved back to the inbox`)
      }

      let stored = 0
      const applier = new IngestInbox(store, {
        // Nothing is accepted here: the limit of HTTP requests does not apply.
        backlogLimit: Number.POSITIVE_INFINITY,
        onApplied: (count) => (stored += count),
        log: {
          warn: (details, message) =>
            context.err(`warning: ${message} ${describeFields(details)}`),
          error: (details, message) =>
            context.err(`error: ${message} ${describe(details)}`),
        },
      })
      await applier.start()
      await applier.drain()
      await applier.stop()

      const { ingest } = await readStats(store)
      context.out(
        `${stored} new messages stored; ${ingest.waiting} messages waiting, ` +
          `${ingest.failedBodies} bodies failed`,
      )
    })

  inbox
    .command('forget-journal')
    .description(
      'let a DuckDB file whose accept journal is lost start a new one (what it held is lost)',
    )
    .action(async function runForgetJournal() {
      const store = await context.openStore({ mustExist: true })
      const forgotten = await forgetLostJournal(store)
      context.out(
        `the store forgets journal ${forgotten.id}, applied up to position ` +
          `${forgotten.appliedTo}; the next server starts a new one`,
      )
    })
}

// The fields of a log line, as `key=value`.
function describeFields(details: object): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(' ')
}

function describe(details: object): string {
  const error = (details as { err?: unknown }).err
  return error instanceof Error ? `(${error.message})` : ''
}
