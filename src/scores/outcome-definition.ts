/**
 * Outcomes a score is tested against: what counts as converting in the
 * horizon after `asOf`. An outcome is one of:
 * - `related` records (CRM deals) matching `where`, dated (by `at`,
 *   default `closed_or_created_at`) inside the horizon;
 * - an `event` (a track name, with an optional property `where`) in the horizon;
 * - `when`, a list condition false at asOf and true at the horizon's end.
 * Built in: `deal_won` (a CRM deal at stage Won in the horizon) and
 * `invoice_paid` (a paid Stripe invoice in the horizon).
 */
import { validateCondition } from '../lists/validate-list-definition.js'

import type { Condition } from '../lists/list-definition.js'
import type { ListIssue } from '../lists/list-error.js'

export interface OutcomeDefinition {
  name: string
  of: 'users' | 'accounts'
  related?: 'crm.deals' | 'billing.subscriptions' | 'billing.invoices'
  event?: string
  where?: Condition
  at?: string
  when?: Condition
}

export const builtInOutcomes: Record<string, OutcomeDefinition> = {
  deal_won: {
    name: 'deal_won',
    of: 'accounts',
    related: 'crm.deals',
    where: { field: 'stage', op: '=', value: 'Won' },
  },
  // A paid Stripe invoice in the horizon: the account became a payer.
  invoice_paid: {
    name: 'invoice_paid',
    of: 'accounts',
    related: 'billing.invoices',
    where: { field: 'status', op: '=', value: 'paid' },
    at: 'paid_at',
  },
}

/** Checks an outcome's shape. */
export function validateOutcomeDefinition(raw: unknown): {
  definition: OutcomeDefinition | undefined
  issues: ListIssue[]
} {
  const issues: ListIssue[] = []
  const fail = (path: string, message: string) =>
    issues.push({ code: 'LIST_DEFINITION_INVALID', path, message })
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    fail(
      '',
      'an outcome is an object: { name, of, related | event | when, where?, at? }',
    )
    return { definition: undefined, issues }
  }

  const value = raw as Record<string, unknown>
  if (typeof value.name !== 'string' || value.name === '')
    fail('name', 'an outcome needs a name')
  if (value.of !== 'users' && value.of !== 'accounts')
    fail('of', 'of must be users or accounts')
  const forms = ['related', 'event', 'when'].filter(
    (key) => value[key] !== undefined,
  )
  if (forms.length !== 1)
    fail('', 'an outcome has exactly one of related, event or when')
  if (value.related !== undefined && value.related !== 'crm.deals')
    fail('related', 'outcomes can follow crm.deals')
  if (value.event !== undefined && typeof value.event !== 'string')
    fail('event', 'event is a track event name')
  if (value.when !== undefined) validateCondition(value.when, 'when', issues)
  if (value.where !== undefined) validateCondition(value.where, 'where', issues)

  return {
    definition:
      issues.length === 0 ? (value as unknown as OutcomeDefinition) : undefined,
    issues,
  }
}
