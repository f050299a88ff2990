import { z } from 'zod';
import { V2_EVENT_TYPES } from '../../core/v2-events.js';
import { IdSchema, NullableTimestamp, TimestampSchema } from '../schemas/common.js';
import { WebhookDeliverySchema as V1WebhookDeliverySchema } from '../schemas/webhooks.js';
import { pageQuery } from './query.js';
import { named, page } from './schemas.js';

/**
 * The schemas of v2's webhook endpoints, our extension of the vendor's v2 (its document describes the payloads,
 * `webhooks`, but no operation to subscribe to them). Registered with v2's other components.
 */

export const WebhookEventType = z.enum(V2_EVENT_TYPES);

const types = z.array(z.string()).nullable().describe('the v2 event types delivered; null: every one, those added later included');

export const WebhookEndpointSchema = named(
  'WebhookEndpoint',
  z.object({
    id: IdSchema,
    url: z.string(),
    types,
    enabled: z.boolean().describe('false once the server switched it off after failing for days (disabledReason says why)'),
    failingSince: NullableTimestamp.describe('since when every delivery attempt has failed; null while it delivers'),
    disabledReason: z.string().nullable(),
    createdAt: TimestampSchema,
  }),
);
export const WebhookEndpointPageSchema = named('WebhookEndpointPage', page(WebhookEndpointSchema));

export const CreatedWebhookEndpointSchema = named(
  'CreatedWebhookEndpoint',
  z.object({
    id: IdSchema,
    url: z.string(),
    types,
    secret: z.string().describe('the key of X-Inbox-Signature\'s HMAC (the whole string); shown only in this response'),
    createdAt: TimestampSchema,
  }),
);

export const WebhookEndpointCreateBody = z
  .object({
    url: z.string().max(2048).describe('an http(s) URL on a public host'),
    types: z.array(WebhookEventType).min(1).max(100).optional().describe('v2 event types; every one when omitted'),
  })
  .strict();

// A delivery is shown as v1 shows its own, its eventType in v2's name.
export const WebhookDeliverySchema = named('WebhookDelivery', V1WebhookDeliverySchema.extend({ eventType: z.string().describe('the v2 type delivered') }));
export const WebhookDeliveryPageSchema = named('WebhookDeliveryPage', page(WebhookDeliverySchema));

export const WebhookDeliveryQuery = z.object({ status: V1WebhookDeliverySchema.shape.status.optional(), ...pageQuery }).strict();
