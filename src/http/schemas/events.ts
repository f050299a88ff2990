import { z } from 'zod';
import { EVENT_TYPES } from '../../core/event-types.js';
import { TimestampSchema } from './common.js';

export const EventSchema = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    teamId: z.string(),
    type: z.enum(EVENT_TYPES),
    timestamp: TimestampSchema,
    version: z.literal('1.0'),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' });

export const EventPageSchema = z.object({
  events: z.array(EventSchema),
  hasMore: z.boolean(),
  lastSeq: z.number().int().nullable(),
});

export const EventQuery = z.object({
  afterSeq: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const EventStreamQuery = z.object({ afterSeq: seq.optional() });

/** A reconnecting EventSource sends the id of the last event it received; it wins over `afterSeq` in the URL. */
export const EventStreamHeaders = z.object({ 'last-event-id': seq.optional() });
