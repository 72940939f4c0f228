/**
 * `leadlens import stripe FILE...`: Stripe objects or event envelopes from
 * JSON files, applied in one transaction.
 */
import { readFile } from 'node:fs/promises'

import { ImportError } from '../csv/import-error.js'
import { applyStripeObjects } from './apply-stripe-objects.js'
import { findStripeObjects } from './read-stripe-objects.js'

import type { Store } from '../../store/store.js'
import type { StripeApplySummary } from './apply-stripe-objects.js'
import type { StripeObject } from './read-stripe-objects.js'

/** Imports every Stripe object of `files`; a file that is not JSON fails the import. */
export async function importStripe(
  store: Store,
  files: readonly string[],
): Promise<StripeApplySummary & { skipped: number }> {
  const objects: StripeObject[] = []
  const eventTimes = new Map<StripeObject, Date>()
  let skipped = 0
  for (const file of files) {
    let value: unknown
    try {
      value = JSON.parse(await readFile(file, 'utf8'))
    } catch (error) {
      throw new ImportError(
        'IMPORT_FILE_UNREADABLE',
        file,
        error instanceof Error ? error.message : String(error),
      )
    }
    const found = findStripeObjects(value)
    if (found.objects.length === 0 && found.skipped === 0) {
      throw new ImportError(
        'IMPORT_FORMAT_UNKNOWN',
        file,
        'no Stripe objects (customer, subscription, invoice, price, plan, product) found',
      )
    }
    objects.push(...found.objects)
    for (const [object, at] of found.eventTimes) eventTimes.set(object, at)
    skipped += found.skipped
  }

  return { ...(await applyStripeObjects(store, objects, eventTimes)), skipped }
}
