/**
 * Finds Stripe objects in what users have: one object a file, an array,
 * an object keyed by type (Stripe's fixtures), a list (`{ data: [...] }`),
 * or event envelopes (`{ object: 'event', data: { object } }`).
 */
export type StripeObject = Record<string, unknown> & {
  object: string
  id: string
}

const kinds = new Set([
  'customer',
  'subscription',
  'invoice',
  'price',
  'plan',
  'product',
])

/** Every importable Stripe object in a parsed JSON document, in order. */
export function findStripeObjects(value: unknown): {
  objects: StripeObject[]
  skipped: number
  /** When the event that carried an object was emitted, where known. */
  eventTimes: Map<StripeObject, Date>
} {
  const objects: StripeObject[] = []
  const eventTimes = new Map<StripeObject, Date>()
  let skipped = 0
  let eventTime: Date | undefined

  const visit = (item: unknown, depth: number): void => {
    if (depth > 3 || item === null || typeof item !== 'object') return
    if (Array.isArray(item)) {
      for (const element of item) visit(element, depth + 1)
      return
    }

    const record = item as Record<string, unknown>
    if (record.object === 'event') {
      const data = record.data as { object?: unknown } | undefined
      eventTime =
        typeof record.created === 'number' &&
        record.created > 0 &&
        record.created < 1e11
          ? new Date(record.created * 1000)
          : undefined
      visit(data?.object, depth + 1)
      eventTime = undefined
      return
    }
    if (record.object === 'list' && Array.isArray(record.data)) {
      visit(record.data, depth + 1)
      return
    }
    if (typeof record.object === 'string' && typeof record.id === 'string') {
      if (kinds.has(record.object)) {
        objects.push(record as StripeObject)
        if (eventTime !== undefined)
          eventTimes.set(record as StripeObject, eventTime)
      } else skipped++
      return
    }
    // An object keyed by type, as Stripe's own fixtures are.
    for (const inner of Object.values(record)) visit(inner, depth + 1)
  }
  visit(value, 0)

  return { objects, skipped, eventTimes }
}
