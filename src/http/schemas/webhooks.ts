import { z } from 'zod';
import { EVENT_CATEGORIES, EVENT_TYPES } from '../../core/event-types.js';
import { IdSchema, NullableTimestamp, TimestampSchema } from './common.js';

const EventSelector = z
  .enum([...EVENT_TYPES, ...EVENT_CATEGORIES, '*'])
  .describe('an event type ("thread.created"), a whole category ("thread") or "*" for every event');

export const WebhookSchema = z
  .object({
    id: IdSchema,
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
    failingSince: NullableTimestamp.describe('since when every delivery attempt has failed; null while it delivers'),
    disabledReason: z.string().nullable().describe('why the server switched the webhook off (failing for days); cleared by enabling it'),
    disabledAt: NullableTimestamp,
    createdAt: TimestampSchema,
    updatedAt: NullableTimestamp,
  })
  .meta({ id: 'Webhook' });

export const CreatedWebhookSchema = WebhookSchema.extend({
  secret: z.string().describe('the Standard Webhooks signing secret ("whsec_…"); shown only in this response'),
}).meta({ id: 'CreatedWebhook' });

const url = z.string().max(2048).describe('an http(s) URL on a public host');
const eventTypes = z.array(EventSelector).min(1).max(100);
const description = z.string().max(1000).nullable();

export const CreateWebhookBody = z.object({ url, eventTypes, description: description.optional(), enabled: z.boolean().optional() });
export const UpdateWebhookBody = CreateWebhookBody.partial();

export const WebhookDeliverySchema = z
  .object({
    id: IdSchema,
    eventId: IdSchema,
    eventType: z.string(),
    seq: z.number().int(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastAttemptAt: NullableTimestamp,
    nextAttemptAt: NullableTimestamp.describe('pending deliveries only: when the next attempt is due'),
    createdAt: TimestampSchema,
    completedAt: NullableTimestamp,
  })
  .meta({ id: 'WebhookDelivery' });

export const DeliveryPageSchema = z.object({
  deliveries: z.array(WebhookDeliverySchema),
  hasMore: z.boolean(),
  lastSeq: z.number().int().nullable().describe('pass as beforeSeq for the next (older) page'),
});

export const DeliveryQuery = z.object({
  beforeSeq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
