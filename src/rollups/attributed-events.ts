/**
 * The track events of each account, as metrics attribute them: an event
 * belongs to its context.groupId account, else to every account its person
 * is a member of (DESIGN.md section 4). Rollups are built from this.
 */

/**
 * SQL of `(account_id, event, timestamp, properties)` for every attributed
 * track event; `filter` (over `e`, the events, and `m`, the membership or
 * NULL) narrows both halves, e.g. to some days.
 */
export function attributedEventsSql(
  filter: { events?: string; accounts?: (column: string) => string } = {},
): string {
  const eventFilter = filter.events === undefined ? '' : ` AND ${filter.events}`
  const accountFilter = (column: string) =>
    filter.accounts === undefined ? '' : ` AND ${filter.accounts(column)}`

  return `SELECT e.account_id, e.event, e.timestamp, e.properties
    FROM events e
    WHERE e.type = 'track' AND e.event IS NOT NULL
      AND e.account_id IS NOT NULL${eventFilter}${accountFilter('e.account_id')}
    UNION ALL
    SELECT m.account_id, e.event, e.timestamp, e.properties
    FROM events e JOIN memberships m ON m.user_id = e.person_id
    WHERE e.type = 'track' AND e.event IS NOT NULL
      AND e.account_id IS NULL${eventFilter}${accountFilter('m.account_id')}`
}

/** The upsert tail adding counts to `account_event_days`. */
export const addToEventDays = `ON CONFLICT (account_id, event, day) DO UPDATE SET
    events = account_event_days.events + excluded.events,
    first_at = least(account_event_days.first_at, excluded.first_at),
    last_at = greatest(account_event_days.last_at, excluded.last_at)`

/** The upsert tail adding totals to `account_event_day_sums`. */
export const addToEventDaySums = `ON CONFLICT (account_id, event, property, day)
    DO UPDATE SET total = account_event_day_sums.total + excluded.total`
