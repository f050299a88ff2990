import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { receiveAccountActivity } from '../../app/inbox/x-inbound.js';
import { completeXAuthorization, startXAuthorization } from '../../app/accounts/x-links.js';
import { AppError } from '../../core/errors.js';
import { crcResponseToken, verifyWebhookSignature } from '../../core/x-protocol.js';
import type { Api } from '../api.js';
import { onlyAdmins } from '../auth.js';
import { AccountLinkSchema } from '../schemas/account-links.js';
import { EmptyBody, errorResponses } from '../schemas/common.js';
import { AccountActivityBody, XAuthorizeResponse, XCallbackQuery, XCrcQuery, XCrcResponse } from '../schemas/x.js';

const tags = ['Account links'];

/** Starting an X link is an API call of the team (inside the authenticated scope). */
export function xAuthorizeRoute(api: Api, ctx: AppContext): void {
  api.post(
    '/account-links/x/authorize',
    { schema: { tags, summary: 'Start linking an X account: the URL where the user approves access', body: EmptyBody, response: { 200: XAuthorizeResponse, ...errorResponses } }, preHandler: onlyAdmins('account links') },
    async (req) => startXAuthorization(ctx, req.actor.teamId),
  );
}

function consumerSecret(ctx: AppContext): string {
  const secret = ctx.config.x.consumerSecret;
  if (!secret) throw new AppError(503, 'X_NOT_CONFIGURED', 'The X webhook is not configured on this server: set INBOX_X_CONSUMER_SECRET');
  return secret;
}

/**
 * Routes X itself calls, which carry no API token: the browser's return from X's consent screen (the
 * stored state names the team) and Account Activity deliveries (verified by their signature). Register
 * them outside the authenticated scope.
 */
export async function xPublicRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  // The signature covers the exact bytes X sent, so JSON bodies here stay raw until it is checked.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  api.get(
    '/account-links/x/callback',
    { schema: { tags, summary: 'Where X sends the user back after consent; links the account', security: [], querystring: XCallbackQuery, response: { 200: AccountLinkSchema, ...errorResponses } } },
    async (req) => completeXAuthorization(ctx, req.query),
  );
  api.get(
    '/x/webhook',
    { schema: { tags: ['X webhook'], summary: 'Account Activity CRC check', security: [], querystring: XCrcQuery, response: { 200: XCrcResponse, ...errorResponses } } },
    async (req) => ({ response_token: crcResponseToken(consumerSecret(ctx), req.query.crc_token) }),
  );
  api.post(
    '/x/webhook',
    { schema: { tags: ['X webhook'], summary: 'Account Activity delivery (signed by X); DMs are ingested', security: [], response: { 200: z.object({ ingested: z.number().int() }), ...errorResponses } } },
    async (req) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      if (!verifyWebhookSignature(consumerSecret(ctx), raw, req.headers['x-twitter-webhooks-signature'] as string | undefined)) {
        throw new AppError(401, 'INVALID_SIGNATURE', 'The x-twitter-webhooks-signature header does not match the body');
      }
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw new AppError(400, 'BAD_REQUEST', 'The body is not JSON');
      }
      const body = AccountActivityBody.safeParse(json);
      if (!body.success) throw new AppError(400, 'VALIDATION_ERROR', `Invalid Account Activity body: ${body.error.message}`);
      return { ingested: await receiveAccountActivity(ctx, body.data) };
    },
  );
}
