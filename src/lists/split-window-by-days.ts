/**
 * Splits a metric's time range into whole UTC days, which rollups answer,
 * and the partial days at its edges, which raw events answer. It works on
 * instants, so a window computed in any time zone splits exactly.
 */
import type { TimeWindow } from './time-window.js'

const dayMs = 86_400_000

/** Whole UTC days `[from, to)` inside a range; `from` absent means no start. */
export interface WholeDays {
  from?: Date
  to: Date
}

/**
 * The whole UTC days inside `window` (all time when undefined) and at or
 * before `asOf`, or undefined when there is none.
 * @example
 * splitWindowByUtcDays(undefined, new Date('2030-01-02T05:00:00Z'))
 * // { to: 2030-01-02T00:00:00Z }
 */
export function splitWindowByUtcDays(
  window: TimeWindow | undefined,
  asOf: Date,
): WholeDays | undefined {
  const end =
    window === undefined || window.end.getTime() > asOf.getTime()
      ? asOf.getTime()
      : window.end.getTime()
  // Days ending at or before the end: an inclusive end adds nothing whole.
  const to = Math.floor(end / dayMs) * dayMs
  if (window === undefined) return { to: new Date(to) }

  const start = window.start.getTime()
  const from = window.startInclusive
    ? Math.ceil(start / dayMs) * dayMs
    : Math.floor(start / dayMs) * dayMs + dayMs
  if (from >= to) return undefined

  return { from: new Date(from), to: new Date(to) }
}
