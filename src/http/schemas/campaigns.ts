import { z } from 'zod';
import { MAX_ACCOUNT_LINKS, MESSAGES_PER_HOUR } from '../../app/campaigns/campaigns.js';
import { WEEKDAYS } from '../../core/schedule.js';
import { DELAY_UNITS } from '../../core/sequence.js';
import { IdSchema, NullableTimestamp, queryArray, TimestampSchema } from './common.js';
import { NextCursorSchema, paginationQuery } from './pagination.js';
import { PlatformIdSchema } from './prospects.js';

/*
 * Shapes only: bounds that keep a request small. What a value means (a real time zone, start before end, a
 * variable that exists, a delay within bounds) is checked by the use cases with the core's validators.
 */

export const CampaignStatusSchema = z.enum(['draft', 'active', 'paused', 'completed']);

export const CampaignParams = z.object({ campaignId: IdSchema });
export const ColumnIdSchema = z.string().regex(/^custom_[0-9a-z]+$/, 'must be a column id such as custom_q5cktl47a6pqa74eu06fz89v');
export const ColumnParams = z.object({ campaignId: IdSchema, columnId: ColumnIdSchema });

const ScheduleSchema = z
  .partialRecord(z.enum(WEEKDAYS), z.object({ start: z.number(), end: z.number() }))
  .describe('"0" (Sunday) to "6" (Saturday) -> {start, end}, minutes after local midnight (0-1440, start < end); a missing day means no sending');

const settings = {
  name: z.string().min(1).max(255),
  description: z.string().max(2000).nullable(),
  accountLinkIds: z.array(IdSchema).max(MAX_ACCOUNT_LINKS).describe('the team account links to send from'),
  messagesPerHour: z.number().int().min(MESSAGES_PER_HOUR.min).max(MESSAGES_PER_HOUR.max).describe('per linked account'),
  timezone: z.string().min(1).max(100).describe('an IANA time zone such as America/New_York'),
  schedule: ScheduleSchema,
};

export const CreateCampaignBody = z.object(settings).partial().required({ name: true });
export const UpdateCampaignBody = z.object(settings).partial();

export const CampaignListQuery = z.object({
  status: queryArray(CampaignStatusSchema).optional().describe('only campaigns in these states'),
  ...paginationQuery(20),
});

// Sequences (spec 4.13).
const text = z.string().max(10_000);
const SegmentSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('static'), text }),
    z.object({
      type: z.literal('variable'),
      name: z.string().min(1).max(255).describe('a built-in (first-name, last-name, display-name, username, location, bio) or a column id'),
      fallback: z.string().max(1000).optional(),
    }),
    z.object({ type: z.literal('variation'), options: z.array(text).max(50).describe('one is picked per lead') }),
  ])
  .meta({ id: 'Segment' });

const stepShapes = {
  message: z.object({ type: z.literal('message'), data: z.object({ segments: z.array(SegmentSchema).max(100) }) }),
  delay: z.object({
    type: z.literal('delay'),
    data: z.object({
      delaySeconds: z.number().describe('60 (one minute) to 7776000 (90 days) after the previous step'),
      unit: z.enum(DELAY_UNITS).describe('the unit the delay is shown in'),
    }),
  }),
  likeTweet: z.object({ type: z.literal('likeTweet'), data: z.object({}).strict().optional() }),
};

export const PutSequenceBody = z.object({
  steps: z.array(z.discriminatedUnion('type', [stepShapes.message, stepShapes.delay, stepShapes.likeTweet])).max(50),
});

/** A step as stored: the input step plus its id, rank and whatever `extra` a shape adds. */
const storedStep = <T extends z.ZodRawShape>(extra: T) => {
  const stored = { id: IdSchema, rank: z.number().int(), ...extra };
  return z.discriminatedUnion('type', [
    stepShapes.message.extend(stored),
    stepShapes.delay.extend(stored),
    stepShapes.likeTweet.extend({ ...stored, data: z.object({}) }),
  ]);
};
export const StepSchema = storedStep({}).meta({ id: 'Step' });

export const SequenceSchema = z.object({ version: z.number().int(), steps: z.array(StepSchema) }).meta({ id: 'Sequence' });
export const SequenceVersionSchema = SequenceSchema.extend({ createdAt: TimestampSchema }).meta({ id: 'SequenceVersion' });

export const PreviewBody = z
  .object({
    platformId: PlatformIdSchema.optional().describe("a prospect's platform id; omitted = a sample lead"),
    steps: PutSequenceBody.shape.steps
      .optional()
      .describe('a draft to render instead of the saved sequence, validated as PUT .../sequence validates it (our extension); nothing is saved'),
  })
  .nullish();

export const SequencePreviewSchema = z
  .object({
    version: z.number().int().nullable().describe('the saved version rendered; null for a draft'),
    lead: z.object({
      prospectId: IdSchema.nullable().describe('null for the made-up sample lead'),
      platformId: z.string().nullable(),
      username: z.string(),
      displayName: z.string(),
      inCampaign: z.boolean().describe('whether the campaign column values of this lead were used'),
    }),
    messages: z.array(z.object({ stepId: IdSchema.nullable().describe('null for a draft step (ids are given when saved)'), rank: z.number().int(), text: z.string() })),
  })
  .meta({ id: 'SequencePreview' });

// Columns (spec 4.14).
export const ColumnSchema = z
  .object({
    id: ColumnIdSchema,
    name: z.string(),
    type: z.enum(['text', 'number', 'url', 'date']),
    description: z.string().nullable(),
    createdAt: TimestampSchema,
    updatedAt: NullableTimestamp,
  })
  .meta({ id: 'Column' });

const columnName = z.string().min(1).max(255);
const columnDescription = z.string().max(1000).nullable();
export const CreateColumnBody = z.object({
  name: columnName,
  type: ColumnSchema.shape.type.optional().describe('defaults to text'),
  description: columnDescription.optional(),
});
export const UpdateColumnBody = z.object({ name: columnName.optional(), description: columnDescription.optional() });

// Automations (spec 4.15).
const trigger = z.enum(['replied', 'contacted', 'completed']).describe('completed = finished the sequence without replying');
const actions = [
  z.object({ action: z.literal('setStatus'), actionData: z.object({ statusId: IdSchema }) }),
  z.object({ action: z.literal('addTag'), actionData: z.object({ tagId: IdSchema }) }),
  z.object({ action: z.literal('assign'), actionData: z.object({ memberId: IdSchema }) }),
] as const;

const automation = <T extends z.ZodRawShape>(extra: T) =>
  z.discriminatedUnion('action', [actions[0].extend(extra), actions[1].extend(extra), actions[2].extend(extra)]);

export const PutAutomationsBody = z.array(automation({ trigger, enabled: z.boolean().optional().describe('defaults to true') })).max(50);
export const AutomationSchema = automation({ id: IdSchema, trigger, enabled: z.boolean() }).meta({ id: 'Automation' });

// The campaign in its two shapes (spec 4.12).
const RulesSchema = z
  .object({
    syncedLists: z.array(z.object({ listId: IdSchema, listName: z.string(), columnMapping: z.record(z.string(), z.string()) })),
    excludedLists: z.array(z.object({ listId: IdSchema, listName: z.string() })),
    excludeContacted: z.boolean(),
    excludeMutuals: z.boolean(),
  })
  .meta({ id: 'LeadRules' });

const counters = {
  targetsCount: z.number().int(),
  contactedCount: z.number().int(),
  completionRate: z.number().describe('leads that completed their whole sequence / targets, 0 when there are no targets'),
  replyRate: z.number().describe('replied / contacted, 0 when nobody was contacted'),
};

const common = {
  id: IdSchema,
  name: z.string(),
  description: z.string().nullable(),
  status: CampaignStatusSchema,
  ...counters,
  createdAt: TimestampSchema,
  updatedAt: NullableTimestamp,
  pausedAt: NullableTimestamp,
  completedAt: NullableTimestamp,
  accountLinkIds: z.array(IdSchema),
  automations: z.array(AutomationSchema),
};

export const CampaignSchema = z
  .object({
    ...common,
    enabled: z.boolean(),
    isSimulated: z.boolean(),
    repliedCount: z.number().int(),
    messagesPerHour: z.number().int(),
    timezone: z.string(),
    schedule: ScheduleSchema,
    isRebalancing: z.boolean(),
    isSyncing: z.boolean(),
    scopeAssessedCount: z.number().int(),
    rules: RulesSchema,
    sequence: SequenceSchema,
    startedAt: NullableTimestamp,
    pauseReason: z.string().nullable().describe("why a paused campaign is paused: 'manual' when paused through the API"),
  })
  .meta({ id: 'Campaign' });

export const CampaignPageSchema = z.object({ campaigns: z.array(CampaignSchema), nextCursor: NextCursorSchema });

export const CampaignV1Schema = z
  .object({
    ...common,
    dryRun: z.boolean(),
    repliesCount: z.number().int(),
    lastStartedAt: NullableTimestamp,
    type: z.literal('sequence'),
    hourlyMessageRate: z.number().int(),
    scheduleTimezone: z.string(),
    scheduleHours: ScheduleSchema,
    estimatedTargets: z.number().int(),
    isHydrating: z.boolean(),
    isBuildingPlan: z.boolean(),
    steps: z.array(storedStep({ campaignVersion: z.number().int().describe('the sequence version the step belongs to') })),
    lists: z.array(z.object({ listId: IdSchema, exclude: z.boolean() })),
    customVariables: z.record(z.string(), z.object({ displayName: z.string(), description: z.string().nullable() })),
  })
  .meta({ id: 'CampaignV1' });

// Results per step and per variation (GET .../stats, our extension).
const tally = {
  sent: z.number().int().describe('messages sent'),
  replied: z.number().int().describe('leads whose reply came after this message (their last one before replying)'),
  replyRate: z.number().describe('replied / sent, 0 when nothing was sent'),
};

export const CampaignStatsSchema = z
  .object({
    steps: z.array(
      z.object({
        stepId: IdSchema,
        version: z.number().int().describe('the sequence version the step belongs to'),
        rank: z.number().int(),
        current: z.boolean().describe('whether the step is in the current sequence'),
        ...tally,
        variations: z.array(
          z.object({
            segment: z.number().int().describe("the variation segment's position in the message"),
            options: z.array(z.object({ option: z.number().int(), text: z.string(), ...tally })),
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'CampaignStats' });
