import { z } from 'zod';
import { IdSchema, NullableTimestamp, QueryBoolean, queryArray, TimestampSchema } from './common.js';
import { paginationQuery, NextCursorSchema } from './pagination.js';
import { PlatformIdSchema, PlatformSchema, ProspectWithContextSchema } from './prospects.js';

export const ThreadSchema = z
  .object({
    id: IdSchema,
    platform: PlatformSchema,
    platformId: z.string().describe('the conversation id: both user ids, smaller first, joined by ":"'),
    done: z.boolean(),
    assigneeId: IdSchema.nullable(),
    lastMessageTimestamp: NullableTimestamp,
    computedSortTimestamp: NullableTimestamp,
    createdAt: TimestampSchema,
    status: z.enum(['active', 'idle']),
    variant: z.enum(['unencrypted', 'xChat']),
    accountLinkId: IdSchema,
    isSyncing: z.boolean(),
    isRequest: z.boolean(),
    typingIndicatorsEnabled: z.boolean().nullable(),
    lastMessage: z
      .object({
        id: IdSchema,
        content: z.string(),
        authorId: z.string(),
        createdAt: TimestampSchema,
        userId: IdSchema.nullable(),
        campaignId: IdSchema.nullable(),
      })
      .nullable(),
    prospect: ProspectWithContextSchema,
    unread: z.boolean().describe('a message from the prospect arrived after a member of the team last read the thread'),
  })
  .meta({ id: 'Thread' });

export const ThreadParams = z.object({ threadId: IdSchema });

const prospectRef = {
  externalPlatformId: PlatformIdSchema.optional().describe("the prospect's platform user id"),
  externalId: IdSchema.optional().describe("the prospect's id (Prospect.externalId)"),
};

/** Requests that name a prospect do so by exactly one of its two ids. */
export function withOneProspectRef<T extends z.ZodObject>(schema: T) {
  return schema.superRefine((value, ctx) => {
    const given = ['externalPlatformId', 'externalId'].filter((key) => (value as Record<string, unknown>)[key] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['externalId'], message: 'give exactly one of externalPlatformId and externalId' });
    }
  });
}

export const ThreadTargetSchema = z.object({ accountLinkId: IdSchema, ...prospectRef });

export const CreateThreadBody = withOneProspectRef(ThreadTargetSchema);
export const LookupThreadQuery = withOneProspectRef(ThreadTargetSchema);

export const LookupByUsernameQuery = z.object({
  username: z.string().min(1).max(64),
  accountLinkIds: queryArray(IdSchema).optional(),
});

const selection = <K extends string>(noKey: K) =>
  z.object({ selectedIds: queryArray(IdSchema).optional(), ...({ [noKey]: QueryBoolean.optional() } as Record<K, z.ZodOptional<typeof QueryBoolean>>) });

const InboxViewSchema = z.enum(['default', 'no-reply', 'requests', 'archived']);

export const ThreadListQuery = z.object({
  inbox: InboxViewSchema.default('default'),
  accountLinkIds: queryArray(IdSchema).optional(),
  filters: z
    .object({
      tags: selection('noTags'),
      statuses: selection('noStatus'),
      assignees: selection('noAssignee'),
      campaigns: selection('noCampaign'),
      sortOrder: z.enum(['asc', 'desc']),
    })
    .partial()
    .optional(),
  unread: QueryBoolean.optional(),
  q: z.string().max(200).optional().describe("search: the words as prefixes of the prospect's name or username or of message text; blank means none"),
  ...paginationQuery(20),
});

export const ThreadCountsQuery = z.object({
  inbox: InboxViewSchema.default('default').describe('the view that mine, unassigned and accounts count within'),
});

export const ThreadCountsSchema = z
  .object({
    views: z.object({ default: z.number().int(), 'no-reply': z.number().int(), requests: z.number().int(), archived: z.number().int() }),
    mine: z.number().int().describe("unread threads of the view assigned to the caller's membership"),
    unassigned: z.number().int(),
    accounts: z.record(IdSchema, z.number().int()).describe('per account link id; links with no unread thread in the view are left out'),
  })
  .describe('unread threads (our extension: the vendor has no counts)')
  .meta({ id: 'ThreadCounts' });

export const ThreadPageSchema = z.object({ threads: z.array(ThreadSchema), nextCursor: NextCursorSchema });

export const UpdateThreadBody = z.object({ done: z.boolean(), assigneeId: IdSchema.nullable(), unread: z.boolean() }).partial().nullish();

export const TypingResultSchema = z.object({
  status: z.enum(['sent', 'skipped']),
  reason: z.enum(['rateLimited', 'typingDisabled', 'unsupported', 'outboundDisabled']).optional(),
});

export const ThreadSettingsBody = z.object({ typingIndicatorsEnabled: z.boolean().nullable() }).partial().nullish();
export const ThreadSettingsSchema = z.object({ threadId: IdSchema, typingIndicatorsEnabled: z.boolean().nullable() });
