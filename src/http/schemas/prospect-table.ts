import { z } from 'zod';
import { MAX_BULK_PROSPECTS } from '../../app/prospects/bulk.js';
import { PROSPECT_SORTS } from '../../app/prospects/table.js';
import { IdSchema, QueryBoolean, queryArray } from './common.js';
import { ProspectWithContextSchema } from './prospects.js';

export const ProspectTableQuery = z.object({
  tagIds: queryArray(IdSchema).optional().describe('prospects with any of these tags'),
  statusIds: queryArray(IdSchema).optional().describe('prospects with any of these statuses'),
  noStatus: QueryBoolean.optional().describe('also (or only) prospects without a status'),
  assigneeIds: queryArray(IdSchema).optional().describe('prospects assigned to any of these members'),
  noAssignee: QueryBoolean.optional().describe('also (or only) unassigned prospects'),
  listId: IdSchema.optional().describe('members of this list (system lists included)'),
  campaignId: IdSchema.optional().describe('leads of this campaign'),
  q: z.string().max(200).optional().describe('text found in the name or username'),
  sort: z.enum(PROSPECT_SORTS).default('createdAt'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: z.string().max(2000).optional().describe('the nextCursor of the previous page, with the same filters and sort'),
});

export const ProspectTablePageSchema = z
  .object({
    prospects: z.array(ProspectWithContextSchema),
    total: z.number().int().describe('prospects matching the filters, over all pages'),
    nextCursor: z.string().nullable().describe('opaque; null on the last page'),
  })
  .meta({ id: 'ProspectTablePage' });

const tagIds = z.array(IdSchema).min(1).max(100);

export const BulkActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('addTags'), tagIds }),
  z.object({ type: z.literal('removeTags'), tagIds }),
  z.object({ type: z.literal('setStatus'), statusId: IdSchema.nullable().describe('null clears the status') }),
  z.object({ type: z.literal('assign'), assigneeId: IdSchema.nullable().describe('member id; null unassigns; applied to every thread with each prospect') }),
  z.object({ type: z.literal('addToList'), listId: IdSchema }),
  z.object({ type: z.literal('addToCampaign'), campaignId: IdSchema }),
]);

export const BulkBody = z.object({
  prospectIds: z.array(IdSchema).min(1).max(MAX_BULK_PROSPECTS).describe(`prospect ids (externalId), 1-${MAX_BULK_PROSPECTS}`),
  action: BulkActionSchema,
});

export const BulkResultSchema = z
  .object({
    changed: z.number().int().describe('prospects the action changed (added, for a list or a campaign)'),
    unchanged: z.number().int().describe('prospects already so, already in the list or campaign, or kept out by its rules'),
  })
  .meta({ id: 'BulkResult' });
