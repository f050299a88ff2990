import { z } from 'zod';
import { PLATFORM_USER_ID } from '../../platforms/registry.js';
import { IdSchema, NullableTimestamp, TimestampSchema } from './common.js';

export const PlatformSchema = z.enum(['twitter', 'sandbox']).describe('"sandbox" is the simulated X for tests and demos');

/** A platform user id, in the form the platforms use (platforms/registry.ts). */
export const PlatformIdSchema = z.string().regex(PLATFORM_USER_ID.pattern, PLATFORM_USER_ID.message);

export const ProspectSchema = z
  .object({
    platform: PlatformSchema,
    platformId: z.string(),
    externalId: z.string().nullable().describe('our id of this prospect (use it in /prospects/{prospectId})'),
    documentId: z.number().nullable(),
    displayName: z.string(),
    username: z.string(),
    handle: z.string(),
    image: z.string().nullable(),
    imageNormalized: z.string().nullable(),
    bio: z.string().nullable(),
    location: z.string().nullable(),
    profileUrl: z.string(),
    websiteUrl: z.string().nullable(),
    websiteDomain: z.string().nullable(),
    verified: z.enum(['none', 'verified', 'business', 'government']),
    profileType: z.enum(['personal', 'business', 'government']),
    isProtected: z.boolean(),
    followerCount: z.number(),
    followingCount: z.number(),
    postCount: z.number(),
    engagementCount: z.number().nullable(),
    listedCount: z.number().nullable(),
    platformCreatedAt: NullableTimestamp,
    firstSeenAt: NullableTimestamp,
    lastUpdatedAt: TimestampSchema,
    lastEnrichedAt: NullableTimestamp,
    lastActiveAt: NullableTimestamp,
    source: z.enum(['cached', 'indexed', 'live', 'merged']),
    isFresh: z.boolean(),
    isStale: z.boolean(),
    confidence: z.number().min(0).max(1),
    accountStatus: z.string(),
    platformData: z.object({
      isVerifiedBlue: z.boolean(),
      isVerifiedGold: z.boolean(),
      isVerifiedGray: z.boolean(),
      professionalCategory: z.string().nullable(),
      urlEntities: z.array(
        z.object({ url: z.string(), expandedUrl: z.string(), displayUrl: z.string(), indices: z.tuple([z.number(), z.number()]) }),
      ),
      bannerUrl: z.string().nullable(),
      tweetsCount: z.number(),
      favoritesCount: z.number(),
      rawData: z.record(z.string(), z.unknown()).nullable(),
    }),
  })
  .meta({ id: 'Prospect' });

export const ProspectContextSchema = z.object({
  tags: z.array(IdSchema),
  statusId: IdSchema.nullable(),
  valuation: z.number().nullable(),
  notes: z.string().nullable(),
  assigneeId: IdSchema.nullable().describe('member id; the prospect-level assignee'),
  threads: z
    .array(z.object({ id: IdSchema, accountLinkId: IdSchema, lastMessageTimestamp: NullableTimestamp, createdAt: TimestampSchema }))
    .nullish()
    .describe('every thread with this prospect across account links (prospect get and lookup)'),
});

export const ProspectWithContextSchema = ProspectSchema.extend({ context: ProspectContextSchema }).meta({ id: 'ProspectWithContext' });

export const ProspectParams = z.object({ prospectId: IdSchema });

export const ProspectLookupQuery = z.object({ platformId: PlatformIdSchema });

export const ContextBody = z
  .object({
    notes: z.string().max(10_000).nullable(),
    valuation: z.number().finite().nullable(),
    statusId: IdSchema.nullable(),
    addTags: z.array(IdSchema).max(100),
    removeTags: z.array(IdSchema).max(100),
    assigneeId: IdSchema.nullable().describe('member id; applied to every thread with the prospect'),
    done: z.boolean().describe('archives or re-opens every thread with the prospect'),
  })
  .partial()
  .nullish();
