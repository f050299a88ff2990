import type { OutgoingHttpHeaders } from 'node:http';
import type { AppContext } from '../../app/context.js';
import type { EventStreams } from '../../app/events/stream.js';
import { listEvents } from '../../app/events/events.js';
import type { Api } from '../api.js';
import { stillAuthenticated } from '../auth.js';
import { errorResponses } from '../schemas/common.js';
import { EventPageSchema, EventQuery, EventStreamHeaders, EventStreamQuery } from '../schemas/events.js';

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
  if (ctx.eventStreams) eventStreamRoute(api, ctx, ctx.eventStreams);
}

/** GET /events/stream: the log as Server-Sent Events (docs/api-notes.md, "Event stream"). */
function eventStreamRoute(api: Api, ctx: AppContext, streams: EventStreams): void {
  const open = new Set<() => Promise<void>>();
  // Open streams would keep the server from closing: end them first, giving their slots back.
  api.addHook('preClose', async () => {
    await Promise.all([...open].map((end) => end()));
  });
  api.get(
    '/events/stream',
    // A text/event-stream response has no JSON schema to document: docs/api-notes.md describes it.
    { schema: { hide: true, querystring: EventStreamQuery, headers: EventStreamHeaders } },
    async (req, reply) => {
      const lease = await streams.reserve(ctx.db, req.actor.teamId);
      const raw = reply.raw;
      let stream: { begin(): void; stop(): void } | undefined;
      const end = () => {
        stream?.stop();
        open.delete(end);
        raw.destroy();
        return lease.release();
      };
      try {
        stream = await streams.start(ctx.db, req.actor.teamId, req.headers['last-event-id'] ?? req.query.afterSeq, {
          write: (chunk) => {
            raw.write(chunk);
            return raw.writableLength;
          },
          destroy: () => void end(),
          stillAllowed: stillAuthenticated(ctx, req),
        }, lease);
      } catch (error) {
        await lease.release();
        throw error;
      }
      reply.hijack();
      open.add(end);
      raw.on('close', () => void end());
      // The hooks' headers (rate limits) are on the reply, which a hijacked response no longer sends.
      raw.writeHead(200, {
        ...(reply.getHeaders() as OutgoingHttpHeaders),
        'x-request-id': req.id,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.flushHeaders();
      // The client may have gone while the stream was starting.
      if (raw.destroyed) void end();
      else stream.begin();
    },
  );
}
