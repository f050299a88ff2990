import { z } from 'zod';
import { CAPABILITIES } from '../../core/platform-capabilities.js';
import { IdSchema, TimestampSchema } from '../schemas/common.js';

/**
 * API v2's schemas, after the vendor's document (shared/contract/inbox-v2-openapi.json): they validate requests,
 * shape responses and make the v2 OpenAPI document. They are registered in a registry of their own, so v2's
 * components (Thread, Message ...) never meet v1's of the same names.
 */
export const v2Registry = z.registry<{ id: string }>();
export function named<T extends z.ZodType>(id: string, schema: T): T {
  v2Registry.add(schema, { id });
  return schema;
}

const nullableString = z.string().nullable();
const timestamp = TimestampSchema;
export const PlatformName = z.string().min(1).describe('twitter or sandbox; treat as an open string');
const CapabilitySchema = z.enum(CAPABILITIES);
const capabilityMap = z.object(Object.fromEntries(CAPABILITIES.map((c) => [c, z.number().int().optional()]))).strict();
const Cuid2 = IdSchema;

export const page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export const TeamSchema = named(
  'Team',
  z.object({ id: z.string(), name: z.string(), slug: z.string(), imageUrl: nullableString, currency: z.string(), allowSupportAccess: z.boolean(), createdAt: timestamp }),
);

export const MemberSchema = named(
  'Member',
  z.object({ id: z.string(), name: nullableString, email: z.string(), imageUrl: nullableString, role: z.enum(['owner', 'admin', 'user']), createdAt: timestamp }),
);
export const MemberPageSchema = named('MemberPage', page(MemberSchema));

const stateSupport = z.object({ observe: z.boolean(), mutate: z.boolean() }).nullable();
export const PlatformInfoSchema = named(
  'PlatformInfo',
  z.object({
    platform: PlatformName,
    name: z.string(),
    usernamePrefix: z.string(),
    capabilities: z.array(CapabilitySchema),
    limits: z.object({
      characters: z.number().int().nullable(),
      mediaCount: z.number().int().nullable(),
      mediaBytes: z.number().int().nullable(),
      mediaTypes: z
        .object({ image: z.array(z.string()), video: z.array(z.string()), gif: z.array(z.string()), file: z.array(z.string()), audio: z.array(z.string()) })
        .partial()
        .nullable(),
    }),
    mutationWindows: capabilityMap,
    threadState: z.object({ archive: stateSupport, read: stateSupport }),
  }),
);

export const AccountLinkSchema = named(
  'AccountLink',
  z.object({
    id: z.string(),
    platform: PlatformName,
    platformId: z.string(),
    username: nullableString,
    displayName: nullableString,
    avatarUrl: nullableString,
    status: z.enum(['active', 'offline', 'paused']),
    pauseReasons: z.array(z.string()),
    capabilities: z.array(CapabilitySchema),
    syncedAt: timestamp.nullable(),
    createdAt: timestamp,
  }),
);
export const AccountLinkPageSchema = named('AccountLinkPage', page(AccountLinkSchema));

const twitterProfileData = z.object({
  _tag: z.literal('twitter'),
  badge: z.enum(['blue', 'gold', 'gray']).nullable(),
  profileType: z.enum(['personal', 'business', 'government']),
  professionalCategory: nullableString,
  urlEntities: z.array(z.object({ url: z.string(), expandedUrl: z.string(), displayUrl: z.string(), indices: z.tuple([z.number(), z.number()]) })),
  bannerUrl: nullableString,
  rawData: z.record(z.string(), z.unknown()).nullable(),
});
const otherPlatformData = z.object({ _tag: z.string() });

export const ProfileSchema = named(
  'Profile',
  z.object({
    id: z.string(),
    platform: PlatformName,
    platformId: z.string(),
    username: z.string(),
    handle: z.string(),
    displayName: z.string(),
    avatarUrl: nullableString,
    bio: nullableString,
    location: nullableString,
    websiteUrl: nullableString,
    websiteDomain: nullableString,
    verified: z.boolean(),
    isOrganization: z.boolean(),
    isProtected: z.boolean(),
    followerCount: z.number().nullable(),
    followingCount: z.number().nullable(),
    postCount: z.number().nullable(),
    engagementCount: z.number().nullable(),
    listedCount: z.number().nullable(),
    accountStatus: z.enum(['active', 'suspended', 'notFound']),
    platformCreatedAt: timestamp.nullable(),
    profileUrl: nullableString,
    updatedAt: timestamp,
    platformData: z.union([twitterProfileData, otherPlatformData]),
  }),
);

export const TagSchema = named('Tag', z.object({ id: z.string(), name: z.string(), color: z.string() }));
export const TagPageSchema = named('TagPage', page(TagSchema));
export const StatusSchema = named('Status', z.object({ id: z.string(), name: z.string(), color: nullableString, createdAt: timestamp }));
export const StatusPageSchema = named('StatusPage', page(StatusSchema));
export const ColorSchema = named('Color', z.object({ name: z.string(), hex: z.string() }));

export const ContactSchema = named(
  'Contact',
  z.object({
    id: z.string(),
    profiles: z.array(ProfileSchema),
    statusId: nullableString,
    tagIds: z.array(z.string()),
    notes: nullableString,
    valuation: z.number().nullable(),
    assigneeId: nullableString,
    createdAt: timestamp,
    updatedAt: timestamp,
    status: StatusSchema.optional(),
    tags: z.array(TagSchema).optional(),
    assignee: MemberSchema.optional(),
  }),
);
export const ContactPageSchema = named('ContactPage', page(ContactSchema));

const direction = z.enum(['inbound', 'outbound']);

export const ThreadSchema = named(
  'Thread',
  z.object({
    id: z.string(),
    platform: PlatformName,
    platformId: nullableString,
    accountLinkId: z.string(),
    profileId: z.string(),
    contactId: z.string(),
    assigneeId: nullableString,
    isRequest: z.boolean(),
    acceptanceState: z.enum(['required', 'notRequired', 'unknown']),
    archived: z.boolean(),
    unread: z.boolean(),
    restrictions: z.array(CapabilitySchema),
    syncing: z.boolean(),
    typingIndicators: z.enum(['enabled', 'disabled', 'teamDefault']),
    lastMessage: z.object({ id: z.string(), direction, createdAt: timestamp }).nullable(),
    activity: z.object({ preview: nullableString, direction, at: timestamp }).nullable(),
    createdAt: timestamp,
    accountLink: AccountLinkSchema.optional(),
    profile: ProfileSchema.optional(),
    contact: ContactSchema.optional(),
    assignee: MemberSchema.optional(),
  }),
);
export const ThreadPageSchema = named('ThreadPage', page(ThreadSchema));
export const ThreadDeletionSchema = named('ThreadDeletion', z.object({ scope: z.enum(['remoteAndLocal', 'local']) }));

const sentBy = z
  .union([
    z.object({ type: z.literal('member'), memberId: z.string(), member: MemberSchema.optional() }),
    z.object({ type: z.literal('campaign'), campaignId: z.string(), stepId: nullableString }),
    z.object({ type: z.literal('api'), tokenId: nullableString }),
  ])
  .nullable();

const reactionAuthor = z.union([
  z.object({ type: z.literal('accountLink'), accountLinkId: z.string() }),
  z.object({ type: z.literal('profile'), profileId: z.string(), contactId: nullableString }),
  z.object({ type: z.literal('unknown'), platformId: z.string() }),
]);

const urlExpiry = timestamp.nullable().describe('when `url` stops working; null: it does not expire');
export const ReactionSchema = named('Reaction', z.object({ emoji: z.string(), author: reactionAuthor, createdAt: timestamp.nullable() }));

export const AttachmentMediaSchema = named(
  'AttachmentMedia',
  z.object({
    index: z.number().int(),
    kind: z.enum(['image', 'gif', 'video', 'audio', 'file']),
    filename: nullableString,
    contentType: nullableString,
    sizeBytes: z.number().nullable(),
    width: z.number().nullable(),
    height: z.number().nullable(),
    aspectRatio: z.number().nullable(),
    durationSeconds: z.number().nullable(),
    status: z.enum(['ready', 'pending', 'processing', 'failed']),
    url: nullableString,
    expiresAt: urlExpiry,
    poster: z.object({ url: z.string(), expiresAt: urlExpiry, width: z.number().nullable(), height: z.number().nullable() }).nullable(),
  }),
);
export const AttachmentCardSchema = named(
  'AttachmentCard',
  z.object({
    index: z.number().int(),
    kind: z.literal('card'),
    url: z.string(),
    title: nullableString,
    description: nullableString,
    domain: nullableString,
    thumbnail: z.object({ url: z.string(), width: z.number(), height: z.number(), alt: nullableString }).nullable(),
  }),
);

/** Offsets into `content` in code points, end-exclusive (core/message-entities.ts). */
const entityIndices = z.object({ start: z.number().int(), end: z.number().int() });
export const MessageEntitiesSchema = named(
  'MessageEntities',
  z.object({
    urls: z.array(z.object({ url: z.string(), displayUrl: z.string(), indices: entityIndices })),
    postShares: z.array(z.object({ platformId: z.string(), url: z.string(), indices: entityIndices })),
    mentions: z.array(z.object({ username: z.string(), displayName: nullableString, platformId: nullableString, indices: entityIndices })),
    hashtags: z.array(z.object({ tag: z.string(), indices: entityIndices })),
    cashtags: z.array(z.object({ symbol: z.string(), indices: entityIndices })),
    format: z.array(z.never()),
  }),
);

export const MessageSchema = named(
  'Message',
  z.object({
    id: z.string(),
    threadId: z.string(),
    accountLinkId: z.string(),
    platform: PlatformName,
    platformId: nullableString,
    direction,
    sentBy,
    content: z.string(),
    entities: MessageEntitiesSchema,
    attachments: z.array(z.union([AttachmentMediaSchema, AttachmentCardSchema])),
    forwarded: z.null(),
    reactions: z.array(ReactionSchema),
    editedAt: timestamp.nullable(),
    deletedAt: timestamp.nullable(),
    createdAt: timestamp,
    platformData: z.union([z.object({ _tag: z.literal('twitter'), encrypted: z.boolean() }), otherPlatformData]),
    replyTo: z.object({ messageId: nullableString, platformId: nullableString, content: z.string(), authorName: nullableString }).nullable(),
    thread: ThreadSchema.optional(),
    accountLink: AccountLinkSchema.optional(),
  }),
);
export const MessagePageSchema = named('MessagePage', page(MessageSchema));

export const EventSchema = named(
  'Event',
  z.object({
    id: z.string(),
    seq: z.number().int(),
    type: z.string(),
    apiVersion: z.literal('2'),
    createdAt: timestamp,
    object: z.object({ type: z.string(), id: z.string(), url: z.string() }),
    data: z.record(z.string(), z.unknown()),
  }),
);
export const EventPageSchema = named('EventPage', z.object({ data: z.array(EventSchema), lastSeq: z.number().int().nullable(), hasMore: z.boolean() }));

export const ErrorSchema = named(
  'Error',
  z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).nullable(), requestId: z.string() }),
);

/** Every v2 operation may answer these; each route adds the errors it documents itself. */
export const errorResponses = { '4xx': ErrorSchema, '5xx': ErrorSchema } as const;

// Request bodies.
const labelName = z.string().min(1).max(255);
export const TagCreateBody = z.object({ name: labelName, color: z.string().min(1).max(32).optional() }).strict();
export const TagUpdateBody = z.object({ name: labelName.optional(), color: z.string().min(1).max(32).optional() }).strict();
export const StatusCreateBody = z.object({ name: labelName, color: z.string().min(1).max(32).nullable().optional() }).strict();
export const StatusUpdateBody = z.object({ name: labelName.optional(), color: z.string().min(1).max(32).nullable().optional() }).strict();
export const ContactUpdateBody = z
  .object({
    status: z.string().min(1).max(255).nullable(),
    notes: z.string().max(10_000).nullable(),
    valuation: z.number().finite().nullable(),
    assigneeId: Cuid2.nullable(),
  })
  .partial()
  .strict();
export const ThreadUpdateBody = z
  .object({ archived: z.boolean(), unread: z.boolean(), assigneeId: Cuid2.nullable(), typingIndicators: z.enum(['enabled', 'disabled', 'teamDefault']) })
  .partial()
  .strict();
