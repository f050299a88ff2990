import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { createThread, deleteThread, getThread, listThreadRows, lookupThread, lookupThreadsByUsername, sendTyping, unreadCounts, updateThread, updateThreadSettings, V1_TYPING_RULE } from '../../app/inbox/threads.js';
import type { Api } from '../api.js';
import { EmptyBody, errorResponses } from '../schemas/common.js';
import { cursorFrom, paginate } from '../schemas/pagination.js';
import {
  CreateThreadBody,
  LookupByUsernameQuery,
  LookupThreadQuery,
  ThreadCountsQuery,
  ThreadCountsSchema,
  ThreadListQuery,
  ThreadPageSchema,
  ThreadParams,
  ThreadSchema,
  ThreadSettingsBody,
  ThreadSettingsSchema,
  TypingResultSchema,
  UpdateThreadBody,
} from '../schemas/threads.js';
import { presentThreads } from '../../app/inbox/presenters.js';

const tags = ['Threads'];
const response = { 200: ThreadSchema, ...errorResponses };

export function threadRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/threads',
    { schema: { tags, summary: 'List threads of an inbox view, newest first; filter by unread, search with q', querystring: ThreadListQuery, response: { 200: ThreadPageSchema, ...errorResponses } } },
    async (req) => {
      const query = { ...req.query, cursor: cursorFrom(req.query) };
      const rows = await listThreadRows(ctx.db, req.actor.teamId, query);
      const { page, nextCursor } = paginate(rows, query.limit, (t) => ({ id: t.id, timestamp: t.sort_at }));
      return { threads: await presentThreads(ctx.db, page, ctx.clock.now()), nextCursor };
    },
  );
  api.get(
    '/threads/counts',
    {
      schema: {
        tags,
        summary: 'Unread threads per view, and within one view mine, unassigned and per account link (extension)',
        querystring: ThreadCountsQuery,
        response: { 200: ThreadCountsSchema, ...errorResponses },
      },
    },
    async (req) => unreadCounts(ctx.db, req.actor.teamId, req.actor.memberId, req.query.inbox),
  );
  api.post(
    '/threads',
    { schema: { tags, summary: 'Create (or return) the thread between an account link and a prospect', body: CreateThreadBody, response } },
    async (req) => createThread(ctx, req.actor.teamId, req.body),
  );
  api.get(
    '/threads/lookup',
    {
      schema: {
        tags,
        summary: 'Find the thread between an account link and a prospect (null if none)',
        querystring: LookupThreadQuery,
        response: { 200: ThreadSchema.nullable(), ...errorResponses },
      },
    },
    async (req) => lookupThread(ctx, req.actor.teamId, req.query),
  );
  api.get(
    '/threads/lookup-by-username',
    {
      schema: {
        tags,
        summary: 'All threads with a prospect, by username',
        querystring: LookupByUsernameQuery,
        response: { 200: z.array(ThreadSchema), ...errorResponses },
      },
    },
    async (req) => lookupThreadsByUsername(ctx, req.actor.teamId, req.query.username, req.query.accountLinkIds),
  );
  api.get('/threads/:threadId', { schema: { tags, summary: 'Get a thread', params: ThreadParams, response } }, async (req) =>
    getThread(ctx, req.actor.teamId, req.params.threadId),
  );
  api.patch(
    '/threads/:threadId',
    { schema: { tags, summary: 'Mark a thread done, (re)assign it, or mark it read or unread', params: ThreadParams, body: UpdateThreadBody, response } },
    async (req) => updateThread(ctx, req.actor.teamId, req.params.threadId, req.body ?? {}),
  );
  api.delete(
    '/threads/:threadId',
    { schema: { tags, summary: 'Delete a thread (soft: messages are kept)', params: ThreadParams, body: EmptyBody } },
    async (req, reply) => {
      await deleteThread(ctx, req.actor.teamId, req.params.threadId);
      return reply.code(200).send();
    },
  );
  api.post(
    '/threads/:threadId/typing',
    {
      schema: {
        tags,
        summary: 'Send a typing indicator (X Chat threads only)',
        params: ThreadParams,
        body: EmptyBody,
        response: { 200: TypingResultSchema, ...errorResponses },
      },
    },
    async (req) => sendTyping(ctx, req.actor.teamId, req.params.threadId, V1_TYPING_RULE),
  );
  api.patch(
    '/threads/:threadId/settings',
    {
      schema: {
        tags,
        summary: "Change a thread's settings",
        params: ThreadParams,
        body: ThreadSettingsBody,
        response: { 200: ThreadSettingsSchema, ...errorResponses },
      },
    },
    async (req) => updateThreadSettings(ctx, req.actor.teamId, req.params.threadId, req.body ?? {}),
  );
}
