import { z } from 'zod';
import type { AppContext } from '../../../app/context.js';
import { PLATFORM_TYPING_RULE } from '../../../app/inbox/message-capabilities.js';
import { sendTyping, type TypingResult } from '../../../app/inbox/threads.js';
import { IdSchema } from '../../schemas/common.js';
import type { Api } from '../../api.js';
import { NoQuery, TypingSignalSchema } from '../message-schemas.js';
import { errorResponses } from '../schemas.js';

/** v1's skip reasons in v2's two: a thread or account that does not type now is `disabled`. */
const v2Signal = (result: TypingResult) =>
  result.status === 'sent' ? { status: 'sent' as const, reason: null } : { status: 'skipped' as const, reason: result.reason === 'rateLimited' ? ('rateLimited' as const) : ('disabled' as const) };

/** POST /threads/{threadId}/typing: v1's typing use case under the platform's capability (thread:typing:send). */
export function typingV2Routes(api: Api, ctx: AppContext): void {
  api.post(
    '/threads/:threadId/typing',
    {
      schema: {
        tags: ['Threads'],
        summary: 'Show the account link typing; at most one a thread every 2.5 seconds, more are skipped',
        params: z.object({ threadId: IdSchema }),
        querystring: NoQuery,
        response: { 202: TypingSignalSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.code(202).send(v2Signal(await sendTyping(ctx, req.actor.teamId, req.params.threadId, PLATFORM_TYPING_RULE))),
  );
}
