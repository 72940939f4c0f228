/** `leadlens apply FILE.yaml`: metrics and lists as code. */
import { applyDefinitionsFile } from '../catalog/apply-definitions.js'
import { refreshSavedScores } from '../scores/refresh-scores.js'

import type { Command } from 'commander'
import type { CliContext } from './cli-context.js'

export function registerApplyCommand(program: Command, context: CliContext) {
  program
    .command('apply')
    .description(
      'create or update the metrics, lists and scores of a YAML file',
    )
    .argument('<file>')
    .action(async function runApply(file: string) {
      const summary = await applyDefinitionsFile(
        await context.openStore(),
        file,
      )
      for (const warning of summary.warnings) {
        context.err(`warning: ${warning.path}: ${warning.message}`)
      }
      for (const name of summary.created) context.out(`created ${name}`)
      for (const name of summary.updated) context.out(`updated ${name}`)
      if (
        [...summary.created, ...summary.updated].some((n) =>
          n.startsWith('score '),
        )
      ) {
        const changes = await refreshSavedScores(
          await context.openStore(),
          'definition',
        )
        context.err(
          `scores recomputed: ${changes} change(s) of level or quadrant recorded`,
        )
      }
    })
}
