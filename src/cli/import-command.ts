/**
 * `leadlens import events|users|accounts|contacts|companies|deals|owners`.
 * Results go to stdout, progress to stderr; exit 1 when any line or row
 * was rejected (the others are stored all the same).
 */
import { readImportMapping } from '../connectors/csv/import-mapping.js'
import { importRecords } from '../connectors/csv/import-records.js'
import { recordKindNames } from '../connectors/csv/record-kinds.js'
import { importStripe } from '../connectors/stripe/import-stripe.js'
import { importEvents } from '../ingest/import-events.js'
import { refreshSavedScores } from '../scores/refresh-scores.js'
import { CliUserError } from './cli-error.js'

import type { Command } from 'commander'
import type { Store } from '../store/store.js'
import type { CliContext } from './cli-context.js'

const shownIssues = 50

export function registerImportCommands(program: Command, context: CliContext) {
  const importCommand = program
    .command('import')
    .description('load messages, CRM records and billing from files')

  importCommand
    .command('events')
    .description('Segment-spec messages, one JSON object a line (.gz ok)')
    .argument('<files...>')
    .option('--source <id>', 'the source these messages came from', 'import')
    .action(async function runImportEvents(
      files: string[],
      options: { source: string },
    ) {
      const store = await context.openStore()
      const started = Date.now()
      const summary = await importEvents(store, files, {
        sourceId: options.source,
        onProgress: ({ file, lines, stored }) =>
          context.err(`${file}: ${lines} lines read, ${stored} stored`),
      })

      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      context.out(
        `imported ${summary.files} file(s) in ${seconds}s: ${summary.lines} messages, ` +
          `${summary.stored} stored, ${summary.duplicates} duplicates, ` +
          `${new Set(summary.rejected.map((issue) => `${issue.file}:${issue.line}`)).size} rejected, ${summary.warnings.length} warnings`,
      )
      for (const issue of summary.rejected.slice(0, shownIssues)) {
        context.out(
          `  rejected ${issue.file}:${issue.line} ${issue.code} ${issue.path ? `${issue.path}: ` : ''}${issue.message}`,
        )
      }
      for (const warning of summary.warnings.slice(0, shownIssues)) {
        context.out(
          `  warning ${warning.messageId} ${warning.code} ${warning.path}: ${warning.message}`,
        )
      }
      const rejectedLines = new Set(
        summary.rejected.map((issue) => `${issue.file}:${issue.line}`),
      ).size
      if (rejectedLines > 0) {
        throw new CliUserError(
          `${rejectedLines} message(s) rejected; the other ${summary.stored + summary.duplicates} were stored or already present`,
        )
      }
    })

  importCommand
    .command('stripe')
    .description(
      'Stripe customers, prices, plans, subscriptions, invoices (objects or event envelopes, JSON)',
    )
    .argument('<files...>')
    .action(async function runImportStripe(files: string[]) {
      const store = await context.openStore()
      const summary = await importStripe(store, files)
      context.out(
        `imported stripe from ${files.length} file(s): ${summary.customers} customers ` +
          `(${summary.linkedToAccounts} linked to accounts), ${summary.prices} prices, ` +
          `${summary.subscriptions} subscriptions, ${summary.invoices} invoices, ` +
          `${summary.skipped} other objects skipped`,
      )
      await refreshScoresAfterImport(store, context)
    })

  for (const kind of recordKindNames) {
    importCommand
      .command(kind)
      .description(
        `${kind} from a CSV file or a JSON array, renamed by a mapping`,
      )
      .argument('<file>')
      .requiredOption(
        '--map <mapping.yaml>',
        'the import mapping (id, columns, types, timestamps)',
      )
      .action(async function runImportRecords(
        file: string,
        options: { map: string },
      ) {
        const mapping = await readImportMapping(options.map)
        const store = await context.openStore()
        const summary = await importRecords(store, kind, file, mapping)

        context.out(
          `imported ${kind} from ${file}: ${summary.rows} rows, ${summary.stored} stored, ` +
            `${new Set(summary.rejected.map((issue) => issue.line)).size} rejected` +
            (kind === 'users' ? `, ${summary.memberships} memberships` : ''),
        )
        for (const issue of summary.rejected.slice(0, shownIssues)) {
          context.out(
            `  rejected ${issue.file}:${issue.line} ${issue.code} ${issue.message}`,
          )
        }
        const rejectedRows = new Set(
          summary.rejected.map((issue) => issue.line),
        ).size
        if (rejectedRows > 0) {
          throw new CliUserError(
            `${rejectedRows} row(s) rejected; the other ${summary.stored} were stored`,
          )
        }
      })
  }
}

async function refreshScoresAfterImport(store: Store, context: CliContext) {
  const changes = await refreshSavedScores(store, 'import')
  if (changes > 0)
    context.err(
      `scores recomputed: ${changes} change(s) of level or quadrant recorded`,
    )
}
