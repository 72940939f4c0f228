/** `leadlens settings [KEY VALUE]`: the workspace settings. */
import { isValidTimeZone } from '../ingest/parse-instant.js'
import {
  readWorkspaceSettings,
  settingKeys,
  writeWorkspaceSetting,
} from '../store/workspace-settings.js'
import { CliUserError } from './cli-error.js'

import type { Command } from 'commander'
import type { CliContext } from './cli-context.js'

const keys = settingKeys

export function registerSettingsCommand(program: Command, context: CliContext) {
  program
    .command('settings')
    .description(`show the workspace settings, or set one (${keys.join(', ')})`)
    .argument('[key]')
    .argument('[value]')
    .action(async function runSettings(key?: string, value?: string) {
      const store = await context.openStore()
      if (key !== undefined) {
        const known = keys.find((k) => k === key)
        if (known === undefined || value === undefined) {
          throw new CliUserError(
            `usage: leadlens settings ${keys.join('|')} VALUE`,
          )
        }
        if (known === 'timezone' && !isValidTimeZone(value)) {
          throw new CliUserError(
            `${value} is not an IANA time zone (e.g. Europe/Berlin)`,
          )
        }
        if (
          known === 'match_accounts_by_email_domain' &&
          !['true', 'false'].includes(value)
        ) {
          throw new CliUserError(
            'match_accounts_by_email_domain is true or false',
          )
        }
        await writeWorkspaceSetting(store, known, value)
      }

      const settings = await readWorkspaceSettings(store)
      context.out(`timezone                        ${settings.timezone}`)
      context.out(
        `match_accounts_by_email_domain  ${settings.matchAccountsByEmailDomain}`,
      )
      // A secret is never printed, only whether it is set.
      context.out(
        `stripe_webhook_secret           ${settings.stripeWebhookSecret === undefined ? '(not set)' : '(set)'}`,
      )
    })
}
