/**
 * Stripe's webhook: `POST /v1/stripe`, the `Stripe-Signature` header
 * checked with the `stripe` library against the workspace's signing secret
 * (`leadlens settings stripe_webhook_secret whsec_...`), then the event's
 * object stored like an import.
 */
import Stripe from 'stripe'

import { applyStripeObjects } from '../connectors/stripe/apply-stripe-objects.js'
import { findStripeObjects } from '../connectors/stripe/read-stripe-objects.js'
import { readWorkspaceSettings } from '../store/workspace-settings.js'

import type { FastifyInstance } from 'fastify'
import type { ScoreRefresher } from '../scores/refresh-scores.js'
import type { Store } from '../store/store.js'

// Signature checks need no API key and make no request.
const stripe = new Stripe('sk_unused_for_webhook_signatures')

export function registerStripeWebhookRoute(
  app: FastifyInstance,
  store: Store,
  refresher: ScoreRefresher,
): void {
  app.post('/v1/stripe', async function receiveStripeEvent(request, reply) {
    const { stripeWebhookSecret } = await readWorkspaceSettings(store)
    if (stripeWebhookSecret === undefined) {
      return reply.code(503).send({
        code: 'STRIPE_WEBHOOK_NOT_CONFIGURED',
        message:
          'set the signing secret: leadlens settings stripe_webhook_secret whsec_...',
      })
    }

    const signature = request.headers['stripe-signature']
    let event: { id: string; type: string }
    try {
      event = stripe.webhooks.constructEvent(
        request.body as Buffer,
        typeof signature === 'string' ? signature : '',
        stripeWebhookSecret,
      )
    } catch {
      // Stripe retries non-2xx answers; a bad signature never becomes good.
      return reply.code(400).send({
        code: 'STRIPE_SIGNATURE_INVALID',
        message:
          'the Stripe-Signature header does not match this body and secret',
      })
    }

    const { objects, eventTimes } = findStripeObjects(event)
    const summary = await applyStripeObjects(store, objects, eventTimes)
    if (objects.length > 0) refresher.trigger('ingest')
    request.log.info(
      { eventId: event.id, type: event.type, ...summary },
      'stripe event stored',
    )

    return { received: true, stored: objects.length }
  })
}
