/**
 * The `leadlens` command: parses arguments, opens the store, runs one
 * command, maps errors to exit statuses (0 ok, 1 user error, 2 anything else).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

import { Command, CommanderError } from 'commander'

import { defaultStorePath, openStore } from '../store/open-store.js'
import { CliUserError } from './cli-error.js'
import { describeError, isUserError } from './describe-error.js'
import { registerApplyCommand } from './apply-command.js'
import { registerDemoCommand } from './demo-command.js'
import { registerImportCommands } from './import-command.js'
import { registerInboxCommand } from './inbox-command.js'
import { registerListCommands } from './list-command.js'
import { registerPeopleCommand } from './people-command.js'
import { registerScoreCommands } from './score-command.js'
import { registerServeCommand } from './serve-command.js'
import { registerSettingsCommand } from './settings-command.js'
import { registerSourcesCommand } from './sources-command.js'
import { registerStatsCommand } from './stats-command.js'

import type { Store } from '../store/store.js'
import type { CliContext } from './cli-context.js'

/** Runs the CLI with `argv` (as process.argv) and returns the exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
  // `leadlens ... | head` closes the pipe early: that is no error.
  process.stdout.on(
    'error',
    function quietOnClosedPipe(error: NodeJS.ErrnoException) {
      if (error.code === 'EPIPE') process.exit(0)
      throw error
    },
  )
  const program = new Command()
  let store: Store | undefined

  const context: CliContext = {
    storeLocation: () =>
      program.opts<{ db?: string }>().db ??
      process.env.LEADLENS_DB ??
      defaultStorePath,
    async openStore(options = {}) {
      const location = context.storeLocation()
      if (
        options.mustExist === true &&
        store === undefined &&
        !/^[a-z]+:\/\//i.test(location) &&
        location !== ':memory:' &&
        !existsSync(resolve(location))
      ) {
        throw new CliUserError(
          `no store at ${resolve(location)}: load data first (leadlens import ...), or check --db / LEADLENS_DB`,
        )
      }
      store ??= await openStore(location)
      return store
    },
    out: (text) =>
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) =>
      process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  }

  program
    .name('leadlens')
    .description(
      'Find product-qualified leads in your product, CRM and billing data.',
    )
    .option(
      '--db <path|url>',
      `store: a DuckDB file or a postgres:// URL (default ${defaultStorePath}, or LEADLENS_DB)`,
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    })

  registerServeCommand(program, context)
  registerImportCommands(program, context)
  registerInboxCommand(program, context)
  registerListCommands(program, context)
  registerStatsCommand(program, context)
  registerSourcesCommand(program, context)
  registerSettingsCommand(program, context)
  registerApplyCommand(program, context)
  registerPeopleCommand(program, context)
  registerScoreCommands(program, context)
  registerDemoCommand(program, context)

  try {
    await program.parseAsync([...argv])
    return 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return error.exitCode === 0 ? 0 : 1
    }
    context.err(`leadlens: ${describeError(error)}`)

    return isUserError(error) ? 1 : 2
  } finally {
    if (store !== undefined) await store.close()
  }
}

export { CliUserError }
