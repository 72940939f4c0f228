/** `leadlens demo`: load a generated demo workspace into the store. */
import { refreshSavedScores } from '../scores/refresh-scores.js'
import { CliUserError } from './cli-error.js'
import { loadDemoWorkspace } from './demo-workspace.js'

import type { Command } from 'commander'
import type { CliContext } from './cli-context.js'

export function registerDemoCommand(program: Command, context: CliContext) {
  program
    .command('demo')
    .description(
      'load a generated demo workspace (120 accounts, their users, events, CRM and billing, a score and lists)',
    )
    .action(async function runDemo() {
      const store = await context.openStore()
      const existing = await store.query<{ n: number }>(
        "SELECT count(*) AS n FROM events WHERE source_id = 'demo'",
      )
      if (Number(existing[0]?.n ?? 0) > 0) {
        throw new CliUserError(
          'this store already holds the demo; use a fresh one with --db',
        )
      }

      const summary = await loadDemoWorkspace(store)
      await refreshSavedScores(store, 'import')
      context.out(
        `demo loaded: ${summary.accounts} accounts, ${summary.users} users, ${summary.messages} messages, ` +
          'a score (pql) and lists "Hot accounts" and "My accounts".\n' +
          'Try: leadlens list run "Hot accounts"\n' +
          '     leadlens list run "My accounts" --as rita@demo.example\n' +
          '     leadlens score explain pql acct_001',
      )
    })
}
