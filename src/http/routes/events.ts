import type { AppContext } from '../../app/context.js';
import { listEvents } from '../../app/events.js';
import type { Api } from '../api.js';
import { errorResponses } from '../schemas/common.js';
import { EventPageSchema, EventQuery } from '../schemas/events.js';

export function eventRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/events',
    {
      schema: {
        tags: ['Events'],
        summary: 'Replay webhook events (kept 7 days)',
        querystring: EventQuery,
        response: { 200: EventPageSchema, ...errorResponses },
      },
    },
    async (req) => listEvents(ctx.db, req.actor.teamId, req.query, ctx.clock.now()),
  );
}
