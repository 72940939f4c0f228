/**
 * The real `leadlens` command for end-to-end tests: one-shot runs, and
 * `serve` as a child process on a free port of 127.0.0.1.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { expect } from 'vitest'

import type { ChildProcess } from 'node:child_process'

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Throws unless the CLI has been built (npm test builds first). */
export function assertBuilt(): void {
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
    throw new Error(
      'dist/ is missing: build first (npx tsc -p tsconfig.build.json)',
    )
  }
}

/** Runs `node bin/leadlens.js ...args` from the repository root. */
export function runCli(
  args: readonly string[],
  timeout = 120_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['bin/leadlens.js', ...args],
      { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, timeout },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(error)
          return
        }

        resolve({
          code: error === null ? 0 : Number(error.code),
          stdout,
          stderr,
        })
      },
    )
  })
}

export interface RunningServe {
  child: ChildProcess
  port: number
  stderr(): string
}

const children = new Set<ChildProcess>()

/** Resolves with the exit code (or signal name) of `child`, at most after `ms`. */
export function waitForExit(
  child: ChildProcess,
  ms: number,
): Promise<number | string | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  if (child.signalCode !== null) return Promise.resolve(child.signalCode)

  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve(code ?? signal)
    })
  })
}

/** Starts `leadlens serve --port 0` on `db`, logging to `log`, and waits for its banner. */
export async function startServe(
  db: string,
  log: string,
): Promise<RunningServe> {
  const logFile = await open(log, 'a')
  const child = spawn(
    process.execPath,
    [
      'bin/leadlens.js',
      '--db',
      db,
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
    ],
    { cwd: repoRoot, stdio: ['ignore', logFile.fd, 'pipe'] },
  )
  children.add(child)
  child.once('exit', () => {
    children.delete(child)
    void logFile.close()
  })

  let stderr = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`serve printed no banner in 30 s:\n${stderr}`))
    }, 30_000)
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk
      const match = /^Leadlens is serving http:\/\/127\.0\.0\.1:(\d+)$/m.exec(
        stderr,
      )
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${code ?? signal}) early:\n${stderr}`))
    })
  })

  return { child, port, stderr: () => stderr }
}

/** Stops `serve` with SIGTERM and expects a clean exit. */
export async function stopServe(serve: RunningServe): Promise<void> {
  serve.child.kill('SIGTERM')
  const exit = await waitForExit(serve.child, 30_000)
  if (exit === null) serve.child.kill('SIGKILL')
  expect(exit, serve.stderr()).toBe(0)
}

/** Kills every server still running (for afterAll, even after a failure). */
export async function killAllServes(): Promise<void> {
  for (const child of children) child.kill('SIGKILL')
  await Promise.all([...children].map((child) => waitForExit(child, 10_000)))
}

export type ListRow = Record<string, unknown>

/** What `leadlens list run --format json` prints. */
export interface ListJson {
  rows: ListRow[]
  total: number
}

/** Runs `list run DEFINITION --as-of AS_OF --format json` on `db`. */
export async function runListJson(
  db: string,
  definition: string,
  asOf: string,
): Promise<ListJson> {
  const result = await runCli([
    '--db',
    db,
    'list',
    'run',
    definition,
    '--as-of',
    asOf,
    '--format',
    'json',
  ])
  expect(result.code, result.stderr).toBe(0)

  return JSON.parse(result.stdout) as ListJson
}
