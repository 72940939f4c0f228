/** `leadlens serve`: ingestion, API and (later) the web app on one port. */
import { startServer } from '../server/start-server.js'

import type { Command } from 'commander'
import type { CliContext } from './main.js'

export function registerServeCommand(program: Command, context: CliContext) {
  program
    .command('serve')
    .description('serve ingestion (/v1/*) and the API (/api/*)')
    .option('--port <port>', 'port to listen on', '4000')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async function runServe(options: { port: string; host: string }) {
      const store = await context.openStore()
      const server = await startServer(store, {
        port: Number(options.port),
        host: options.host,
      })

      context.err(
        [
          `Leadlens is serving http://${options.host === '0.0.0.0' ? 'localhost' : options.host}:${server.port}`,
          `  store      ${store.location}`,
          `  ingestion  POST /v1/track, /v1/identify, /v1/group, /v1/batch ... (Segment's API)`,
          `  API        GET /api/stats, POST /api/lists/preview`,
          'Load data: leadlens import events FILE.ndjson[.gz] (stop the server first: it holds the store),',
          '           or point a Segment/RudderStack source at this address.',
        ].join('\n'),
      )

      await new Promise<void>((resolve) => {
        const stop = () => resolve()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
      await server.close()
    })
}
