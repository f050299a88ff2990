import { z } from 'zod';
import { IdSchema, NullableTimestamp, TimestampSchema } from './common.js';
import { NextCursorSchema, paginationQuery } from './pagination.js';
import { PlatformSchema } from './prospects.js';
import { ThreadTargetSchema, withOneProspectRef } from './threads.js';

/** X's own DM length limit. */
export const MessageContent = z.string().min(1).max(10_000);

const Origin = z.enum(['internal', 'external', 'api']).nullable();

export const ReactionSchema = z.object({ emoji: z.string(), senderPlatformId: z.string(), createdAt: TimestampSchema });

export const MessageSchema = z
  .object({
    id: IdSchema,
    platform: PlatformSchema,
    platformId: z.string().nullable(),
    teamId: IdSchema,
    threadId: IdSchema,
    authorId: z.string().describe("the thread's accountLinkId when we sent it, else the prospect's externalId"),
    userId: IdSchema.nullable().describe('the Inbox user who sent it (not a member id)'),
    campaignId: IdSchema.nullable(),
    content: z.string(),
    origin: Origin,
    createdAt: TimestampSchema,
    updatedAt: NullableTimestamp,
    isEdited: z.boolean(),
    isEncrypted: z.boolean().nullable(),
    replyData: z.object({ messageId: IdSchema }).nullable(),
    forwardData: z.unknown().nullable(),
    entities: z.unknown().nullable(),
    attachment: z.unknown().nullable(),
    reactions: z.array(ReactionSchema),
    deletedAt: NullableTimestamp,
    platformDeletedAt: NullableTimestamp,
  })
  .meta({ id: 'Message' });

export const MessageParams = z.object({ threadId: IdSchema, messageId: IdSchema });

export const MessageListQuery = z.object(paginationQuery(50));

export const MessagePageSchema = z.object({
  teamId: IdSchema,
  threadId: IdSchema,
  messages: z.array(MessageSchema),
  nextCursor: NextCursorSchema,
  isSyncing: z.boolean(),
});

export const SendMessageBody = z.object({ content: MessageContent, replyToMessageId: IdSchema.optional() });

export const QuickSendBody = withOneProspectRef(ThreadTargetSchema.extend({ content: MessageContent }));

export const QuickSendResultSchema = z.object({
  message: MessageSchema,
  thread: z.object({ id: IdSchema, platformId: z.string().nullable() }),
});

export const EditMessageBody = z.object({ content: MessageContent });
export const EditResultSchema = z.object({ success: z.boolean(), messageId: IdSchema, content: z.string(), editedAt: TimestampSchema });

export const DeleteMessageBody = z.object({ deleteForAll: z.boolean().default(true) }).nullish();
export const DeleteResultSchema = z.object({ success: z.boolean(), messageId: IdSchema, deletedAt: TimestampSchema });

export const MessageHistorySchema = z.object({
  versions: z.array(
    z.object({
      id: IdSchema,
      platformId: z.string().nullable(),
      platform: PlatformSchema,
      content: z.string(),
      authorId: z.string(),
      userId: IdSchema.nullable(),
      teamId: IdSchema,
      threadId: IdSchema,
      campaignId: IdSchema.nullable(),
      campaignStepId: IdSchema.nullable(),
      origin: Origin,
      editOrigin: Origin,
      replyData: z.unknown().nullable(),
      forwardData: z.unknown().nullable(),
      createdAt: TimestampSchema,
      isEncrypted: z.boolean().nullable(),
      expandedData: z.unknown().nullable(),
      entities: z.unknown().nullable(),
      attachment: z.unknown().nullable(),
      reactions: z.array(ReactionSchema),
    }),
  ),
  deletion: z
    .object({
      deletedAt: TimestampSchema,
      deletionType: z.enum(['self', 'all']),
      deletionAuthorPlatformId: z.string().nullable(),
      origin: Origin,
    })
    .nullable(),
});

export const ReactionBody = z.object({ emoji: z.string().trim().min(1).max(32) });
export const ReactionResultSchema = z.object({ success: z.boolean(), messageId: IdSchema });
