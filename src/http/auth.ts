import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, AppContext } from '../app/context.js';
import { consumeRateLimit, rateLimitWindows } from '../store/rate-limit.js';
import type { RateWindow } from '../core/rate-limit.js';
import { assertCanManage } from '../app/roles.js';
import { authenticateSession } from '../app/sessions.js';
import { authenticate } from '../app/tokens.js';
import { errorBody } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

const BEARER = /^Bearer ([^\s]+)$/;
export const SESSION_COOKIE = 'inbox_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A browser sends Origin with every cross-site write, so a write whose Origin names another host (or none)
 * came from another site's page, or from something that is not a browser page and should use a token.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin || !request.headers.host) return false;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export const csrfRejected = (reply: FastifyReply) =>
  reply.code(403).send(errorBody(403, 'CSRF_REJECTED', 'A signed-in write must come from this server\'s own pages (Origin header)'));

function unauthorized(reply: FastifyReply) {
  return reply.code(401).send(errorBody(401, 'UNAUTHORIZED', 'Invalid or missing authentication token'));
}

function rateLimited(reply: FastifyReply, retryAfter: number) {
  reply.header('Retry-After', retryAfter);
  return reply.code(429).send(errorBody(429, 'RATE_LIMITED', `Rate limit exceeded. Try again in ${retryAfter} seconds.`));
}

/** Addresses remembered as refused at most, so a flood of addresses cannot grow the memory without end. */
const MAX_BLOCKED_ADDRESSES = 10_000;

/**
 * Guessing tokens: each address may fail authentication a number of times a minute, counted in the store (so
 * across processes). Past that, this process refuses the address outright until its window has room, without
 * looking the token up: a valid token guessed while blocked tells the guesser nothing.
 */
function authFailureLimit(ctx: AppContext) {
  const windows: RateWindow[] = [{ seconds: 60, limit: ctx.config.authFailuresPerMinute }];
  const blockedUntil = new Map<string, number>();
  return {
    /** Seconds until the address may try again, or 0. */
    blockedFor(address: string, now: Date): number {
      const until = blockedUntil.get(address);
      if (until === undefined) return 0;
      if (until > now.getTime()) return Math.ceil((until - now.getTime()) / 1000);
      blockedUntil.delete(address);
      return 0;
    },
    /** Counts a failure; the seconds the address is now blocked for, or 0. */
    async failed(address: string, now: Date): Promise<number> {
      const decision = await consumeRateLimit(ctx.db, `authfail:address:${address}`, windows, now);
      if (decision.allowed) return 0;
      if (blockedUntil.size >= MAX_BLOCKED_ADDRESSES) blockedUntil.clear();
      blockedUntil.set(address, now.getTime() + decision.retryAfter * 1000);
      return decision.retryAfter;
    },
  };
}

/**
 * Every route registered inside `app` needs a team token or a session cookie (with a matching Origin for
 * writes); each request is then counted against the team's rate limits, and the limit headers go on every
 * response. A bearer header, when present, decides alone: a bad token is not rescued by a cookie.
 */
export function requireTeamToken(app: FastifyInstance, ctx: AppContext): void {
  const windows = rateLimitWindows(ctx.config);
  const failures = authFailureLimit(ctx);
  app.decorateRequest('actor', null as unknown as Actor);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const now = ctx.clock.now();
    const blocked = failures.blockedFor(request.ip, now);
    if (blocked > 0) return rateLimited(reply, blocked);
    const cookie = request.cookies[SESSION_COOKIE];
    let actor: Actor | null = null;
    if (request.headers.authorization !== undefined || !cookie) {
      const match = BEARER.exec(request.headers.authorization ?? '');
      actor = match ? await authenticate(ctx.db, match[1]!, now) : null;
    } else {
      actor = await authenticateSession(ctx.db, cookie, now);
      if (actor && !SAFE_METHODS.has(request.method) && !sameOrigin(request)) return csrfRejected(reply);
    }
    if (!actor) {
      const retryAfter = await failures.failed(request.ip, now);
      return retryAfter > 0 ? rateLimited(reply, retryAfter) : unauthorized(reply);
    }
    request.actor = actor;

    const decision = await consumeRateLimit(ctx.db, actor.teamId, windows, now);
    reply.header('X-RateLimit-Limit', decision.limit);
    reply.header('X-RateLimit-Remaining', decision.remaining);
    reply.header('X-RateLimit-Reset', decision.resetAt);
    if (!decision.allowed) return rateLimited(reply, decision.retryAfter);
  });
}

/** Route option for what only owners and admins may do (see src/app/roles.ts). */
export const onlyAdmins = (what: string) => async (request: FastifyRequest) => assertCanManage(request.actor, what);
