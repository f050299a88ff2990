import type { MessageAttachment } from '../core/attachments.js';
import { AppError } from '../core/errors.js';
import type { AccountLinkRow, Platform as PlatformName } from '../store/schema.js';

export type { PlatformName };

export type AccountStatus = 'active' | 'suspended' | 'deactivated';

/** A user profile as the platform reports it; the fields prospects are made of. */
export interface PlatformProfile {
  platformId: string;
  username: string;
  displayName: string;
  image: string | null;
  bio: string | null;
  location: string | null;
  websiteUrl: string | null;
  followerCount: number;
  followingCount: number;
  postCount: number;
  isProtected: boolean;
  accountStatus: AccountStatus;
  dmsOpen: boolean;
}

/** The linked account a call acts as (adapters look their credentials up by the account link id). */
export interface PlatformAccount {
  accountLinkId: string;
  platformId: string;
}

export interface SentDm {
  platformMessageId: string;
  conversationId: string;
}

export type PlatformErrorKind = 'recipient_unreachable' | 'rate_limited' | 'auth_revoked' | 'transient';

/** A failure the platform reported, typed so callers can react (pause, retry later, give up). */
export class PlatformError extends Error {
  constructor(
    readonly kind: PlatformErrorKind,
    message: string,
    /** when a rate limit frees up again (kind 'rate_limited') */
    readonly resetAt?: Date,
  ) {
    super(message);
    this.name = 'PlatformError';
  }
}

/** A messaging platform (the sandbox, later X): everything the rest of the code may ask of it. */
export interface Platform {
  readonly name: PlatformName;
  // Lookups go through `via`, an account of the team asking, where the platform needs a user's credentials:
  // one team's linked accounts are never used for another team's lookups.
  /** null when no such user exists */
  profileById(platformId: string, via?: PlatformAccount): Promise<PlatformProfile | null>;
  /** Many users at once (bulk lead adds); ids with no such user are absent from the map. */
  profilesByIds(platformIds: readonly string[], via?: PlatformAccount): Promise<Map<string, PlatformProfile>>;
  profileByUsername(username: string, via?: PlatformAccount): Promise<PlatformProfile | null>;
  sendDm(account: PlatformAccount, recipientPlatformId: string, text: string): Promise<SentDm>;
  likeLatestPost(account: PlatformAccount, userPlatformId: string): Promise<{ postId: string }>;
  /** The id of a DM with this text sent to the recipient since `since`, if one went out (crash reconciliation). */
  findDelivered(account: PlatformAccount, recipientPlatformId: string, text: string, since: Date): Promise<string | null>;
  /**
   * Optional: several DMs from one account in one go, with sendDms's contract. Only a platform that can do it
   * cheaper than one by one offers it (the sandbox, a table insert); X has no such call.
   */
  sendDmBatch?(account: PlatformAccount, dms: readonly OutgoingDm[]): Promise<DmResult[]>;
  /**
   * Optional, for a platform whose DMs are polled (X): the account's DMs since `cursor` (where the last complete
   * read ended; null the first time). A failure of the platform ends the read early and comes back with what was
   * read before it; anything else is thrown.
   */
  readDms?(account: PlatformAccount, cursor: string | null): Promise<DmRead>;
  /**
   * Optional: deletes a DM for the account only (API v2's `message:delete:self`) on the platform (X: DELETE
   * /2/dm_events/:id). A platform whose DMs live in this store (the sandbox) has none: the store's record is the
   * change.
   */
  deleteDm?(account: PlatformAccount, platformMessageId: string): Promise<void>;
  /**
   * Optional, for a platform with followers: a user's followers, a page at a time from `page` (null: the first),
   * read as `via` where the platform needs a user's credentials. An exhausted rate limit is a
   * PlatformError('rate_limited') with its reset time.
   */
  followersOf?(userPlatformId: string, page: string | null, via?: PlatformAccount): Promise<ProfilePage>;
  /** Optional, for a platform with likes: the people who liked a post, with followersOf's contract. */
  likingUsersOf?(postId: string, page: string | null, via?: PlatformAccount): Promise<ProfilePage>;
}

/** A page of people as a platform lists them (followers, likers). */
export interface ProfilePage {
  profiles: PlatformProfile[];
  /** where the next page starts; null on the last page */
  next: string | null;
}

/** A DM as a platform reports it for one of our linked accounts (either direction). */
export interface PlatformDm {
  platformMessageId: string;
  senderPlatformId: string;
  recipientPlatformId: string;
  content: string;
  /** its media and link card, in the platform's order */
  attachments?: MessageAttachment[];
  createdAt: Date;
}

/** What one Platform.readDms found. */
export interface DmRead {
  /** the 1:1 DMs read, oldest first */
  dms: PlatformDm[];
  /** the cursor past everything read (null when nothing new was read): the next read's, once `dms` are taken in */
  newest: string | null;
  /** whether everything since the cursor was read; if not, the next read starts from the same cursor again */
  caughtUp: boolean;
  /** the platform's failure that ended the read early */
  failure?: PlatformError;
}

export interface OutgoingDm {
  recipientPlatformId: string;
  text: string;
  /** when the engine sends it: now, or an instant of virtual time, which only a simulated platform can honour */
  at: Date;
}

export type DmResult = { ok: true; sent: SentDm } | { ok: false; error: PlatformError };

/** A failure that concerns the account rather than one recipient: nothing more should be sent from it now. */
export const stopsAccount = (error: PlatformError) => error.kind !== 'recipient_unreachable';

/**
 * Sends DMs from one account in order, stopping after the first failure that concerns the account (rate
 * limit, revoked access, outage): the answer holds a result for each DM attempted, so it may be shorter than
 * `dms`. Anything but a PlatformError (a crash) is thrown.
 */
export async function sendDms(platform: Platform, account: PlatformAccount, dms: readonly OutgoingDm[]): Promise<DmResult[]> {
  if (platform.sendDmBatch) return platform.sendDmBatch(account, dms);
  const results: DmResult[] = [];
  for (const dm of dms) {
    try {
      results.push({ ok: true, sent: await platform.sendDm(account, dm.recipientPlatformId, dm.text) });
    } catch (error) {
      if (!(error instanceof PlatformError)) throw error;
      results.push({ ok: false, error });
      if (stopsAccount(error)) break;
    }
  }
  return results;
}

/** The platforms this process can talk to, by name. */
export interface PlatformRegistry {
  get(name: PlatformName): Platform | undefined;
}

export function platformRegistry(platforms: Platform[]): PlatformRegistry {
  const byName = new Map(platforms.map((p) => [p.name, p]));
  return { get: (name) => byName.get(name) };
}

/** The platform adapter of this name, or 503 PLATFORM_UNAVAILABLE when this server has none. */
export function platformOf(ctx: { platforms: PlatformRegistry }, platform: PlatformName): Platform {
  const adapter = ctx.platforms.get(platform);
  if (!adapter) throw new AppError(503, 'PLATFORM_UNAVAILABLE', `The ${platform} platform is not available on this server`);
  return adapter;
}

/** The linked account as an adapter acts as it. */
export const accountOf = (row: AccountLinkRow): PlatformAccount => ({ accountLinkId: row.id, platformId: row.platform_id });

/**
 * A 1:1 conversation's id on the platform side: both user ids, joined by ':' in a canonical order, the shorter
 * first, then by their text. For X's decimal ids that is numeric order, X's own form of a conversation id; ids
 * of any other form need no parsing.
 */
export function conversationId(a: string, b: string): string {
  const first = a.length !== b.length ? a.length < b.length : a <= b;
  return first ? `${a}:${b}` : `${b}:${a}`;
}
