import { consumeRateLimit } from '../store/rate-limit.js';
import type { Clock } from '../core/clock.js';
import type { RateWindow } from '../core/rate-limit.js';
import type { XLimits } from '../core/x-protocol.js';
import type { XConfig } from '../config.js';
import type { Db } from '../store/db.js';
import { plainCard, plainMedia, type CardAttachment, type MediaAttachment, type MediaKind, type MessageAttachment } from '../core/attachments.js';
import { XApi, type XRequest, type XTokenResponse } from './x-api.js';
import {
  PlatformError,
  conversationId,
  type DmRead,
  type Platform,
  type PlatformAccount,
  type PlatformDm,
  type PlatformProfile,
  type ProfilePage,
  type SentDm,
} from './platform.js';

/** Where the X adapter gets user access tokens (kept sealed in the store, refreshed as needed). */
export interface XAccessTokens {
  accessToken(accountLinkId: string): Promise<string>;
}

/** A user as X API v2 returns it with USER_FIELDS. */
export interface XUser {
  id: string;
  name: string;
  username: string;
  protected?: boolean;
  description?: string;
  location?: string;
  url?: string;
  profile_image_url?: string;
  created_at?: string;
  verified_type?: string;
  public_metrics?: { followers_count?: number; following_count?: number; tweet_count?: number };
}

/** A link in a DM, as X unwinds it (its preview: title, description, images). */
export interface XUrlEntity {
  start?: number;
  end?: number;
  url: string;
  expanded_url?: string;
  unwound_url?: string;
  display_url?: string;
  title?: string;
  description?: string;
  images?: Array<{ url: string; width: number; height: number }>;
}

/** A DM event as GET /2/dm_events returns it with DM_EVENT_FIELDS (`urls` comes with the `entities` field). */
export interface XDmEvent {
  id: string;
  event_type: string;
  text?: string;
  sender_id?: string;
  dm_conversation_id?: string;
  created_at?: string;
  attachments?: { media_keys?: string[]; card_ids?: string[] };
  urls?: XUrlEntity[];
}

/** A media object of `includes.media`, with MEDIA_FIELDS. */
export interface XMedia {
  media_key: string;
  /** photo, animated_gif or video */
  type: string;
  /** a photo's */
  url?: string;
  /** a video's or GIF's still frame */
  preview_image_url?: string;
  width?: number;
  height?: number;
  duration_ms?: number;
  alt_text?: string;
  /** a video's or GIF's encodings */
  variants?: Array<{ bit_rate?: number; content_type: string; url: string }>;
}

export const USER_FIELDS = 'id,name,username,protected,public_metrics,description,location,profile_image_url,url,created_at,verified_type';
const DM_EVENT_FIELDS = 'id,text,event_type,created_at,sender_id,dm_conversation_id,attachments,entities';
const MEDIA_FIELDS = 'media_key,type,url,preview_image_url,width,height,duration_ms,alt_text,variants';
/** X's user ids (and its event ids): decimal snowflakes. */
export const X_ID = /^[0-9]{1,20}$/;
const USERNAME = /^[A-Za-z0-9_]{1,15}$/;
const LOOKUP_BATCH = 100;
/** The most users one page of GET /2/users/:id/followers and of GET /2/tweets/:id/liking_users holds. */
const FOLLOWERS_PAGE = '1000';
const LIKING_USERS_PAGE = '100';
/** X's clock and ours may disagree a little: a delivered DM can look slightly older than its send intent. */
const CLOCK_SKEW_MS = 60_000;
/** How far back a delivery lookup reads a conversation, in pages of 100 events. */
const DELIVERY_PAGES = 3;
/**
 * Pages of 100 events one readDms reads at most while catching up with the cursor. X lists newest first, so a
 * read that stops short (this bound, or a read limit) is not caught up: the next one reads again from the top,
 * and ingestion drops what it already has.
 */
const MAX_PAGES_PER_READ = 30;

/** X's event ids are snowflakes: a later event has a larger decimal id. */
const newer = (a: string, b: string | null) => b === null || BigInt(a) > BigInt(b);

const MEDIA_KINDS: Record<string, MediaKind> = { photo: 'image', animated_gif: 'gif', video: 'video' };
const PHOTO_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** A medium of X as an attachment: a photo's URL, or a video's (a GIF's) best MP4 encoding and its still frame. */
export function attachmentOfXMedia(media: XMedia): MediaAttachment {
  const kind = MEDIA_KINDS[media.type] ?? 'file';
  const size = { width: media.width ?? null, height: media.height ?? null };
  if (kind === 'image') {
    const extension = media.url ? /\.([a-z0-9]+)(?:[?#]|$)/i.exec(media.url)?.[1]?.toLowerCase() : undefined;
    return { ...plainMedia(kind, media.url ?? null, extension ? (PHOTO_TYPES[extension] ?? null) : null), ...size, platformId: media.media_key || null };
  }
  const best = (media.variants ?? []).filter((v) => v.content_type.startsWith('video/')).sort((a, b) => (b.bit_rate ?? 0) - (a.bit_rate ?? 0))[0];
  return {
    ...plainMedia(kind, best?.url ?? null, best?.content_type ?? null),
    ...size,
    durationSeconds: media.duration_ms === undefined ? null : media.duration_ms / 1000,
    poster: media.preview_image_url ? { url: media.preview_image_url, ...size } : null,
    platformId: media.media_key || null,
  };
}

/** A link X previewed (it gave the link a title) as the message's link card. */
function cardOfXUrl(entity: XUrlEntity): CardAttachment {
  const url = entity.unwound_url ?? entity.expanded_url ?? entity.url;
  const image = entity.images?.[0];
  return { ...plainCard(url), title: entity.title ?? null, description: entity.description ?? null, thumbnail: image ? { url: image.url, width: image.width, height: image.height, alt: null } : null };
}

/** A DM event's media (from the page's `includes.media`, in the event's order), then its one link card. */
export function attachmentsOfXEvent(event: XDmEvent, media: ReadonlyMap<string, XMedia>): MessageAttachment[] {
  const found = (event.attachments?.media_keys ?? []).flatMap((key) => (media.has(key) ? [attachmentOfXMedia(media.get(key)!)] : []));
  const previewed = event.urls?.find((u) => u.title);
  return previewed ? [...found, cardOfXUrl(previewed)] : found;
}

/** A 1:1 message event of X's v2 stream as a DM; null for other events and group conversations. */
export function dmOfXEvent(event: XDmEvent, media: ReadonlyMap<string, XMedia>): PlatformDm | null {
  const pair = event.dm_conversation_id ? xConversationParticipants(event.dm_conversation_id) : null;
  const createdAt = new Date(event.created_at ?? Number.NaN);
  if (event.event_type !== 'MessageCreate' || !pair || !event.sender_id || !pair.includes(event.sender_id) || Number.isNaN(createdAt.getTime())) return null;
  return {
    platformMessageId: event.id,
    senderPlatformId: event.sender_id,
    recipientPlatformId: pair[0] === event.sender_id ? pair[1] : pair[0],
    content: event.text ?? '',
    attachments: attachmentsOfXEvent(event, media),
    createdAt,
  };
}

type Bucket = 'dm_send' | 'dm_read' | 'dm_delete' | 'tweets' | 'likes' | 'followers' | 'liking_users';

/** The configured per-account caps, by endpoint family (counted in rate_limit_buckets). */
export function xCapWindows(config: XConfig): Partial<Record<Bucket, RateWindow[]>> {
  const { limits } = config;
  return {
    dm_send: [{ seconds: 900, limit: limits.sendPer15Min }, { seconds: 86_400, limit: limits.sendPer24h }],
    dm_read: [{ seconds: 900, limit: limits.readPer15Min }],
  };
}

/** The two participants of a 1:1 X conversation id (`a-b`); null for a group conversation. */
export function xConversationParticipants(xConversationId: string): [string, string] | null {
  const parts = xConversationId.split('-');
  return parts.length === 2 && parts.every((p) => X_ID.test(p)) ? [parts[0]!, parts[1]!] : null;
}

/** X writes a 1:1 conversation id `a-b`; Inbox writes `a:b` (smaller id first). */
export function inboxConversationId(xConversationId: string): string | null {
  const pair = xConversationParticipants(xConversationId);
  return pair ? conversationId(...pair) : null;
}

/** X says nothing of DM openness before a send; a closed inbox shows as recipient_unreachable then. */
export const profileOfXUser = (user: XUser): PlatformProfile => ({
  platformId: user.id,
  username: user.username,
  displayName: user.name,
  image: user.profile_image_url ?? null,
  bio: user.description || null,
  location: user.location || null,
  websiteUrl: user.url || null,
  followerCount: user.public_metrics?.followers_count ?? 0,
  followingCount: user.public_metrics?.following_count ?? 0,
  postCount: user.public_metrics?.tweet_count ?? 0,
  isProtected: user.protected ?? false,
  accountStatus: 'active',
  dmsOpen: true,
});

/** A DM's medium in X's v1.1 event format. */
export interface ActivityMedia {
  id_str?: string;
  /** photo, animated_gif or video */
  type?: string;
  /** a photo's, or a video's (a GIF's) still frame */
  media_url_https?: string;
  original_info?: { width: number; height: number };
  sizes?: { large?: { w: number; h: number } };
  video_info?: { duration_millis?: number; variants?: Array<{ bitrate?: number; content_type: string; url: string }> };
}

/** The part of an Account Activity webhook body this server reads (X's v1.1 event format). */
export interface AccountActivity {
  for_user_id?: string;
  direct_message_events?: Array<{
    type?: string;
    id?: string;
    created_timestamp?: string;
    message_create?: {
      target?: { recipient_id?: string };
      sender_id?: string;
      message_data?: { text?: string; attachment?: { type?: string; media?: ActivityMedia } };
    };
  }>;
}

/** A v1.1 medium read as v2's media object would say it (v1.1 links carry no preview, so there is no card). */
function attachmentsOfActivity(attachment: { type?: string; media?: ActivityMedia } | undefined): MessageAttachment[] {
  const media = attachment?.type === 'media' ? attachment.media : undefined;
  if (!media?.type) return [];
  const large = media.sizes?.large;
  const size = media.original_info ?? (large ? { width: large.w, height: large.h } : {});
  const photo = media.type === 'photo';
  return [
    attachmentOfXMedia({
      media_key: media.id_str ?? '',
      type: media.type,
      ...(photo ? { url: media.media_url_https } : { preview_image_url: media.media_url_https }),
      ...size,
      duration_ms: media.video_info?.duration_millis,
      variants: media.video_info?.variants?.map((v) => ({ bit_rate: v.bitrate, content_type: v.content_type, url: v.url })),
    }),
  ];
}

/** The DMs an Account Activity delivery carries (message creations only), with their media. */
export function dmsOfAccountActivity(body: AccountActivity): PlatformDm[] {
  return (body.direct_message_events ?? []).flatMap((e): PlatformDm[] => {
    const create = e.message_create;
    const createdAt = new Date(Number(e.created_timestamp));
    if (e.type !== 'message_create' || !e.id || !create?.sender_id || !create.target?.recipient_id || Number.isNaN(createdAt.getTime())) return [];
    return [
      {
        platformMessageId: e.id,
        senderPlatformId: create.sender_id,
        recipientPlatformId: create.target.recipient_id,
        content: create.message_data?.text ?? '',
        attachments: attachmentsOfActivity(create.message_data?.attachment),
        createdAt,
      },
    ];
  });
}

/**
 * OAuth's last step of linking an X account: the authorization code traded for the account's tokens, and the
 * user who signed in (GET /2/users/me).
 */
export async function redeemXAuthorization(
  config: XConfig,
  clock: Clock,
  grant: { code: string; redirectUri: string; codeVerifier: string },
): Promise<{ tokens: XTokenResponse; user: XUser }> {
  const api = new XApi(config, clock);
  const tokens = await api.token({ grant_type: 'authorization_code', code: grant.code, redirect_uri: grant.redirectUri, code_verifier: grant.codeVerifier });
  const user = (await api.call<{ data: XUser }>(tokens.access_token, { method: 'GET', path: '/2/users/me', query: { 'user.fields': USER_FIELDS } })).data;
  return { tokens, user };
}

/**
 * X API v2 as a Platform. Calls made as a linked account obey X's rate limit headers as last seen (an
 * exhausted window fails fast with its reset time) and this server's configured per-account caps.
 */
export class XPlatform implements Platform {
  readonly name = 'twitter' as const;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly config: XConfig,
    private readonly api: XApi,
    private readonly tokens: XAccessTokens,
  ) {}

  async profileById(platformId: string, via?: PlatformAccount): Promise<PlatformProfile | null> {
    return (await this.profilesByIds([platformId], via)).get(platformId) ?? null;
  }

  async profilesByIds(platformIds: readonly string[], via?: PlatformAccount): Promise<Map<string, PlatformProfile>> {
    const ids = [...new Set(platformIds.filter((id) => X_ID.test(id)))];
    const found = new Map<string, PlatformProfile>();
    for (let i = 0; i < ids.length; i += LOOKUP_BATCH) {
      const batch = ids.slice(i, i + LOOKUP_BATCH);
      const body = await this.#lookup<{ data?: XUser[] }>(via, { method: 'GET', path: '/2/users', query: { ids: batch.join(','), 'user.fields': USER_FIELDS } });
      for (const user of body.data ?? []) found.set(user.id, profileOfXUser(user));
    }
    return found;
  }

  async profileByUsername(username: string, via?: PlatformAccount): Promise<PlatformProfile | null> {
    if (!USERNAME.test(username)) return null;
    const body = await this.#lookup<{ data?: XUser }>(via, {
      method: 'GET',
      path: `/2/users/by/username/${username}`,
      query: { 'user.fields': USER_FIELDS },
    });
    return body.data ? profileOfXUser(body.data) : null;
  }

  async sendDm(account: PlatformAccount, recipientPlatformId: string, text: string): Promise<SentDm> {
    const body = await this.#asAccount<{ data: { dm_conversation_id: string; dm_event_id: string } }>(account, 'dm_send', {
      method: 'POST',
      path: `/2/dm_conversations/with/${recipientPlatformId}/messages`,
      json: { text },
    });
    return {
      platformMessageId: body.data.dm_event_id,
      conversationId: inboxConversationId(body.data.dm_conversation_id) ?? conversationId(account.platformId, recipientPlatformId),
    };
  }

  async likeLatestPost(account: PlatformAccount, userPlatformId: string): Promise<{ postId: string }> {
    const posts = await this.#asAccount<{ data?: { id: string }[] }>(account, 'tweets', {
      method: 'GET',
      path: `/2/users/${userPlatformId}/tweets`,
      query: { max_results: '5', exclude: 'retweets,replies' },
    });
    const latest = posts.data?.[0];
    if (!latest) throw new PlatformError('recipient_unreachable', `User ${userPlatformId} has no post to like`);
    await this.#asAccount(account, 'likes', { method: 'POST', path: `/2/users/${account.platformId}/likes`, json: { tweet_id: latest.id } });
    return { postId: latest.id };
  }

  /** GET /2/users/:id/followers, 1000 a page (X allows 15 pages per 15 minutes per user). */
  async followersOf(userPlatformId: string, page: string | null, via?: PlatformAccount): Promise<ProfilePage> {
    return this.#userPage(via, 'followers', userPlatformId, `/2/users/${userPlatformId}/followers`, FOLLOWERS_PAGE, page);
  }

  /** GET /2/tweets/:id/liking_users, 100 a page (X allows 75 pages per 15 minutes per user). */
  async likingUsersOf(postId: string, page: string | null, via?: PlatformAccount): Promise<ProfilePage> {
    return this.#userPage(via, 'liking_users', postId, `/2/tweets/${postId}/liking_users`, LIKING_USERS_PAGE, page);
  }

  /**
   * A page of users. As the team's account when there is one: within the limits X last reported for it (an
   * exhausted window fails fast with its reset); else with the app-only token, and a 429 says when to come back.
   */
  async #userPage(via: PlatformAccount | undefined, bucket: Bucket, id: string, path: string, max: string, page: string | null): Promise<ProfilePage> {
    if (!X_ID.test(id)) return { profiles: [], next: null };
    const request: XRequest = { method: 'GET', path, query: { max_results: max, pagination_token: page ?? undefined, 'user.fields': USER_FIELDS } };
    type Page = { data?: XUser[]; meta?: { next_token?: string } };
    const body = via ? await this.#asAccount<Page>(via, bucket, request) : await this.#lookup<Page>(undefined, request);
    return { profiles: (body.data ?? []).map(profileOfXUser), next: body.meta?.next_token ?? null };
  }

  async findDelivered(account: PlatformAccount, recipientPlatformId: string, text: string, since: Date): Promise<string | null> {
    const from = since.getTime() - CLOCK_SKEW_MS;
    let paginationToken: string | undefined;
    for (let page = 0; page < DELIVERY_PAGES; page++) {
      const { events, nextToken } = await this.dmEvents(account, paginationToken, `/2/dm_conversations/with/${recipientPlatformId}/dm_events`);
      const match = events.find((e) => e.sender_id === account.platformId && e.text === text && Date.parse(e.created_at ?? '') >= from);
      if (match) return match.id;
      // Events come newest first: once they predate the send, it never happened.
      const oldest = events.at(-1);
      if (!nextToken || !oldest || Date.parse(oldest.created_at ?? '') < from) return null;
      paginationToken = nextToken;
    }
    return null;
  }

  /** The account's DM events newer than `cursor` (an event id), page after page (GET /2/dm_events). */
  async readDms(account: PlatformAccount, cursor: string | null): Promise<DmRead> {
    const fresh: XDmEvent[] = [];
    const media = new Map<string, XMedia>();
    let caughtUp = false;
    let failure: PlatformError | undefined;
    try {
      let paginationToken: string | undefined;
      for (let page = 0; page < MAX_PAGES_PER_READ && !caughtUp; page++) {
        const { events, nextToken, media: pageMedia } = await this.dmEvents(account, paginationToken);
        const unseen = events.filter((e) => newer(e.id, cursor));
        fresh.push(...unseen);
        for (const [key, medium] of pageMedia) media.set(key, medium);
        caughtUp = unseen.length < events.length || !nextToken;
        paginationToken = nextToken;
      }
    } catch (error) {
      if (!(error instanceof PlatformError)) throw error;
      failure = error;
    }
    // Oldest first, so a cursor only ever passes DMs that are in.
    fresh.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    return { dms: fresh.flatMap((e) => dmOfXEvent(e, media) ?? []), newest: fresh.at(-1)?.id ?? null, caughtUp, failure };
  }

  /** One page of the account's DM events (message creations only), newest first, with the media they carry. */
  async dmEvents(
    account: PlatformAccount,
    paginationToken?: string,
    path = '/2/dm_events',
  ): Promise<{ events: XDmEvent[]; nextToken?: string; media: Map<string, XMedia> }> {
    const body = await this.#asAccount<{ data?: XDmEvent[]; includes?: { media?: XMedia[] }; meta?: { next_token?: string } }>(account, 'dm_read', {
      method: 'GET',
      path,
      query: {
        'dm_event.fields': DM_EVENT_FIELDS,
        event_types: 'MessageCreate',
        expansions: 'attachments.media_keys',
        'media.fields': MEDIA_FIELDS,
        max_results: '100',
        pagination_token: paginationToken,
      },
    });
    return { events: body.data ?? [], nextToken: body.meta?.next_token, media: new Map((body.includes?.media ?? []).map((m) => [m.media_key, m])) };
  }

  /** Deletes a DM event for this account (X deletes only events the account owns, and only from its own view). */
  async deleteDm(account: PlatformAccount, platformMessageId: string): Promise<void> {
    if (!X_ID.test(platformMessageId)) throw new PlatformError('recipient_unreachable', `'${platformMessageId}' is no X DM event id`);
    await this.#asAccount(account, 'dm_delete', { method: 'DELETE', path: `/2/dm_events/${platformMessageId}` });
  }

  /** A public lookup: with the app-only token when configured, else as the asking team's own account. */
  async #lookup<T>(via: PlatformAccount | undefined, request: XRequest): Promise<T> {
    const token = this.config.appBearerToken ?? (via ? await this.tokens.accessToken(via.accountLinkId) : undefined);
    if (!token) {
      throw new PlatformError('transient', 'No X token to look users up with: link an X account to this team or set INBOX_X_APP_BEARER_TOKEN');
    }
    return this.api.call<T>(token, request);
  }

  /** A call as the linked account, within the limits X reported and the configured caps. */
  async #asAccount<T>(account: PlatformAccount, bucket: Bucket, request: XRequest): Promise<T> {
    const id = account.accountLinkId;
    const now = this.clock.now();
    const held = await this.db
      .selectFrom('x_rate_limits')
      .select((eb) => eb.fn.max('reset_at').as('until'))
      .where('account_link_id', '=', id)
      .where('bucket', 'in', bucket === 'dm_send' ? [bucket, 'day'] : [bucket])
      .where('remaining', '<=', 0)
      .where('reset_at', '>', now)
      .executeTakeFirst();
    if (held?.until) throw new PlatformError('rate_limited', `X ${bucket} limit exhausted for this account`, new Date(held.until));
    const caps = xCapWindows(this.config)[bucket] ?? [];
    if (caps.length) {
      const decision = await consumeRateLimit(this.db, `x:${bucket}:${id}`, caps, now);
      if (!decision.allowed) {
        throw new PlatformError('rate_limited', `Configured X ${bucket} cap reached for this account`, new Date(now.getTime() + decision.retryAfter * 1000));
      }
    }
    const token = await this.tokens.accessToken(id);
    return this.api.call<T>(token, { ...request, observe: (limits) => this.#remember(id, bucket, limits) });
  }


  async #remember(accountLinkId: string, bucket: Bucket, limits: XLimits): Promise<void> {
    const rows = [
      ...(limits.endpoint ? [{ bucket, ...limits.endpoint }] : []),
      ...(limits.day && bucket === 'dm_send' ? [{ bucket: 'day', ...limits.day }] : []),
    ].map((l) => ({ account_link_id: accountLinkId, bucket: l.bucket, remaining: l.remaining, reset_at: l.resetAt }));
    if (rows.length === 0) return;
    await this.db
      .insertInto('x_rate_limits')
      .values(rows)
      .onConflict((oc) => oc.columns(['account_link_id', 'bucket']).doUpdateSet((eb) => ({ remaining: eb.ref('excluded.remaining'), reset_at: eb.ref('excluded.reset_at') })))
      .execute();
  }
}
