import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, updateWebhook } from '../../app/events/webhooks.js';
import type { Api } from '../api.js';
import { onlyAdmins } from '../auth.js';
import { EmptyBody, errorResponses, IdSchema } from '../schemas/common.js';
import {
  CreatedWebhookSchema,
  CreateWebhookBody,
  DeliveryPageSchema,
  DeliveryQuery,
  UpdateWebhookBody,
  WebhookSchema,
} from '../schemas/webhooks.js';

const tags = ['Webhooks'];
const params = z.object({ webhookId: IdSchema });
const response = { 200: WebhookSchema, ...errorResponses };
/** A webhook's URL and deliveries say where the team's data goes: owners and admins only. */
const preHandler = onlyAdmins('webhooks');

export function webhookRoutes(api: Api, ctx: AppContext): void {
  api.get('/webhooks', { schema: { tags, summary: 'List webhooks', response: { 200: z.array(WebhookSchema), ...errorResponses } }, preHandler }, async (req) =>
    listWebhooks(ctx, req.actor.teamId),
  );
  api.post(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'Create a webhook (its signing secret is shown only in this response)',
        body: CreateWebhookBody,
        response: { 200: CreatedWebhookSchema, ...errorResponses },
      },
      preHandler,
    },
    async (req) => createWebhook(ctx, req.actor.teamId, req.body),
  );
  api.get('/webhooks/:webhookId', { schema: { tags, summary: 'Get a webhook', params, response }, preHandler }, async (req) =>
    getWebhook(ctx, req.actor.teamId, req.params.webhookId),
  );
  api.patch('/webhooks/:webhookId', { schema: { tags, summary: 'Update a webhook', params, body: UpdateWebhookBody, response }, preHandler }, async (req) =>
    updateWebhook(ctx, req.actor.teamId, req.params.webhookId, req.body),
  );
  api.delete(
    '/webhooks/:webhookId',
    { schema: { tags, summary: 'Delete a webhook and its delivery history', params, body: EmptyBody }, preHandler },
    async (req, reply) => {
      await deleteWebhook(ctx, req.actor.teamId, req.params.webhookId);
      return reply.code(200).send();
    },
  );
  api.get(
    '/webhooks/:webhookId/deliveries',
    {
      schema: {
        tags,
        summary: "A webhook's deliveries, newest event first",
        params,
        querystring: DeliveryQuery,
        response: { 200: DeliveryPageSchema, ...errorResponses },
      },
      preHandler,
    },
    async (req) => listDeliveries(ctx, req.actor.teamId, req.params.webhookId, req.query),
  );
}
