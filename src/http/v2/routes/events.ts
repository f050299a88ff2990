import { z } from 'zod';
import type { AppContext } from '../../../app/context.js';
import { listEvents } from '../../../app/events/events.js';
import type { Api } from '../../api.js';
import { pageLimit, repeated } from '../query.js';
import { V2_EVENT_TYPES, v2Event } from '../../../core/v2-events.js';
import { errorResponses, EventPageSchema } from '../schemas.js';

export function eventsV2Routes(api: Api, ctx: AppContext): void {
  const EventQuery = z
    .object({ afterSeq: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(), type: repeated(z.enum(V2_EVENT_TYPES)).optional(), limit: pageLimit(100, 1000) })
    .strict();
  api.get(
    '/events',
    { schema: { tags: ['Events'], summary: 'The event log in sequence order (the same log and seq as v1, in v2 names)', querystring: EventQuery, response: { 200: EventPageSchema, ...errorResponses } } },
    async (req) => {
      const { afterSeq, type, limit } = req.query;
      // `limit` events are read; those v2 has no name for, or of other types, are left out of the page (lastSeq
      // still counts them, so the next page starts after them).
      const page = await listEvents(ctx.db, req.actor.teamId, { afterSeq, limit }, ctx.clock.now());
      const wanted = type && new Set<string>(type);
      const data = page.events.flatMap((event) => {
        const shown = v2Event(event);
        return shown && (!wanted || wanted.has(shown.type)) ? [shown] : [];
      });
      return { data, lastSeq: page.lastSeq, hasMore: page.hasMore };
    },
  );
}
