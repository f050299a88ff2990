import { z } from 'zod';
import { MAX_LEADS_PER_ADD, type LeadInput } from '../../app/leads/input.js';
import { ColumnIdSchema } from './campaigns.js';
import { IdSchema, NullableTimestamp, TimestampSchema } from './common.js';
import { NextCursorSchema, paginationQuery } from './pagination.js';
import { PlatformIdSchema, PlatformSchema, ProspectWithContextSchema } from './prospects.js';

export const ListParams = z.object({ listId: IdSchema });
export const ListColumnParams = z.object({ listId: IdSchema, columnId: ColumnIdSchema });
export const ListLeadParams = z.object({ listId: IdSchema, platformId: PlatformIdSchema });

export const ListSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    description: z.string().nullable(),
    leadsCount: z.number().int(),
    systemType: z.enum(['contacted', 'mutual']).nullable().describe('system lists are kept up to date automatically and cannot be edited'),
    createdAt: TimestampSchema,
    updatedAt: NullableTimestamp,
  })
  .meta({ id: 'List' });

const name = z.string().min(1).max(255);
const description = z.string().max(1000).nullable();
export const CreateListBody = z.object({ name, description: description.optional() });
export const UpdateListBody = z.object({ name: name.optional(), description: description.optional() });

/** Column id → value; values are checked against the list's column types. */
const LeadData = z.record(z.string(), z.unknown()).describe('column id -> value (text, number, url or date as the column says; null clears)');

export const ListLeadSchema = z
  .object({ prospect: ProspectWithContextSchema, data: z.record(z.string(), z.unknown()), addedAt: TimestampSchema })
  .meta({ id: 'ListLead' });
export const ListLeadPageSchema = z.object({ leads: z.array(ListLeadSchema), nextCursor: NextCursorSchema });
export const ListLeadsQuery = z.object(paginationQuery(50));

const identifiers = (what: string) => z.array(z.string().min(1).max(255)).min(1).max(MAX_LEADS_PER_ADD).describe(`${what}, 1-${MAX_LEADS_PER_ADD}`);

const LeadItem = z
  .object({
    platformId: z.string().min(1).max(255).optional(),
    username: z.string().min(1).max(255).optional(),
    externalId: z.string().min(1).max(255).optional(),
    platform: PlatformSchema.optional(),
    data: LeadData.optional(),
  })
  .refine((l) => [l.platformId, l.username, l.externalId].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of platformId, username and externalId',
  });

export const AddLeadsBody = z
  .object({
    platform: PlatformSchema.optional().describe("ignored: leads resolve on the platform of the team's linked accounts"),
    platformIds: identifiers('X user ids'),
    usernames: identifiers('handles without @'),
    externalIds: identifiers('prospect ids (externalId)'),
    leads: z.array(LeadItem).min(1).max(MAX_LEADS_PER_ADD).describe('leads each named by exactly one identifier, with optional column values'),
  })
  .partial()
  .refine((b) => b.platformIds || b.usernames || b.externalIds || b.leads, { message: 'give platformIds, usernames, externalIds or leads' });

export const AddLeadsResultSchema = z
  .object({
    added: z.array(z.string()).describe('identifiers, as given, of the leads added'),
    skipped: z.array(z.string()).describe('already in the list'),
    failed: z.array(z.string()).describe('could not be resolved: unknown, suspended or deactivated accounts'),
  })
  .meta({ id: 'AddListLeadsResult' });

export const RemoveLeadsBody = z.object({ platformIds: z.array(PlatformIdSchema).min(1).max(MAX_LEADS_PER_ADD) });
export const UpdateLeadBody = z.object({ data: LeadData });
export const UpdateLeadResultSchema = z.object({ prospect: ProspectWithContextSchema, data: z.record(z.string(), z.unknown()) });

const REF_KINDS = ['platformId', 'username', 'externalId'] as const;

/** The add body's identifier arrays, then its leads[], as one list of inputs (campaign adds share the shape). */
export function leadInputsOf(body: z.infer<typeof AddLeadsBody>): LeadInput[] {
  const named = REF_KINDS.flatMap((by) => (body[`${by}s`] ?? []).map((value) => ({ ref: { by, value } })));
  const leads = (body.leads ?? []).map((lead) => {
    const by = REF_KINDS.find((k) => lead[k] !== undefined)!;
    return { ref: { by, value: lead[by]! }, data: lead.data };
  });
  return [...named, ...leads];
}
