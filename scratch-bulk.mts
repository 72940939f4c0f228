import { DuckDBInstance, VARCHAR } from '@duckdb/node-api'
import { rmSync } from 'node:fs'
rmSync('/tmp/bulk.duckdb', { force: true }); rmSync('/tmp/bulk.duckdb.wal', { force: true })
const inst = await DuckDBInstance.create('/tmp/bulk.duckdb')
const c = await inst.connect()
await c.run(`CREATE TABLE events (source_id VARCHAR NOT NULL, message_id VARCHAR NOT NULL, type VARCHAR NOT NULL, event VARCHAR, person_id VARCHAR, user_id VARCHAR, anonymous_id VARCHAR, account_id VARCHAR, timestamp TIMESTAMPTZ NOT NULL, original_timestamp VARCHAR, sent_at TIMESTAMPTZ, received_at TIMESTAMPTZ NOT NULL, properties JSON NOT NULL DEFAULT '{}', context JSON NOT NULL DEFAULT '{}')`)
const N = 20000; let k = 0
const rows = () => Array.from({ length: N }, () => { const n = k++; return { s: 'bench', m: `bench-${n}`, t: 'track', e: `Event ${n % 20}`, p: `user_${n % 20000}`, u: `user_${n % 20000}`, a: null, acc: `acct_${n % 2000}`, ts: 1.9e15 + n * 1e6, ot: '2030-01-01T00:00:00.000Z', sa: Date.now() * 1000, ra: Date.now() * 1000, props: { value: n % 97, plan: 'team', feature: `f${n % 13}` }, ctx: { groupId: `acct_${n % 2000}` } } })
const col = (r: any[], f: string) => JSON.stringify(r.map((x) => x[f]))
for (let round = 0; round < 3; round++) {
  for (const variant of ['strings', 'json', 'rowjson']) {
    const r = rows()
    const t0 = performance.now()
    let sql: string, params: string[]
    const base = ['s','m','t','e','p','u','a','acc','ot']
    if (variant === 'rowjson') {
      params = [JSON.stringify(r)]
      sql = `INSERT INTO events SELECT x.s, x.m, x.t, x.e, x.p, x.u, x.a, x.acc, make_timestamptz(x.ts), x.ot, make_timestamptz(x.sa), make_timestamptz(x.ra), x.props, x.ctx FROM (SELECT unnest(from_json($1, '[{"s":"VARCHAR","m":"VARCHAR","t":"VARCHAR","e":"VARCHAR","p":"VARCHAR","u":"VARCHAR","a":"VARCHAR","acc":"VARCHAR","ts":"BIGINT","ot":"VARCHAR","sa":"BIGINT","ra":"BIGINT","props":"JSON","ctx":"JSON"}]')) AS x)`
    } else {
      params = [...base.map((f) => col(r, f)), col(r, 'ts'), col(r, 'sa'), col(r, 'ra')]
      const json = variant === 'json'
      params.push(json ? JSON.stringify(r.map((x) => x.props)) : JSON.stringify(r.map((x) => JSON.stringify(x.props))))
      params.push(json ? JSON.stringify(r.map((x) => x.ctx)) : JSON.stringify(r.map((x) => JSON.stringify(x.ctx))))
      const u = (i: number, t: string) => `unnest(from_json($${i}, '["${t}"]'))`
      const jt = json ? 'JSON' : 'VARCHAR'
      sql = `INSERT INTO events SELECT ${base.slice(0, 8).map((_, i) => u(i + 1, 'VARCHAR')).join(', ')}, make_timestamptz(${u(10, 'BIGINT')}), ${u(9, 'VARCHAR')}, make_timestamptz(${u(11, 'BIGINT')}), make_timestamptz(${u(12, 'BIGINT')}), ${u(13, jt)}, ${u(14, jt)}`
    }
    const t1 = performance.now()
    await c.run(sql, params, params.map(() => VARCHAR))
    console.log(variant.padEnd(8), (t1 - t0).toFixed(0), '+', (performance.now() - t1).toFixed(0), 'ms')
  }
}
console.log((await (await c.runAndReadAll(`select count(*), count(distinct properties->>'plan') from events`)).getRows()))
