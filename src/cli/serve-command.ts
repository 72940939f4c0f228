/** `leadlens serve`: ingestion, API and (later) the web app on one port. */
import { addSource, listSources } from '../ingest/sources.js'
import { startServer } from '../server/start-server.js'
import { parsePort } from './parse-options.js'

import type { Command } from 'commander'
import type { Store } from '../store/store.js'
import type { CliContext } from './cli-context.js'

export function registerServeCommand(program: Command, context: CliContext) {
  program
    .command('serve')
    .description('serve ingestion (/v1/*) and the API (/api/*)')
    .option('--port <port>', 'port to listen on', '4000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async function runServe(options: { port: string; host: string }) {
      const port = parsePort(options.port)
      const store = await context.openStore()
      // The server first: when it cannot start (its ingestion journal is
      // refused, the port is taken), no source is made whose key nobody saw.
      const server = await startServer(store, {
        port,
        host: options.host,
      })
      // Listening for a stop before the banner: whoever reads the banner
      // may stop the server at once.
      let stop = () => {}
      const stopped = new Promise<void>((resolve) => (stop = resolve))
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)

      let firstKey: string | undefined
      try {
        firstKey = await makeFirstSource(store)
      } catch (error) {
        // Say, two servers starting at once on one new PostgreSQL store,
        // both making `default`: this one stops instead of serving on.
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        await server.close()
        throw error
      }

      context.err(
        [
          `Leadlens is serving http://${options.host === '0.0.0.0' ? 'localhost' : options.host}:${server.port}`,
          `  store      ${store.location}`,
          `  ingestion  POST /v1/track, /v1/identify, /v1/group, /v1/batch ... (Segment's API)`,
          `  API        /api/* with a bearer token (leadlens people add EMAIL --role admin); /api/openapi.json`,
          firstKey === undefined
            ? '  write keys `leadlens sources add NAME` (with the server stopped)'
            : `  write key  ${firstKey}  (source "default", shown only once)`,
          'Load data: point a Segment or RudderStack source at this address with',
          '           the write key, or stop the server and run',
          '           leadlens import events FILE.ndjson[.gz]   (or leadlens demo)',
        ].join('\n'),
      )

      await stopped
      await server.close()
    })
}

/** The write key of a new `default` source when no source is active. */
async function makeFirstSource(store: Store): Promise<string | undefined> {
  const sources = await listSources(store)
  if (sources.some((source) => source.revokedAt === null)) return undefined

  return (await addSource(store, nextDefaultName(sources))).writeKey
}

function nextDefaultName(sources: { name: string }[]): string {
  const names = new Set(sources.map((source) => source.name))
  let name = 'default'
  for (let n = 2; names.has(name); n++) name = `default-${n}`

  return name
}
