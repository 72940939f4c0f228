/**
 * The Fastify app: ingestion under /v1, the API under /api. Built without
 * listening, so tests call it in-process with `app.inject`.
 */
import Fastify from 'fastify'

import { IngestInbox } from '../ingest/ingest-inbox.js'
import { ScoreRefresher } from '../scores/refresh-scores.js'
import { registerApiRoutes } from './api-routes.js'
import { authenticateWriteKey } from './authenticate-write-key.js'
import { BodyChecker } from './body-checker.js'
import { registerIngestRoutes } from './ingest-routes.js'
import { registerStripeWebhookRoute } from './stripe-webhook-route.js'

import type { FastifyInstance } from 'fastify'
import type { IngestInboxOptions } from '../ingest/ingest-inbox.js'
import type { BodyCheckerOptions } from './body-checker.js'
import type { Store } from '../store/store.js'

export interface AppOptions {
  logger?: boolean
  /** Debounce of score recomputation after ingestion (ms). */
  scoreDebounceMs?: number
  /** Ingestion inbox settings (backlog limit, apply sizes). */
  inbox?: IngestInboxOptions
  /** Where ingestion bodies are checked (worker threads). */
  bodies?: BodyCheckerOptions
}

export interface LeadlensApp {
  app: FastifyInstance
  inbox: IngestInbox
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
  const inbox = new IngestInbox(store, {
    ...options.inbox,
    onApplied: () => scores.trigger('ingest'),
    log: app.log,
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

  const bodies = new BodyChecker({ log: app.log, ...options.bodies })
  registerIngestRoutes(app, {
    inbox,
    bodies,
    authenticate: authenticateWriteKey(store),
  })
  registerApiRoutes(app, store, scores, inbox)
  registerStripeWebhookRoute(app, store, scores)
  app.addHook('onReady', async function startInbox() {
    await inbox.start()
  })
  app.addHook('onClose', async function stopInbox() {
    await bodies.close()
    await inbox.stop()
    scores.stop()
    await scores.settle()
  })

  return { app, inbox, scores }
}
