import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext } from '../../app/context.js';
import { requireTeamToken } from '../auth.js';
import { installV2ErrorHandling, sendV2Error, V2Error } from './errors.js';
import { useV2QueryStrings } from './query.js';
import { contactsV2Routes } from './routes/contacts.js';
import { eventsV2Routes } from './routes/events.js';
import { labelsV2Routes } from './routes/labels.js';
import { sendV2Routes } from './routes/send.js';
import { messageChangesV2Routes } from './routes/message-changes.js';
import { teamV2Routes } from './routes/team.js';
import { threadsV2Routes } from './routes/threads.js';
import { typingV2Routes } from './routes/typing.js';
import { webhooksV2Routes } from './routes/webhooks.js';

export const V2_PREFIX = '/api/v2';

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * API v2 at /api/v2, beside v1 in the same server: the same authentication (token or session cookie) and the
 * same rate limits (one count per team for both versions), the vendor's error envelope, query strings and cursors,
 * and thin routes over the use cases v1 calls, shown by v2's presenters.
 */
export async function registerApiV2(app: FastifyInstance, ctx: AppContext): Promise<void> {
  await app.register(
    async (api) => {
      installV2ErrorHandling(api);
      requireTeamToken(api, ctx);
      useV2QueryStrings(api);
      api.setNotFoundHandler((request, reply) => {
        const path = request.url.split('?')[0]!;
        const allowed = HTTP_METHODS.filter((method) => request.server.findRoute({ method, url: path }) !== null);
        if (allowed.length > 0) {
          reply.header('allow', allowed.join(', '));
          return sendV2Error(reply, request, new V2Error(405, 'methodNotAllowed', `${request.method} is not allowed on ${path}: use ${allowed.join(', ')}`));
        }
        return sendV2Error(reply, request, new V2Error(404, 'notFound', `Route ${request.method} ${path} not found`));
      });
      const typed = api.withTypeProvider<ZodTypeProvider>();
      teamV2Routes(typed, ctx);
      labelsV2Routes(typed, ctx);
      contactsV2Routes(typed, ctx);
      threadsV2Routes(typed, ctx);
      sendV2Routes(typed, ctx);
      messageChangesV2Routes(typed, ctx);
      typingV2Routes(typed, ctx);
      eventsV2Routes(typed, ctx);
      webhooksV2Routes(typed, ctx);
    },
    { prefix: V2_PREFIX },
  );
}
