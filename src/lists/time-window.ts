/**
 * Time in definitions: durations (`30d`, `12h`, `2w`) and calendar periods
 * (`today`, `this_week`, `last_month`, `{ last_n_days: 7 }`), turned into
 * instants around an `asOf`, calendar periods in an IANA zone.
 */
import { DateTime } from 'luxon'

/** A span of time: start and end, each open or closed. */
export interface TimeWindow {
  start: Date
  startInclusive: boolean
  end: Date
  endInclusive: boolean
}

const durationPattern = /^(\d+(?:\.\d+)?)\s*(m|h|d|w)$/
const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
const maxWindowDays = 36_500
const maxWindowMs = maxWindowDays * 86_400_000

export const calendarPeriods = [
  'today',
  'yesterday',
  'this_week',
  'last_week',
  'this_month',
  'last_month',
] as const

/**
 * Milliseconds in a duration, or undefined when it is not one.
 * @example parseDuration('30d') // 2_592_000_000
 */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined
  const match = durationPattern.exec(text.trim())
  if (!match) return undefined

  const amount = Number(match[1])
  const unit = match[2] as keyof typeof unitMs
  const ms = amount * unitMs[unit]

  // Past a century a window is a typo, and past it dates stop existing.
  return amount > 0 && ms <= maxWindowMs ? ms : undefined
}

/** Whether a `within:` value is well formed (for validation). */
export function isWindowSpec(value: unknown): boolean {
  if (parseDuration(value) !== undefined) return true
  if (typeof value === 'string')
    return (calendarPeriods as readonly string[]).includes(value)
  if (value !== null && typeof value === 'object' && 'last_n_days' in value) {
    const days = (value as { last_n_days: unknown }).last_n_days
    return (
      typeof days === 'number' &&
      Number.isInteger(days) &&
      days > 0 &&
      days <= maxWindowDays
    )
  }

  return false
}

/**
 * The window a `within:` value means at `asOf`: a rolling duration is
 * `(asOf - d, asOf]`; a calendar period is `[start, end)` of local days in
 * `zone`, never past `asOf`.
 */
export function resolveWindow(
  spec: unknown,
  asOf: Date,
  zone: string,
): TimeWindow {
  const duration = parseDuration(spec)
  if (duration !== undefined) {
    return {
      start: new Date(asOf.getTime() - duration),
      startInclusive: false,
      end: asOf,
      endInclusive: true,
    }
  }

  const local = DateTime.fromJSDate(asOf, { zone })
  const today = local.startOf('day')
  const period = (start: DateTime, end: DateTime): TimeWindow => {
    const endDate = end.toJSDate() < asOf ? end.toJSDate() : asOf
    return {
      start: start.toJSDate(),
      startInclusive: true,
      end: endDate,
      endInclusive: endDate === asOf,
    }
  }

  if (spec !== null && typeof spec === 'object' && 'last_n_days' in spec) {
    // Whole local days: today and the n - 1 days before it.
    const days = Number((spec as { last_n_days: number }).last_n_days)
    return period(today.minus({ days: days - 1 }), today.plus({ days: 1 }))
  }

  switch (spec) {
    case 'today':
      return period(today, today.plus({ days: 1 }))
    case 'yesterday':
      return period(today.minus({ days: 1 }), today)
    case 'this_week':
      return period(
        local.startOf('week'),
        local.startOf('week').plus({ weeks: 1 }),
      )
    case 'last_week':
      return period(
        local.startOf('week').minus({ weeks: 1 }),
        local.startOf('week'),
      )
    case 'this_month':
      return period(
        local.startOf('month'),
        local.startOf('month').plus({ months: 1 }),
      )
    case 'last_month':
      return period(
        local.startOf('month').minus({ months: 1 }),
        local.startOf('month'),
      )
  }

  throw new Error(`not a time window: ${JSON.stringify(spec)}`)
}
