import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor, AppContext } from '../app/context.js';
import { consumeRateLimit, rateLimitWindows } from '../store/rate-limit.js';
import type { RateWindow } from '../core/rate-limit.js';
import { assertCanManage } from '../app/team/roles.js';
import { authenticateSession } from '../app/team/sessions.js';
import { authenticate } from '../app/team/tokens.js';
import { AppError } from '../core/errors.js';
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
  // request.host: the Host header, or a trusted proxy's X-Forwarded-Host (INBOX_TRUST_PROXY).
  if (!origin || !request.host) return false;
  try {
    return new URL(origin).host === request.host;
  } catch {
    return false;
  }
}

export const csrfRejected = (reply: FastifyReply) => reply.code(403).send(errorBody(403, 'CSRF_REJECTED', CSRF_MESSAGE));

/**
 * A request over a rate limit: 429 RATE_LIMITED with `Retry-After`. Thrown from the hook, so each API version's
 * error handler shows it in its own envelope (v2 names the window, its limit and when it resets).
 */
export class RateLimitedError extends AppError {
  constructor(
    readonly retryAfter: number,
    readonly window: { seconds: number; limit: number; resetAt: Date },
  ) {
    super(429, 'RATE_LIMITED', `Rate limit exceeded. Try again in ${retryAfter} seconds.`);
  }
}

const UNAUTHORIZED_MESSAGE = 'Invalid or missing authentication token';
export const CSRF_MESSAGE = "A signed-in write must come from this server's own pages (Origin header)";

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
  const refusal = (retryAfter: number, resetAt: Date) => new RateLimitedError(retryAfter, { seconds: 60, limit: ctx.config.authFailuresPerMinute, resetAt });
  return {
    /** The refusal for an address still blocked, if it is. */
    blocked(address: string, now: Date): RateLimitedError | null {
      const until = blockedUntil.get(address);
      if (until === undefined) return null;
      if (until > now.getTime()) return refusal(Math.ceil((until - now.getTime()) / 1000), new Date(until));
      blockedUntil.delete(address);
      return null;
    },
    /** Counts a failure; the refusal when the address is now blocked. */
    async failed(address: string, now: Date): Promise<RateLimitedError | null> {
      const decision = await consumeRateLimit(ctx.db, `authfail:address:${address}`, windows, now);
      if (decision.allowed) return null;
      if (blockedUntil.size >= MAX_BLOCKED_ADDRESSES) blockedUntil.clear();
      blockedUntil.set(address, now.getTime() + decision.retryAfter * 1000);
      return refusal(decision.retryAfter, new Date(now.getTime() + decision.retryAfter * 1000));
    },
  };
}

/** How a request proves who it is: a bearer token, or else the session cookie. */
interface Credential {
  session: boolean;
  /** the actor it stands for now (null once it is revoked, signed out or its member removed) */
  check(now: Date): Promise<Actor | null>;
}

/** A bearer header, when present, decides alone: a bad token is not rescued by a cookie. */
function credentialOf(ctx: AppContext, request: FastifyRequest): Credential {
  const cookie = request.cookies[SESSION_COOKIE];
  if (request.headers.authorization !== undefined || !cookie) {
    const match = BEARER.exec(request.headers.authorization ?? '');
    return { session: false, check: async (now) => (match ? authenticate(ctx.db, match[1]!, now) : null) };
  }
  return { session: true, check: (now) => authenticateSession(ctx.db, cookie, now) };
}

/**
 * Whether the request's credential still stands for the member it authenticated: a long-lived response (the
 * event stream) asks again as it goes, so signing out, revoking the token or removing the member ends it.
 */
export function stillAuthenticated(ctx: AppContext, request: FastifyRequest): () => Promise<boolean> {
  const credential = credentialOf(ctx, request);
  return async () => (await credential.check(ctx.clock.now()))?.memberId === request.actor.memberId;
}

/**
 * Every route registered inside `app` needs a team token or a session cookie (with a matching Origin for
 * writes); each request is then counted against the team's rate limits, and the limit headers go on every
 * response. Refusals are
 * thrown, so the error handler of the context (API v1 or v2) answers them in its envelope.
 */
export function requireTeamToken(app: FastifyInstance, ctx: AppContext): void {
  const windows = rateLimitWindows(ctx.config);
  const failures = authFailureLimit(ctx);
  app.decorateRequest('actor', null as unknown as Actor);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const now = ctx.clock.now();
    const blocked = failures.blocked(request.ip, now);
    if (blocked) throw withRetryAfter(reply, blocked);
    const credential = credentialOf(ctx, request);
    const actor = await credential.check(now);
    if (actor && credential.session && !SAFE_METHODS.has(request.method) && !sameOrigin(request)) throw new AppError(403, 'CSRF_REJECTED', CSRF_MESSAGE);
    if (!actor) {
      const refused = await failures.failed(request.ip, now);
      throw refused ? withRetryAfter(reply, refused) : new AppError(401, 'UNAUTHORIZED', UNAUTHORIZED_MESSAGE);
    }
    request.actor = actor;

    const decision = await consumeRateLimit(ctx.db, actor.teamId, windows, now);
    reply.header('X-RateLimit-Limit', decision.limit);
    reply.header('X-RateLimit-Remaining', decision.remaining);
    reply.header('X-RateLimit-Reset', decision.resetAt);
    if (!decision.allowed) {
      const window = { seconds: decision.windowSeconds, limit: decision.limit, resetAt: new Date(decision.resetAt * 1000) };
      throw withRetryAfter(reply, new RateLimitedError(decision.retryAfter, window));
    }
  });
}

function withRetryAfter(reply: FastifyReply, error: RateLimitedError): RateLimitedError {
  reply.header('Retry-After', error.retryAfter);
  return error;
}

/** Route option for what only owners and admins may do (see src/app/team/roles.ts). */
export const onlyAdmins = (what: string) => async (request: FastifyRequest) => assertCanManage(request.actor, what);
