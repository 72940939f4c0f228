import { DuckDBInstance, DuckDBDataChunk, VARCHAR, TIMESTAMPTZ, DuckDBTimestampTZValue, JSONType } from '@duckdb/node-api'
import { rmSync } from 'node:fs'
import { bulkInsert } from './src/store/duckdb/duckdb-bulk-insert.js'
rmSync('/tmp/app.duckdb', { force: true }); rmSync('/tmp/app.duckdb.wal', { force: true })
const inst = await DuckDBInstance.create('/tmp/app.duckdb')
const c = await inst.connect()
await c.run(`CREATE TABLE events (source_id VARCHAR NOT NULL, message_id VARCHAR NOT NULL, type VARCHAR NOT NULL, event VARCHAR, person_id VARCHAR, user_id VARCHAR, anonymous_id VARCHAR, account_id VARCHAR, timestamp TIMESTAMPTZ NOT NULL, original_timestamp VARCHAR, sent_at TIMESTAMPTZ, received_at TIMESTAMPTZ NOT NULL, properties JSON NOT NULL DEFAULT '{}', context JSON NOT NULL DEFAULT '{}')`)
const cols = ['source_id','message_id','type','event','person_id','user_id','anonymous_id','account_id','timestamp','original_timestamp','sent_at','received_at','properties','context']
const N = 20000
let k = 0
const makeRows = () => Array.from({ length: N }, (_, i) => { const n = k++; return ['bench', `bench-${n}`, 'track', `Event ${n % 20}`, `user_${n % 20000}`, `user_${n % 20000}`, null, `acct_${n % 2000}`, new Date(1.9e12 + n * 1000), '2030-01-01T00:00:00.000Z', new Date(), new Date(), JSON.stringify({ value: n % 97, plan: 'team', feature: `f${n % 13}` }), JSON.stringify({ groupId: `acct_${n % 2000}` })] })
for (let round = 0; round < 3; round++) {
  let rows = makeRows()
  let t0 = performance.now()
  const ins = bulkInsert('events', cols, rows as any)
  const t1 = performance.now()
  await c.run(ins.sql, ins.params, ins.params.map(() => VARCHAR))
  console.log('bulkInsert json arrays', (t1 - t0).toFixed(0), '+', (performance.now() - t1).toFixed(0), 'ms')
  rows = makeRows()
  t0 = performance.now()
  const appender = await c.createAppender('events')
  const types = [VARCHAR,VARCHAR,VARCHAR,VARCHAR,VARCHAR,VARCHAR,VARCHAR,VARCHAR,TIMESTAMPTZ,VARCHAR,TIMESTAMPTZ,TIMESTAMPTZ,VARCHAR,VARCHAR]
  for (let at = 0; at < rows.length; at += 2048) {
    const part = rows.slice(at, at + 2048)
    const chunk = DuckDBDataChunk.create(types, part.length)
    for (let col = 0; col < types.length; col++) {
      const values = part.map((r) => { const v = r[col]; if (v instanceof Date) return new DuckDBTimestampTZValue(BigInt(v.getTime()) * 1000n); return v as any })
      chunk.setColumnValues(col, values)
    }
    appender.appendDataChunk(chunk)
  }
  appender.flushSync(); appender.closeSync()
  console.log('appender data chunks', (performance.now() - t0).toFixed(0), 'ms')
}
console.log((await (await c.runAndReadAll('select count(*) from events')).getRows()))
