import { z } from 'zod';
import { IdSchema, NullableTimestamp, queryArray, TimestampSchema } from './common.js';
import { CampaignStatusSchema, ColumnIdSchema } from './campaigns.js';
import { UpdateLeadBody, UpdateLeadResultSchema } from './lists.js';
import { NextCursorSchema, paginationQuery } from './pagination.js';
import { PlatformSchema, ProspectWithContextSchema } from './prospects.js';

/** Lead rules (PATCH .../rules, spec 3.13) and campaign leads (spec 3.13, 4.17). */

/** Enough lists for any real targeting; bounds the union the sync walks. */
const MAX_RULE_LISTS = 20;
const listIds = (what: string) => z.array(IdSchema).max(MAX_RULE_LISTS).describe(`${what} (user lists; [] clears)`);

export const LeadRulesBody = z.object({
  syncedListIds: listIds('lists that feed the campaign'),
  excludedListIds: listIds('lists whose leads are kept out, even when a synced list holds them'),
  columnMappings: z
    .record(IdSchema, z.record(ColumnIdSchema, ColumnIdSchema))
    .describe('synced list id -> {list column id: campaign column id}; replaces every mapping when given'),
  excludeContacted: z.boolean().describe('keep out anyone a linked account of the team has DMed'),
  excludeMutuals: z.boolean().describe('keep out anyone with DMs in both directions'),
  detachBehavior: z
    .enum(['unlink', 'remove'])
    .describe('for lists no longer synced: unlink (default) keeps their leads as direct leads; remove drops those only they brought and not yet contacted'),
}).partial();

export const SuccessSchema = z.object({ success: z.literal(true) });

const LeadStateSchema = z.enum(['pending', 'active', 'replied', 'completed', 'cancelled', 'failed', 'excluded']);

const until = (what: string) => NullableTimestamp.describe(what);

/** Why a lead has not been messaged yet: read off the engine's own plan (our extension; docs/api-notes.md). */
export const WaitingForSchema = z
  .discriminatedUnion('reason', [
    z.object({ reason: z.literal('window').describe("the campaign's schedule is closed"), until: until('its next opening (null: the schedule never opens)') }),
    z.object({
      reason: z.literal('accountPace').describe("the campaign's messagesPerHour on this lead's account"),
      until: TimestampSchema.describe('when the pace lets it go'),
      messagesPerHour: z.number().int(),
    }),
    z.object({
      reason: z.literal('accountLimit').describe("the account's hourly or daily ceiling, across all its campaigns"),
      until: TimestampSchema.describe('when the ceiling lets it go'),
      limit: z.enum(['hourly', 'daily']),
      max: z.number().int().describe("the account's hourlyLimit or dailyLimit"),
    }),
    z.object({ reason: z.literal('delay').describe('a delay step of the sequence'), until: TimestampSchema.describe('when the next step falls due') }),
    z.object({
      reason: z.literal('accountUnavailable').describe('its account cannot send'),
      until: until('when the platform lifts its rate limit (null: offline or paused until someone acts)'),
      accountStatus: z.enum(['offline', 'paused', 'rateLimited']),
    }),
    z.object({ reason: z.literal('campaignPaused').describe('the campaign is a draft or was paused'), until: z.null() }),
    z.object({
      reason: z.literal('queued').describe("other leads of this campaign on the same account go first (or, with until null and ahead 0, the engine is about to give it an account)"),
      until: until('its own send, when known'),
      ahead: z.number().int().describe("leads of this campaign on its account that go before it"),
    }),
  ])
  .meta({
    id: 'LeadWaitingFor',
    description:
      'Why the lead has not been messaged yet, from the same plan the engine sends by: the constraint that decides nextSendAt (a step due at 08:00 in a window opening at 09:00 waits for the window)',
  });

export const CampaignLeadSchema = z
  .object({
    id: IdSchema,
    prospect: ProspectWithContextSchema,
    state: LeadStateSchema,
    accountLinkId: IdSchema.nullable().describe('the linked account that contacts this lead'),
    currentStep: z.number().int().nullable().describe('rank of the step an in-flight lead is at'),
    nextStepAt: NullableTimestamp.describe('when the engine sends the next step if nothing changes: the same as nextSendAt'),
    lastContactAt: NullableTimestamp,
    contactedAt: NullableTimestamp,
    repliedAt: NullableTimestamp,
    failureReason: z
      .string()
      .nullable()
      .describe('why it failed, or (state excluded) why the rules keep it out: excluded_list, contacted, mutual, not_found, suspended, deactivated, dms_closed'),
    nextSendAt: NullableTimestamp.describe(
      "when the engine sends the lead's next step if nothing changes (new leads, replies, edits, accounts going offline change it); null when not known (too far back in its queue) or never",
    ),
    waitingFor: WaitingForSchema.nullable().describe('null when the lead is not waiting: it goes out now, is being sent, or has nothing left to send'),
    source: z.object({ direct: z.boolean().describe('added directly (or kept when its list was unlinked)'), listIds: z.array(IdSchema).describe('synced lists holding it') }),
    data: z.record(z.string(), z.unknown()),
    createdAt: TimestampSchema,
    updatedAt: NullableTimestamp,
  })
  .meta({ id: 'CampaignLead' });

export const CampaignLeadPageSchema = z.object({ leads: z.array(CampaignLeadSchema), nextCursor: NextCursorSchema });
export const CampaignLeadsQuery = z.object({ state: queryArray(LeadStateSchema).optional().describe('only leads in these states'), ...paginationQuery(50) });

export const AddCampaignLeadsResultSchema = z
  .object({
    added: z.number().int(),
    skipped: z.number().int().describe('already in the campaign, or kept out by its rules'),
    failed: z.number().int().describe('could not be resolved: unknown, suspended or deactivated accounts'),
    failures: z
      .array(z.object({ identifier: z.string().describe('as given'), reason: z.enum(['not_found', 'suspended', 'deactivated']) }))
      .describe('each identifier that failed and why (our extension), in the order given'),
  })
  .meta({ id: 'AddCampaignLeadsResult' });

export const LeadParams = z.object({ campaignId: IdSchema, identifier: z.string().min(1).max(255) });

const naming = {
  by: z.enum(['platformId', 'username', 'externalId']).default('platformId').describe('how to read the identifier'),
  platform: PlatformSchema.optional().describe("ignored: leads are the team's prospects whatever their platform"),
};
export const CancelLeadBody = z.object(naming).partial().nullish();
export const LeadQuery = z.object({ by: naming.by });
export const UpdateCampaignLeadBody = UpdateLeadBody.extend(naming);
export { UpdateLeadResultSchema };

/** A campaign a prospect is a lead of, with the lead's state there (GET /prospects/{id}/campaigns, our extension). */
export const ProspectCampaignSchema = z
  .object({
    campaignId: IdSchema,
    name: z.string(),
    status: CampaignStatusSchema.describe("the campaign's own status"),
    state: LeadStateSchema.describe("the prospect's state as a lead of it"),
    contactedAt: NullableTimestamp,
    repliedAt: NullableTimestamp,
    failureReason: z.string().nullable(),
    addedAt: TimestampSchema,
  })
  .meta({ id: 'ProspectCampaign' });
