import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { acceptInvite, createInvite, listInvites, lookupInvite, revokeInvite } from '../../app/team/invites.js';
import { SESSION_IDLE_MS, signIn, SignInRateLimited, signOut, whoAmI, type SignedIn } from '../../app/team/sessions.js';
import type { Api } from '../api.js';
import { csrfRejected, sameOrigin, SESSION_COOKIE } from '../auth.js';
import { EmptyBody, errorResponses, IdSchema } from '../schemas/common.js';
import {
  AcceptInviteBody,
  CreatedInviteSchema,
  CreateInviteBody,
  InviteLookupSchema,
  InviteSchema,
  InviteSecretParams,
  SignInBody,
  WhoAmISchema,
} from '../schemas/auth.js';

const cookieOptions = (request: FastifyRequest) => ({
  httpOnly: true,
  sameSite: 'lax' as const,
  path: '/',
  secure: request.protocol === 'https',
});

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, session: SignedIn) {
  reply.setCookie(SESSION_COOKIE, session.secret, { ...cookieOptions(request), maxAge: SESSION_IDLE_MS / 1000 });
  return { member: session.member, team: session.team };
}

/** A browser names the page a form came from: another site's may not sign anyone in (login CSRF). */
const foreignOrigin = (request: FastifyRequest) => request.headers.origin !== undefined && !sameOrigin(request);

/** Sign-in and invite links: no token or session needed (registered outside the authenticated scope). */
export function publicAuthRoutes(api: Api, ctx: AppContext): void {
  const tags = ['Sessions'];
  api.post(
    '/auth/sign-in',
    { schema: { tags, summary: 'Sign in with e-mail and password (sets the session cookie)', security: [], body: SignInBody, response: { 200: WhoAmISchema, ...errorResponses } } },
    async (req, reply) => {
      if (foreignOrigin(req)) return csrfRejected(reply);
      try {
        const session = await signIn(ctx.db, { ...req.body, address: req.ip }, ctx.clock.now());
        return setSessionCookie(req, reply, session);
      } catch (error) {
        if (error instanceof SignInRateLimited) reply.header('Retry-After', error.retryAfter);
        throw error;
      }
    },
  );
  api.get(
    '/invites/accept/:secret',
    { schema: { tags, summary: 'Look up an invite or password link', security: [], params: InviteSecretParams, response: { 200: InviteLookupSchema, ...errorResponses } } },
    async (req) => lookupInvite(ctx.db, req.params.secret, ctx.clock.now()),
  );
  api.post(
    '/invites/accept/:secret',
    {
      schema: {
        tags,
        summary: 'Accept an invite or password link: choose a password and sign in',
        security: [],
        params: InviteSecretParams,
        body: AcceptInviteBody,
        response: { 200: WhoAmISchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      if (foreignOrigin(req)) return csrfRejected(reply);
      return setSessionCookie(req, reply, await acceptInvite(ctx.db, req.params.secret, req.body, ctx.clock.now()));
    },
  );
}

export function authRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/auth/me',
    { schema: { tags: ['Sessions'], summary: 'The member and team the request acts for', response: { 200: WhoAmISchema, ...errorResponses } } },
    async (req) => whoAmI(ctx.db, req.actor.memberId),
  );
  api.post(
    '/auth/sign-out',
    { schema: { tags: ['Sessions'], summary: 'End the session and clear its cookie', body: EmptyBody } },
    async (req, reply) => {
      const secret = req.cookies[SESSION_COOKIE];
      if (secret) await signOut(ctx.db, secret);
      return reply.clearCookie(SESSION_COOKIE, cookieOptions(req)).code(204).send();
    },
  );

  const tags = ['Invites'];
  api.get(
    '/invites',
    { schema: { tags, summary: 'List pending invites', response: { 200: z.object({ data: z.array(InviteSchema) }), ...errorResponses } } },
    async (req) => ({ data: await listInvites(ctx.db, req.actor, ctx.clock.now()) }),
  );
  api.post(
    '/invites',
    { schema: { tags, summary: 'Invite someone into the team (the link is shown only in this response)', body: CreateInviteBody, response: { 201: CreatedInviteSchema, ...errorResponses } } },
    async (req, reply) => reply.code(201).send(await createInvite(ctx.db, req.actor, req.body, ctx.clock.now())),
  );
  api.delete(
    '/invites/:inviteId',
    { schema: { tags, summary: 'Revoke an invite', params: z.object({ inviteId: IdSchema }), body: EmptyBody } },
    async (req, reply) => {
      await revokeInvite(ctx.db, req.actor, req.params.inviteId);
      return reply.code(204).send();
    },
  );
}
