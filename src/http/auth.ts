import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, AppContext } from '../app/context.js';
import { consumeRateLimit, rateLimitWindows } from '../app/rate-limit.js';
import { authenticate } from '../app/tokens.js';
import { errorBody } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

const BEARER = /^Bearer ([^\s]+)$/;

function unauthorized(reply: FastifyReply) {
  return reply.code(401).send(errorBody(401, 'UNAUTHORIZED', 'Invalid or missing authentication token'));
}

/**
 * Every route registered inside `app` needs a team token; each request is then counted against the
 * team's rate limits, and the limit headers go on every response.
 */
export function requireTeamToken(app: FastifyInstance, ctx: AppContext): void {
  const windows = rateLimitWindows(ctx.config);
  app.decorateRequest('actor', null as unknown as Actor);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const match = BEARER.exec(request.headers.authorization ?? '');
    const now = ctx.clock.now();
    const actor = match ? await authenticate(ctx.db, match[1]!, now) : null;
    if (!actor) return unauthorized(reply);
    request.actor = actor;

    const decision = await consumeRateLimit(ctx.db, actor.teamId, windows, now);
    reply.header('X-RateLimit-Limit', decision.limit);
    reply.header('X-RateLimit-Remaining', decision.remaining);
    reply.header('X-RateLimit-Reset', decision.resetAt);
    if (!decision.allowed) {
      reply.header('Retry-After', decision.retryAfter);
      return reply
        .code(429)
        .send(
          errorBody(429, 'RATE_LIMITED', `Rate limit exceeded. Try again in ${decision.retryAfter} seconds.`),
        );
    }
  });
}
