import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { openStore } from './src/store/open-store.js'
import { normalizeBody } from './src/ingest/normalize-body.js'
import { writeMessages } from './src/ingest/write-messages.js'
const N = Number(process.env.N ?? 200000)
const store = await openStore(join(mkdtempSync('/tmp/apply-'), 'x.duckdb'))
const timing = new Map<string, { n: number; ms: number }>()
for (const method of ['query', 'execute', 'appendRows', 'stage'] as const) {
  const original = (store as any)[method].bind(store)
  ;(store as any)[method] = async (sql: string, ...rest: unknown[]) => {
    const t0 = performance.now()
    try { return await original(sql, ...rest) } finally {
      const key = `${method} ${String(sql).replace(/\s+/g, ' ').slice(0, 90)}`
      const e = timing.get(key) ?? { n: 0, ms: 0 }; e.n++; e.ms += performance.now() - t0; timing.set(key, e)
    }
  }
}
const start = Date.parse('2030-01-01T00:00:00Z')
const messages = []
for (let n = 0; n < N;) {
  const batch: unknown[] = []
  for (let i = 0; i < 100; i++, n++) {
    const user = `user_${n % 20_000}`
    const common = { messageId: `bench-${n}`, userId: user, timestamp: new Date(start + n * 1000).toISOString() }
    const kind = n % 20
    if (kind === 0) batch.push({ type: 'identify', ...common, traits: { email: `${user}@example.com`, plan: 'team' } })
    else if (kind === 1) batch.push({ type: 'group', ...common, groupId: `acct_${n % 2_000}`, traits: { name: `Account ${n % 2_000}`, employees: n % 500 } })
    else if (kind === 2) batch.push({ type: 'page', ...common, name: 'Pricing', properties: { path: '/pricing' } })
    else batch.push({ type: 'track', ...common, event: `Event ${kind}`, properties: { value: n % 97, plan: 'team', feature: `f${n % 13}` }, context: { groupId: `acct_${n % 2_000}` } })
  }
  const r = normalizeBody({ batch }, { sourceId: 'bench', receivedAt: new Date(), impliedType: null })
  if (r.ok) messages.push(...r.accepted)
}
const t0 = performance.now()
for (let i = 0; i < messages.length; i += 20000) {
  const t = performance.now()
  await writeMessages(store, messages.slice(i, i + 20000))
  if (process.env.V) console.log('batch', i / 20000, (performance.now() - t).toFixed(0), 'ms')
}
const total = performance.now() - t0
if (process.env.EXPLAIN) {
  await store.execute('BEGIN TRANSACTION')
  const rows = await store.query(`EXPLAIN ANALYZE UPDATE users SET first_seen_at = least(users.first_seen_at, s.first_seen_at), last_seen_at = greatest(users.last_seen_at, s.last_seen_at), updated_at = s.updated_at FROM temp.staged_users s WHERE users.user_id = s.user_id AND (s.first_seen_at < users.first_seen_at OR s.last_seen_at > users.last_seen_at OR users.first_seen_at IS NULL)`)
  console.log(Object.values(rows[0] as object).join('\n'))
  await store.execute('ROLLBACK')
}
console.log('total', total.toFixed(0), 'ms,', (total * 1000 / messages.length).toFixed(1), 'us/msg')
for (const [k, v] of [...timing].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) console.log(v.ms.toFixed(0).padStart(6), String(v.n).padStart(4), k)
await store.close()
