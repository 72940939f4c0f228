/**
 * Sources and their write keys. A key is shown once, when it is made; the
 * store keeps only its SHA-256, so a leaked store file leaks no key.
 */
import { createHash, randomBytes } from 'node:crypto'

import type { Store } from '../store/store.js'

export interface SourceSummary {
  sourceId: string
  name: string
  createdAt: string
  revokedAt: string | null
}

export class SourceError extends Error {
  readonly code:
    'SOURCE_NAME_TAKEN' | 'SOURCE_NOT_FOUND' | 'SOURCE_NAME_INVALID'

  constructor(code: SourceError['code'], message: string) {
    super(message)
    this.name = 'SourceError'
    this.code = code
  }
}

const sourceName = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/

/** Hashes a write key for storage and lookup. */
export function hashWriteKey(writeKey: string): string {
  return createHash('sha256').update(writeKey).digest('hex')
}

/** Makes a source and returns its new write key (the only time it is seen). */
export async function addSource(
  store: Store,
  name: string,
): Promise<{ sourceId: string; writeKey: string }> {
  if (!sourceName.test(name)) {
    throw new SourceError(
      'SOURCE_NAME_INVALID',
      `source name ${JSON.stringify(name)}: use letters, digits, _ . - (at most 63)`,
    )
  }
  const existing = await store.query(
    'SELECT source_id FROM sources WHERE source_id = $1',
    [name],
  )
  if (existing.length > 0) {
    throw new SourceError('SOURCE_NAME_TAKEN', `a source named ${name} exists`)
  }

  const writeKey = `ll_${randomBytes(24).toString('base64url')}`
  await store.execute('INSERT INTO sources VALUES ($1, $2, $3, $4, NULL)', [
    name,
    name,
    hashWriteKey(writeKey),
    new Date(),
  ])

  return { sourceId: name, writeKey }
}

/** Revokes a source's key: its requests get 401 from now on. */
export async function revokeSource(store: Store, name: string): Promise<void> {
  const rows = await store.query(
    'SELECT source_id FROM sources WHERE source_id = $1 AND revoked_at IS NULL',
    [name],
  )
  if (rows.length === 0) {
    throw new SourceError('SOURCE_NOT_FOUND', `no active source named ${name}`)
  }

  await store.execute(
    'UPDATE sources SET revoked_at = $2 WHERE source_id = $1',
    [name, new Date()],
  )
  keyCache.delete(store)
}

/** Every source, revoked ones included. */
export async function listSources(store: Store): Promise<SourceSummary[]> {
  const rows = await store.query<{
    source_id: string
    name: string
    created_at: string
    revoked_at: string | null
  }>(
    'SELECT source_id, name, created_at, revoked_at FROM sources ORDER BY created_at',
  )

  return rows.map((row) => ({
    sourceId: row.source_id,
    name: row.name,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  }))
}

// Every ingestion request checks its key: a few seconds of memory spare
// the store that query. A key revoked by another process stops working
// within the TTL; revoked here, at once.
const keyCacheTtlMs = 5_000
const keyCache = new WeakMap<
  Store,
  Map<string, { sourceId: string | undefined; at: number }>
>()

/** The active source a write key belongs to, if any. */
export async function findSourceByWriteKey(
  store: Store,
  writeKey: string,
): Promise<string | undefined> {
  // Keyed by the key itself (only keys of sources are kept), so a request
  // that hits the cache is spared the hash too.
  const cache = keyCache.get(store) ?? new Map()
  keyCache.set(store, cache)
  const cached = cache.get(writeKey)
  if (cached !== undefined && Date.now() - cached.at < keyCacheTtlMs)
    return cached.sourceId

  const hash = hashWriteKey(writeKey)
  const rows = await store.query<{ source_id: string }>(
    'SELECT source_id FROM sources WHERE write_key = $1 AND revoked_at IS NULL',
    [hash],
  )
  const sourceId = rows[0]?.source_id
  // Unknown keys are not remembered: a key made a moment later must work.
  if (sourceId !== undefined) cache.set(writeKey, { sourceId, at: Date.now() })
  else cache.delete(writeKey)

  return sourceId
}
