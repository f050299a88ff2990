import { isCard, type MessageAttachment } from '../../core/attachments.js';
import { iso, isoOrNull } from '../../core/time.js';
import { domainOf } from '../../core/urls.js';
import { isAnyOf, type Db } from '../../store/db.js';
import type { MessageOrigin, MessageRow, Platform as PlatformName, ProspectRow, Reaction, ThreadRow } from '../../store/schema.js';

/**
 * How prospects, threads and messages are shown, in API answers and in event payloads alike (with the reads that
 * presenting them needs: tags, last messages).
 */

export interface Message {
  id: string;
  platform: PlatformName;
  platformId: string | null;
  teamId: string;
  threadId: string;
  authorId: string;
  userId: string | null;
  campaignId: string | null;
  content: string;
  origin: MessageOrigin | null;
  createdAt: string;
  updatedAt: string | null;
  isEdited: boolean;
  isEncrypted: boolean | null;
  replyData: { messageId: string } | null;
  forwardData: null;
  entities: null;
  attachment: V1Attachment | null;
  reactions: Reaction[];
  deletedAt: string | null;
  platformDeletedAt: string | null;
}

/**
 * v1's one attachment slot ("normalized media/card attachment"): the message's first medium, else its link card.
 * A medium is shown as the sandbox takes one in (`type`, `url`, `mimeType`), with what else the platform said.
 */
export type V1Attachment =
  | { type: string; url: string | null; mimeType: string | null; filename: string | null; sizeBytes: number | null; width: number | null; height: number | null; durationSeconds: number | null; previewImageUrl: string | null }
  | { type: 'card'; url: string; title: string | null; description: string | null; domain: string | null; imageUrl: string | null };

function v1Attachment(attachments: readonly MessageAttachment[]): V1Attachment | null {
  const shown = attachments.find((a) => !isCard(a)) ?? attachments[0];
  if (!shown) return null;
  if (isCard(shown)) return { type: 'card', url: shown.url, title: shown.title, description: shown.description, domain: shown.domain, imageUrl: shown.thumbnail?.url ?? null };
  const { kind, url, contentType, filename, sizeBytes, width, height, durationSeconds, poster } = shown;
  return { type: kind, url, mimeType: contentType, filename, sizeBytes, width, height, durationSeconds, previewImageUrl: poster?.url ?? null };
}

export const presentMessage = (row: MessageRow): Message => ({
  id: row.id,
  platform: row.platform,
  platformId: row.platform_id,
  teamId: row.team_id,
  threadId: row.thread_id,
  authorId: row.author_id,
  userId: row.user_id,
  campaignId: row.campaign_id,
  content: row.content,
  origin: row.origin,
  createdAt: iso(row.created_at),
  updatedAt: isoOrNull(row.updated_at),
  isEdited: row.is_edited,
  isEncrypted: row.is_encrypted,
  replyData: row.reply_to_message_id ? { messageId: row.reply_to_message_id } : null,
  forwardData: null,
  entities: null,
  attachment: v1Attachment(row.attachments),
  reactions: row.reactions,
  deletedAt: isoOrNull(row.deleted_at),
  platformDeletedAt: isoOrNull(row.platform_deleted_at),
});

export interface ProspectContext {
  tags: string[];
  statusId: string | null;
  valuation: number | null;
  notes: string | null;
  assigneeId: string | null;
  threads?: Array<{ id: string; accountLinkId: string; lastMessageTimestamp: string | null; createdAt: string }>;
}

/** The Prospect object of the API, with its CRM context. Its externalId is our prospect id. */
export interface ProspectWithContext {
  platform: PlatformName;
  platformId: string;
  externalId: string;
  documentId: null;
  displayName: string;
  username: string;
  handle: string;
  image: string | null;
  imageNormalized: string | null;
  bio: string | null;
  location: string | null;
  profileUrl: string;
  websiteUrl: string | null;
  websiteDomain: string | null;
  verified: ProspectRow['verified'];
  profileType: ProspectRow['profile_type'];
  isProtected: boolean;
  followerCount: number;
  followingCount: number;
  postCount: number;
  engagementCount: null;
  listedCount: number | null;
  platformCreatedAt: string | null;
  firstSeenAt: string;
  lastUpdatedAt: string;
  lastEnrichedAt: string | null;
  lastActiveAt: null;
  source: 'cached';
  isFresh: boolean;
  isStale: boolean;
  confidence: number;
  accountStatus: string;
  platformData: {
    isVerifiedBlue: boolean;
    isVerifiedGold: boolean;
    isVerifiedGray: boolean;
    professionalCategory: string | null;
    urlEntities: Array<{ url: string; expandedUrl: string; displayUrl: string; indices: [number, number] }>;
    bannerUrl: string | null;
    tweetsCount: number;
    favoritesCount: number;
    rawData: Record<string, unknown> | null;
  };
  context: ProspectContext;
}

const DAY_MS = 86_400_000;

/** How much to trust cached profile data, by its age (1 = just fetched, below 0.5 = possibly outdated). */
function confidenceOf(ageDays: number): number {
  if (ageDays < 1) return 1;
  if (ageDays <= 7) return 0.8;
  if (ageDays <= 30) return 0.6;
  return 0.4;
}

export function presentProspect(row: ProspectRow, tags: string[], now: Date): ProspectWithContext {
  const ageDays = (now.getTime() - (row.last_enriched_at ?? row.created_at).getTime()) / DAY_MS;
  return {
    platform: row.platform,
    platformId: row.platform_id,
    externalId: row.id,
    documentId: null,
    displayName: row.display_name,
    username: row.username,
    handle: `@${row.username}`,
    image: row.image,
    imageNormalized: row.image,
    bio: row.bio,
    location: row.location,
    profileUrl: `https://x.com/${row.username}`,
    websiteUrl: row.website_url,
    websiteDomain: domainOf(row.website_url),
    verified: row.verified,
    profileType: row.profile_type,
    isProtected: row.is_protected,
    followerCount: row.follower_count,
    followingCount: row.following_count,
    postCount: row.post_count,
    engagementCount: null,
    listedCount: row.listed_count,
    platformCreatedAt: isoOrNull(row.platform_created_at),
    firstSeenAt: iso(row.created_at),
    lastUpdatedAt: iso(row.updated_at),
    lastEnrichedAt: isoOrNull(row.last_enriched_at),
    lastActiveAt: null,
    source: 'cached',
    isFresh: ageDays <= 7,
    isStale: ageDays > 30,
    confidence: confidenceOf(ageDays),
    accountStatus: row.account_status,
    platformData: {
      isVerifiedBlue: row.verified === 'verified',
      isVerifiedGold: row.verified === 'business',
      isVerifiedGray: row.verified === 'government',
      professionalCategory: null,
      urlEntities: [],
      bannerUrl: null,
      tweetsCount: row.post_count,
      favoritesCount: 0,
      rawData: null,
    },
    context: { tags, statusId: row.status_id, valuation: row.valuation, notes: row.notes, assigneeId: row.assignee_id },
  };
}

/** Who a prospect is, by the fields of presentProspect that name it: what prospect.created shows of a lead add's prospects. */
export interface ProspectIdentity {
  platform: PlatformName;
  platformId: string;
  externalId: string;
  username: string;
  displayName: string;
}

export const presentProspectIdentity = (row: Pick<ProspectRow, 'platform' | 'platform_id' | 'id' | 'username' | 'display_name'>): ProspectIdentity => ({
  platform: row.platform,
  platformId: row.platform_id,
  externalId: row.id,
  username: row.username,
  displayName: row.display_name,
});

/** Tag ids per prospect, in the order they were attached. */
export async function tagsOf(db: Db, prospectIds: string[]): Promise<Map<string, string[]>> {
  const byProspect = new Map<string, string[]>(prospectIds.map((id) => [id, []]));
  if (prospectIds.length === 0) return byProspect;
  const rows = await db
    .selectFrom('prospect_tags')
    .select(['prospect_id', 'tag_id'])
    .where(isAnyOf('prospect_id', prospectIds))
    .orderBy('created_at')
    .orderBy('tag_id')
    .execute();
  for (const r of rows) byProspect.get(r.prospect_id)!.push(r.tag_id);
  return byProspect;
}

export interface LastMessage {
  id: string;
  content: string;
  authorId: string;
  createdAt: string;
  userId: string | null;
  campaignId: string | null;
}

export interface Thread {
  id: string;
  platform: PlatformName;
  platformId: string;
  done: boolean;
  assigneeId: string | null;
  lastMessageTimestamp: string | null;
  computedSortTimestamp: string;
  createdAt: string;
  status: 'active' | 'idle';
  variant: 'unencrypted' | 'xChat';
  accountLinkId: string;
  isSyncing: boolean;
  isRequest: boolean;
  typingIndicatorsEnabled: boolean | null;
  lastMessage: LastMessage | null;
  prospect: ProspectWithContext;
  unread: boolean;
}

/** A thread as the API shows it, from its row, its presented prospect and its last message (if any). */
export function threadView(r: ThreadRow, prospect: ProspectWithContext, last: LastMessageRow | undefined): Thread {
  return {
    id: r.id,
    platform: r.platform,
    platformId: r.platform_id,
    done: r.done,
    assigneeId: r.assignee_id,
    lastMessageTimestamp: isoOrNull(r.last_message_at),
    computedSortTimestamp: iso(r.sort_at),
    createdAt: iso(r.created_at),
    status: r.status,
    variant: r.variant,
    accountLinkId: r.account_link_id,
    isSyncing: r.is_syncing,
    isRequest: r.is_request,
    typingIndicatorsEnabled: r.typing_indicators_enabled,
    lastMessage: last
      ? {
          id: last.id,
          content: last.content,
          authorId: last.author_id,
          createdAt: iso(last.created_at),
          userId: last.user_id,
          campaignId: last.campaign_id,
        }
      : null,
    prospect,
    unread: r.unread,
  };
}

/** The message columns a thread's last-message preview shows. */
export type LastMessageRow = Pick<MessageRow, 'id' | 'content' | 'author_id' | 'created_at' | 'user_id' | 'campaign_id'>;

/** The presented prospects (with context) of many prospect rows, in two queries. */
export async function presentProspects(db: Db, prospectIds: readonly string[], now: Date): Promise<Map<string, ProspectWithContext>> {
  const ids = [...new Set(prospectIds)];
  if (ids.length === 0) return new Map();
  const [prospects, tags] = await Promise.all([db.selectFrom('prospects').selectAll().where(isAnyOf('id', ids)).execute(), tagsOf(db, ids)]);
  return new Map(prospects.map((p) => [p.id, presentProspect(p, tags.get(p.id)!, now)]));
}

/** presentProspects for rows already read: only their tags are looked up. */
export async function presentProspectRows(db: Db, rows: readonly ProspectRow[], now: Date): Promise<Map<string, ProspectWithContext>> {
  const tags = await tagsOf(db, [...new Set(rows.map((p) => p.id))]);
  return new Map(rows.map((p) => [p.id, presentProspect(p, tags.get(p.id)!, now)]));
}

/** Presents threads with their prospect (and its context) and last-message preview, in a few queries. */
export async function presentThreads(db: Db, rows: ThreadRow[], now: Date): Promise<Thread[]> {
  if (rows.length === 0) return [];
  const lastIds = rows.flatMap((r) => (r.last_message_id ? [r.last_message_id] : []));
  const [prospectById, lasts] = await Promise.all([
    presentProspects(
      db,
      rows.map((r) => r.prospect_id),
      now,
    ),
    lastIds.length === 0
      ? []
      : db
          .selectFrom('messages')
          .select(['id', 'content', 'author_id', 'created_at', 'user_id', 'campaign_id'])
          .where('id', 'in', lastIds)
          .execute(),
  ]);
  const lastById = new Map(lasts.map((m) => [m.id, m]));
  return rows.map((r) => threadView(r, prospectById.get(r.prospect_id)!, r.last_message_id ? lastById.get(r.last_message_id) : undefined));
}

export const presentThread = async (db: Db, row: ThreadRow, now: Date): Promise<Thread> => (await presentThreads(db, [row], now))[0]!;
