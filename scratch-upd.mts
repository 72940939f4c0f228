import { DuckDBInstance } from '@duckdb/node-api'
import { rmSync } from 'node:fs'
rmSync('/tmp/upd.duckdb', { force: true }); rmSync('/tmp/upd.duckdb.wal', { force: true })
const inst = await DuckDBInstance.create('/tmp/upd.duckdb')
const c = await inst.connect()
const U = Number(process.env.U ?? 20000)
await c.run(`CREATE TABLE users (user_id VARCHAR PRIMARY KEY, is_anonymous BOOLEAN NOT NULL, email VARCHAR, created_at TIMESTAMPTZ, first_seen_at TIMESTAMPTZ, last_seen_at TIMESTAMPTZ, traits JSON NOT NULL DEFAULT '{}', updated_at TIMESTAMPTZ)`)
await c.run(`INSERT INTO users SELECT 'user_' || i, false, 'u' || i || '@x.com', NULL, TIMESTAMPTZ '2030-01-01', TIMESTAMPTZ '2030-01-01', '{"plan":"team","email":"u@x.com"}', now() FROM range(${U}) t(i)`)
const time = async (label: string, sql: string) => {
  await c.run(`CREATE OR REPLACE TEMP TABLE s AS SELECT 'user_' || i AS user_id, false AS is_anonymous, NULL::VARCHAR AS email, NULL::TIMESTAMPTZ AS created_at, TIMESTAMPTZ '2030-01-01' + INTERVAL (${Math.floor(Math.random()*1000)}) MINUTE AS first_seen_at, TIMESTAMPTZ '2030-02-01' + INTERVAL (${Math.floor(Math.random()*100000)}) SECOND AS last_seen_at, '{}'::JSON AS traits, now() AS updated_at FROM range(${U}) t(i)`)
  await c.run('BEGIN')
  const t0 = performance.now(); await c.run(sql); const t1 = performance.now(); await c.run('COMMIT'); const t2 = performance.now()
  console.log(label.padEnd(30), (t1 - t0).toFixed(0), 'ms + commit', (t2 - t1).toFixed(0))
}
for (let i = 0; i < 2; i++) {
await time('update with OR where', `UPDATE users SET first_seen_at = least(users.first_seen_at, s.first_seen_at), last_seen_at = greatest(users.last_seen_at, s.last_seen_at), updated_at = s.updated_at FROM s WHERE users.user_id = s.user_id AND (s.first_seen_at < users.first_seen_at OR s.last_seen_at > users.last_seen_at OR users.first_seen_at IS NULL)`)
await time('update no where', `UPDATE users SET first_seen_at = least(users.first_seen_at, s.first_seen_at), last_seen_at = greatest(users.last_seen_at, s.last_seen_at), updated_at = s.updated_at FROM s WHERE users.user_id = s.user_id`)
await time('update only last_seen', `UPDATE users SET last_seen_at = greatest(users.last_seen_at, s.last_seen_at) FROM s WHERE users.user_id = s.user_id`)
await time('upsert on conflict', `INSERT INTO users SELECT * FROM s ON CONFLICT (user_id) DO UPDATE SET first_seen_at = least(users.first_seen_at, excluded.first_seen_at), last_seen_at = greatest(users.last_seen_at, excluded.last_seen_at), updated_at = excluded.updated_at`)
}
console.log('repeated:')
for (let i = 0; i < 8; i++) await time('update with OR where #' + i, `UPDATE users SET first_seen_at = least(users.first_seen_at, s.first_seen_at), last_seen_at = greatest(users.last_seen_at, s.last_seen_at), updated_at = s.updated_at FROM s WHERE users.user_id = s.user_id AND (s.first_seen_at < users.first_seen_at OR s.last_seen_at > users.last_seen_at OR users.first_seen_at IS NULL)`)
