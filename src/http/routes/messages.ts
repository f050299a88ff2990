import type { AppContext } from '../../app/context.js';
import { deleteMessage, editMessage, listMessageRows, messageHistory, quickSend, sendMessage, setReaction, V1_MESSAGE_RULES } from '../../app/inbox/messages.js';
import { presentMessage } from '../../app/inbox/presenters.js';
import type { Api } from '../api.js';
import { errorResponses } from '../schemas/common.js';
import {
  DeleteMessageBody,
  DeleteResultSchema,
  EditMessageBody,
  EditResultSchema,
  MessageHistorySchema,
  MessageListQuery,
  MessagePageSchema,
  MessageParams,
  MessageSchema,
  QuickSendBody,
  QuickSendResultSchema,
  ReactionBody,
  ReactionResultSchema,
  SendMessageBody,
} from '../schemas/messages.js';
import { cursorFrom, paginate } from '../schemas/pagination.js';
import { ThreadParams } from '../schemas/threads.js';

const tags = ['Messages'];
const reactionsPath = '/threads/:threadId/messages/:messageId/reactions/reactions';
const reactionSchema = (summary: string) => ({
  tags,
  summary,
  params: MessageParams,
  body: ReactionBody,
  response: { 200: ReactionResultSchema, ...errorResponses },
});

export function messageRoutes(api: Api, ctx: AppContext): void {
  api.post(
    '/threads/messages',
    {
      schema: {
        tags,
        summary: 'Quick send: find or create the thread with a prospect and send a message',
        body: QuickSendBody,
        response: { 200: QuickSendResultSchema, ...errorResponses },
      },
    },
    async (req) => quickSend(ctx, req.actor, req.body),
  );
  api.get(
    '/threads/:threadId/messages',
    {
      schema: {
        tags,
        summary: "List a thread's messages, newest first",
        params: ThreadParams,
        querystring: MessageListQuery,
        response: { 200: MessagePageSchema, ...errorResponses },
      },
    },
    async (req) => {
      const query = { limit: req.query.limit, cursor: cursorFrom(req.query) };
      const { thread, rows } = await listMessageRows(ctx, req.actor.teamId, req.params.threadId, query);
      const { page, nextCursor } = paginate(rows, query.limit, (m) => ({ id: m.id, timestamp: m.created_at }));
      return { teamId: thread.team_id, threadId: thread.id, messages: page.map(presentMessage), nextCursor, isSyncing: thread.is_syncing };
    },
  );
  api.post(
    '/threads/:threadId/messages',
    { schema: { tags, summary: 'Send a message in a thread', params: ThreadParams, body: SendMessageBody, response: { 200: MessageSchema, ...errorResponses } } },
    async (req) => sendMessage(ctx, req.actor, req.params.threadId, req.body),
  );
  api.patch(
    '/threads/:threadId/messages/:messageId',
    {
      schema: {
        tags,
        summary: 'Edit one of our messages (X Chat threads only)',
        params: MessageParams,
        body: EditMessageBody,
        response: { 200: EditResultSchema, ...errorResponses },
      },
    },
    async (req) => editMessage(ctx, req.actor.teamId, req.params.threadId, req.params.messageId, req.body.content, V1_MESSAGE_RULES),
  );
  api.delete(
    '/threads/:threadId/messages/:messageId',
    {
      schema: {
        tags,
        summary: 'Delete a message (X Chat threads only; kept in its history)',
        params: MessageParams,
        body: DeleteMessageBody,
        response: { 200: DeleteResultSchema, ...errorResponses },
      },
    },
    async (req) =>
      deleteMessage(ctx, req.actor.teamId, req.params.threadId, req.params.messageId, (req.body?.deleteForAll ?? true) ? 'all' : 'self', V1_MESSAGE_RULES),
  );
  api.get(
    '/threads/:threadId/messages/:messageId/history',
    {
      schema: {
        tags,
        summary: "A message's versions and deletion",
        params: MessageParams,
        response: { 200: MessageHistorySchema, ...errorResponses },
      },
    },
    async (req) => messageHistory(ctx, req.actor.teamId, req.params.threadId, req.params.messageId),
  );
  const react = async (teamId: string, params: { threadId: string; messageId: string }, emoji: string, present: boolean) => {
    const { messageId } = await setReaction(ctx, teamId, params.threadId, params.messageId, emoji, present, V1_MESSAGE_RULES);
    return { success: true, messageId };
  };
  api.post(reactionsPath, { schema: reactionSchema('React to a message') }, async (req) => react(req.actor.teamId, req.params, req.body.emoji, true));
  api.delete(reactionsPath, { schema: reactionSchema('Remove our reaction from a message') }, async (req) => react(req.actor.teamId, req.params, req.body.emoji, false));
}
