import { PLATFORM_MESSAGE_RULES } from '../../../app/inbox/message-capabilities.js';
import { deleteMessage, editMessage, getMessageRow, messageHistory, setReaction } from '../../../app/inbox/messages.js';
import type { AppContext } from '../../../app/context.js';
import { AppError } from '../../../core/errors.js';
import { isCard } from '../../../core/attachments.js';
import type { Api } from '../../api.js';
import { invalidRequest } from '../errors.js';
import { v2History, v2Media } from '../message-presenters.js';
import {
  AttachmentParams,
  MessageDeletionSchema,
  MessageEditBody,
  MessageHistorySchema,
  MessageParams,
  NoQuery,
  ReactionChangeBody,
  ReactionsSchema,
  UnreactQuery,
  UnsendQuery,
} from '../message-schemas.js';
import { AttachmentMediaSchema, errorResponses, MessageSchema } from '../schemas.js';
import { presentV2Messages } from './threads.js';

const tags = ['Messages'];

/**
 * The thread of a message found a moment ago was deleted since: the operations address the message, whose
 * not-found is the one they document.
 */
const asMessageNotFound = (messageId: string) => (error: unknown) => {
  if (error instanceof AppError && error.code === 'THREAD_NOT_FOUND') throw new AppError(404, 'MESSAGE_NOT_FOUND', `Message with ID '${messageId}' not found`);
  throw error;
};

/**
 * A message's changes as API v2 makes them: v1's use cases (edit, delete, history, reactions) by the message's id,
 * under the platform's rules (app/message-capabilities.ts), shown by v2's presenters; and its attachments.
 */
export function messageChangesV2Routes(api: Api, ctx: AppContext): void {
  /** The message as v2 shows it now. */
  const presented = async (teamId: string, messageId: string) => {
    const { message, thread } = await getMessageRow(ctx, teamId, messageId);
    return (await presentV2Messages(ctx, teamId, thread, [message], new Set()))[0]!;
  };

  api.patch(
    '/messages/:messageId',
    { schema: { tags, summary: 'Edit one of our messages on the platform (message:edit, within its window)', params: MessageParams, querystring: NoQuery, body: MessageEditBody, response: { 200: MessageSchema, ...errorResponses } } },
    async (req) => {
      const { teamId } = req.actor;
      const { messageId } = req.params;
      const { thread } = await getMessageRow(ctx, teamId, messageId);
      await editMessage(ctx, teamId, thread.id, messageId, req.body.content, PLATFORM_MESSAGE_RULES).catch(asMessageNotFound(messageId));
      return presented(teamId, messageId);
    },
  );

  api.delete(
    '/messages/:messageId',
    {
      schema: {
        tags,
        summary: 'Delete a message for the account link (scope=self) or unsend it for everyone (scope=all)',
        params: MessageParams,
        querystring: UnsendQuery,
        response: { 200: MessageDeletionSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { teamId } = req.actor;
      const { messageId } = req.params;
      const { scope } = req.query;
      const { thread } = await getMessageRow(ctx, teamId, messageId);
      const { deletedAt } = await deleteMessage(ctx, teamId, thread.id, messageId, scope, PLATFORM_MESSAGE_RULES).catch(asMessageNotFound(messageId));
      return { messageId, scope, deletedAt };
    },
  );

  api.get(
    '/messages/:messageId/history',
    { schema: { tags, summary: "Every version of a message's text, and its deletion", params: MessageParams, querystring: NoQuery, response: { 200: MessageHistorySchema, ...errorResponses } } },
    async (req) => {
      const { teamId } = req.actor;
      const { messageId } = req.params;
      const { thread } = await getMessageRow(ctx, teamId, messageId);
      return v2History(await messageHistory(ctx, teamId, thread.id, messageId).catch(asMessageNotFound(messageId)));
    },
  );

  /** Adds or removes the account link's reaction; answers the message's reactions after it. */
  const react = async (teamId: string, messageId: string, emoji: string, present: boolean) => {
    const { thread } = await getMessageRow(ctx, teamId, messageId);
    const { version } = await setReaction(ctx, teamId, thread.id, messageId, emoji, present, PLATFORM_MESSAGE_RULES).catch(asMessageNotFound(messageId));
    return { reactions: (await presented(teamId, messageId)).reactions, version };
  };
  api.post(
    '/messages/:messageId/reactions',
    { schema: { tags, summary: "Add the account link's reaction (message:react); adding it again changes nothing", params: MessageParams, querystring: NoQuery, body: ReactionChangeBody, response: { 200: ReactionsSchema, ...errorResponses } } },
    async (req) => react(req.actor.teamId, req.params.messageId, req.body.emoji, true),
  );
  api.delete(
    '/messages/:messageId/reactions',
    { schema: { tags, summary: "Remove the account link's reaction; removing one it does not have changes nothing", params: MessageParams, querystring: UnreactQuery, response: { 200: ReactionsSchema, ...errorResponses } } },
    async (req) => react(req.actor.teamId, req.params.messageId, req.query.emoji, false),
  );

  api.get(
    '/messages/:messageId/attachments/:index',
    {
      schema: {
        tags,
        summary: "A message's medium by index, with the platform's URL of its bytes (neither stored nor proxied here)",
        params: AttachmentParams,
        querystring: NoQuery,
        response: { 200: AttachmentMediaSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { message } = await getMessageRow(ctx, req.actor.teamId, req.params.messageId);
      const { index } = req.params;
      const attachment = message.attachments[index];
      if (!attachment) throw invalidRequest([{ path: ['index'], message: `the message has ${message.attachments.length} attachment(s)` }]);
      if (isCard(attachment)) throw invalidRequest([{ path: ['index'], message: 'is a link card, which has no media: it is in the message itself' }]);
      return v2Media(attachment, index);
    },
  );
}
