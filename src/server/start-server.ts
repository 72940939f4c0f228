/** Starts the app listening on a port. */
import { createApp } from './create-app.js'

import type { Store } from '../store/store.js'

export interface RunningServer {
  port: number
  close(): Promise<void>
}

export async function startServer(
  store: Store,
  options: { port: number; host: string },
): Promise<RunningServer> {
  const { app } = createApp(store, { logger: true })
  await app.listen({ port: options.port, host: options.host })
  const address = app.server.address()
  const port =
    typeof address === 'object' && address !== null
      ? address.port
      : options.port

  return { port, close: () => app.close() }
}
