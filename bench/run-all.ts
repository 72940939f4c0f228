/**
 * `npm run bench`: every benchmark, one after the other, each in a process
 * of its own (so memory figures are its own) with the same arguments:
 *   npm run bench -- [--quick] ...
 * Exits non-zero only when a benchmark crashed; the others still run.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const benchmarks = ['ingest-http.ts', 'lists-and-scores.ts']
const crashed: string[] = []

for (const file of benchmarks) {
  const path = fileURLToPath(new URL(file, import.meta.url))
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', path, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  )
  if (result.status !== 0) {
    crashed.push(`${file} (${result.signal ?? `exit ${result.status}`})`)
  }
  console.log('')
}

if (crashed.length > 0) {
  console.error(`crashed: ${crashed.join(', ')}`)
  process.exitCode = 1
}
