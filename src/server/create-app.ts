/**
 * The Fastify app: ingestion under /v1, the API under /api. Built without
 * listening, so tests call it in-process with `app.inject`.
 */
import Fastify from 'fastify'

import { IngestQueue } from '../ingest/ingest-queue.js'
import { ScoreRefresher } from '../scores/refresh-scores.js'
import { registerApiRoutes } from './api-routes.js'
import { authenticateWriteKey } from './authenticate-write-key.js'
import { registerIngestRoutes } from './ingest-routes.js'
import { registerStripeWebhookRoute } from './stripe-webhook-route.js'

import type { FastifyInstance } from 'fastify'
import type { Store } from '../store/store.js'

export interface AppOptions {
  logger?: boolean
  /** Debounce of score recomputation after ingestion (ms). */
  scoreDebounceMs?: number
}

export interface LeadlensApp {
  app: FastifyInstance
  queue: IngestQueue
  scores: ScoreRefresher
}

/** Builds the app over `store`. */
export function createApp(store: Store, options: AppOptions = {}): LeadlensApp {
  const app = Fastify({
    logger: options.logger ?? false,
    // Compressed bodies are checked again after decompression (500 KB).
    bodyLimit: 4 * 1024 * 1024,
  })
  const scores = new ScoreRefresher(store, {
    logger: app.log,
    ...(options.scoreDebounceMs === undefined
      ? {}
      : { debounceMs: options.scoreDebounceMs }),
  })
  const queue = new IngestQueue(store, {
    onCommit: () => scores.trigger('ingest'),
  })

  // Every content type is read raw: clients send JSON under several.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer' },
    function keepRaw(_request, body, done) {
      done(null, body)
    },
  )

  registerIngestRoutes(app, {
    queue,
    authenticate: authenticateWriteKey(store),
  })
  registerApiRoutes(app, store, scores)
  registerStripeWebhookRoute(app, store, scores)
  app.addHook('onClose', async function drainQueue() {
    await queue.drain()
    scores.stop()
    await scores.settle()
  })

  return { app, queue, scores }
}
