/**
 * Workspace settings kept in the store: the IANA time zone for calendar
 * periods (default UTC) and whether email domains create memberships.
 */
import type { Store } from './store.js'

export interface WorkspaceSettings {
  timezone: string
  matchAccountsByEmailDomain: boolean
  /** Stripe's webhook signing secret (whsec_...); never printed. */
  stripeWebhookSecret: string | undefined
}

export const defaultSettings: WorkspaceSettings = {
  timezone: 'UTC',
  matchAccountsByEmailDomain: false,
  stripeWebhookSecret: undefined,
}

// Read on every ingestion write; a short cache saves that query. Another
// process sharing a server store sees a change within the TTL.
const cacheTtlMs = 5_000
const cache = new WeakMap<
  Store,
  { settings: WorkspaceSettings; readAt: number }
>()

/** Reads the settings, defaults for those never set (cached a few seconds). */
export async function readWorkspaceSettings(
  store: Store,
): Promise<WorkspaceSettings> {
  const cached = cache.get(store)
  if (cached !== undefined && Date.now() - cached.readAt < cacheTtlMs) {
    return cached.settings
  }

  const settings = await querySettings(store)
  cache.set(store, { settings, readAt: Date.now() })

  return settings
}

async function querySettings(store: Store): Promise<WorkspaceSettings> {
  const rows = await store.query<{ key: string; value: string }>(
    'SELECT key, value FROM settings',
  )
  const stored = new Map(rows.map((row) => [row.key, row.value]))

  return {
    timezone: stored.get('timezone') ?? defaultSettings.timezone,
    matchAccountsByEmailDomain:
      stored.get('match_accounts_by_email_domain') === 'true',
    stripeWebhookSecret: stored.get('stripe_webhook_secret'),
  }
}

export const settingKeys = [
  'timezone',
  'match_accounts_by_email_domain',
  'stripe_webhook_secret',
] as const

export type SettingKey = (typeof settingKeys)[number]

/** Sets one setting. */
export async function writeWorkspaceSetting(
  store: Store,
  key: SettingKey,
  value: string,
): Promise<void> {
  await store.execute(
    'INSERT INTO settings VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    [key, value],
  )
  cache.delete(store)
}
