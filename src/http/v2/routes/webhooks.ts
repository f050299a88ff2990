import { z } from 'zod';
import type { AppContext } from '../../../app/context.js';
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks, type Webhook } from '../../../app/events/webhooks.js';
import type { Api } from '../../api.js';
import { onlyAdmins } from '../../auth.js';
import { IdSchema } from '../../schemas/common.js';
import { decodeCursor, decodeSeqCursor, encodeSeqCursor, fingerprint, pageOf } from '../cursors.js';
import { pageQuery } from '../query.js';
import { errorResponses } from '../schemas.js';
import {
  CreatedWebhookEndpointSchema,
  WebhookDeliveryPageSchema,
  WebhookDeliveryQuery,
  WebhookEndpointCreateBody,
  WebhookEndpointPageSchema,
} from '../webhook-schemas.js';

/**
 * v2 webhook endpoints, our extension (tag "Webhooks" in /openapi/v2.json): the same store and use cases as v1's
 * webhooks, endpoints of payload version 2, whose deliveries are v2's event envelope signed in X-Inbox-Signature.
 */
const tags = ['Webhooks'];
const EXTENSION = "An extension of this server, not an operation of the vendor's Inbox API v2.";
/** Where the team's data goes: owners and admins only, as in v1 (403 `forbidden`). */
const preHandler = onlyAdmins('webhooks');
const params = z.object({ webhookId: IdSchema });

/** "*" (every type, those added later too) is shown as null. */
const typesOf = (webhook: Webhook) => (webhook.eventTypes.includes('*') ? null : webhook.eventTypes);

const v2Webhook = (webhook: Webhook) => ({
  id: webhook.id,
  url: webhook.url,
  types: typesOf(webhook),
  enabled: webhook.enabled,
  failingSince: webhook.failingSince,
  disabledReason: webhook.disabledReason,
  createdAt: webhook.createdAt,
});

export function webhooksV2Routes(api: Api, ctx: AppContext): void {
  api.post(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'Subscribe an endpoint to v2 events (its secret is shown only in this answer)',
        description: `${EXTENSION} Deliveries are the v2 event envelope (as GET /events shows it), signed in X-Inbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{raw body}"> keyed with the secret.`,
        body: WebhookEndpointCreateBody,
        response: { 201: CreatedWebhookEndpointSchema, ...errorResponses },
      },
      preHandler,
    },
    async (req, reply) => {
      const created = await createWebhook(ctx, req.actor.teamId, { url: req.body.url, eventTypes: req.body.types ?? ['*'], payloadVersion: '2' });
      return reply.code(201).send({ id: created.id, url: created.url, types: typesOf(created), secret: created.secret, createdAt: created.createdAt });
    },
  );

  const ListQuery = z.object({ ...pageQuery }).strict();
  api.get(
    '/webhooks',
    { schema: { tags, summary: 'The v2 webhook endpoints, oldest first', description: EXTENSION, querystring: ListQuery, response: { 200: WebhookEndpointPageSchema, ...errorResponses } }, preHandler },
    async (req) => {
      const scope = fingerprint(req.actor.teamId, 'webhooks', {});
      const after = req.query.cursor === undefined ? undefined : decodeCursor(req.query.cursor, scope);
      const byCreation = (webhook: Webhook) => ({ at: new Date(webhook.createdAt), id: webhook.id });
      const { page, nextCursor } = pageOf(await listWebhooks(ctx, req.actor.teamId, '2'), byCreation, req.query.limit, after, scope);
      return { data: page.map(v2Webhook), nextCursor };
    },
  );

  api.delete(
    '/webhooks/:webhookId',
    { schema: { tags, summary: 'Delete a v2 webhook endpoint and its delivery history', description: EXTENSION, params, response: { 204: z.null().describe('Deleted'), ...errorResponses } }, preHandler },
    async (req, reply) => {
      await deleteWebhook(ctx, req.actor.teamId, req.params.webhookId, '2');
      return reply.code(204).send(null);
    },
  );

  api.get(
    '/webhooks/:webhookId/deliveries',
    {
      schema: {
        tags,
        summary: "An endpoint's deliveries, newest event first",
        description: EXTENSION,
        params,
        querystring: WebhookDeliveryQuery,
        response: { 200: WebhookDeliveryPageSchema, ...errorResponses },
      },
      preHandler,
    },
    async (req) => {
      const { status, limit, cursor } = req.query;
      const scope = fingerprint(req.actor.teamId, `webhooks/${req.params.webhookId}/deliveries`, { status });
      const beforeSeq = cursor === undefined ? undefined : decodeSeqCursor(cursor, scope);
      const page = await listDeliveries(ctx, req.actor.teamId, req.params.webhookId, { beforeSeq, status, limit }, '2');
      return { data: page.deliveries, nextCursor: page.hasMore && page.lastSeq !== null ? encodeSeqCursor(page.lastSeq, scope) : null };
    },
  );
}
