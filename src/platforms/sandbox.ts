import { sql } from 'kysely';
import type { Clock } from '../core/clock.js';
import { insertRows } from '../store/bulk.js';
import { isAnyOf, type Db } from '../store/db.js';
import type { SandboxProfilesTable } from '../store/schema.js';
import {
  PlatformError,
  conversationId,
  type Platform,
  type PlatformAccount,
  type DmResult,
  type OutgoingDm,
  type PlatformProfile,
  type ProfilePage,
  type SentDm,
} from './platform.js';
import { sandboxFollowerId, sandboxLikerId, seededFollowerCount, seededLikeCount } from './sandbox-audience.js';
import { sandboxPersonOf } from './sandbox-people.js';
import { X_ID } from './x.js';

/**
 * The simulated X, kept in the same database (sandbox_* tables, global like X itself). Every X-like (decimal) id
 * is a user with default fields (a seeded name and bio: sandbox-people.ts); a sandbox_profiles row overrides them.
 */

const DEFAULT_USERNAME = /^user([0-9]{1,20})$/i;
/** People per page of followers or likers (X's liking_users page). */
const AUDIENCE_PAGE = 100;

/** Where a page of an audience starts: a rank, written as the page token (null: the first page). */
function rankOf(page: string | null): number {
  if (page === null) return 0;
  if (!/^[0-9]{1,9}$/.test(page)) throw new PlatformError('transient', `'${page}' is not a sandbox page token`);
  return Number(page);
}

/** The fields a sandbox profile can be given (PUT /sandbox/profiles/{platformId}). */
export interface SandboxProfileInput {
  username?: string | null;
  displayName?: string | null;
  bio?: string | null;
  location?: string | null;
  followerCount?: number | null;
  isProtected?: boolean | null;
  accountStatus?: 'active' | 'suspended' | 'deactivated' | null;
  dmsOpen?: boolean | null;
}

type ProfileRow = Pick<
  SandboxProfilesTable,
  'platform_id' | 'username' | 'display_name' | 'bio' | 'location' | 'follower_count' | 'is_protected' | 'account_status' | 'dms_open'
>;

function profileOf(platformId: string, row: ProfileRow | undefined): PlatformProfile {
  const person = sandboxPersonOf(platformId);
  return {
    platformId,
    username: row?.username ?? `user${platformId}`,
    displayName: row?.display_name ?? person.displayName,
    image: null,
    bio: row?.bio ?? person.bio,
    location: row?.location ?? null,
    websiteUrl: null,
    followerCount: row?.follower_count ?? seededFollowerCount(platformId),
    followingCount: 0,
    postCount: 0,
    isProtected: row?.is_protected ?? false,
    accountStatus: row?.account_status ?? 'active',
    dmsOpen: row?.dms_open ?? true,
  };
}

const profileRow = (db: Db, platformId: string) =>
  db.selectFrom('sandbox_profiles').selectAll().where('platform_id', '=', platformId).executeTakeFirst();

const isSandboxId = (value: string) => X_ID.test(value);

/** A fresh X-like decimal id (users and DM events share the sequence, as X's snowflakes do). */
export async function allocateSandboxId(db: Db): Promise<string> {
  const { rows } = await sql<{ id: string }>`select nextval('sandbox_ids')::text as id`.execute(db);
  return rows[0]!.id;
}

/** Records a DM crossing the simulated X and returns its event id. */
export async function recordSandboxDm(db: Db, senderId: string, recipientId: string, text: string, at: Date): Promise<string> {
  const id = await allocateSandboxId(db);
  await db.insertInto('sandbox_dm_events').values({ id, sender_id: senderId, recipient_id: recipientId, text, created_at: at }).execute();
  return id;
}

/** Replaces a profile's overrides: omitted fields go back to their defaults. */
export async function putSandboxProfile(db: Db, platformId: string, input: SandboxProfileInput, now: Date): Promise<PlatformProfile> {
  const values = {
    username: input.username ?? null,
    display_name: input.displayName ?? null,
    bio: input.bio ?? null,
    location: input.location ?? null,
    follower_count: input.followerCount ?? null,
    is_protected: input.isProtected ?? null,
    account_status: input.accountStatus ?? null,
    dms_open: input.dmsOpen ?? null,
    updated_at: now,
  };
  const row = await db
    .insertInto('sandbox_profiles')
    .values({ platform_id: platformId, ...values })
    .onConflict((oc) => oc.column('platform_id').doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
  return profileOf(platformId, row);
}

export class SandboxPlatform implements Platform {
  readonly name = 'sandbox' as const;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async profileById(platformId: string): Promise<PlatformProfile | null> {
    return (await this.profilesByIds([platformId])).get(platformId) ?? null;
  }

  async profilesByIds(platformIds: readonly string[]): Promise<Map<string, PlatformProfile>> {
    const ids = [...new Set(platformIds.filter(isSandboxId))];
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('sandbox_profiles').selectAll().where(isAnyOf('platform_id', ids)).execute();
    const overrides = new Map(rows.map((r) => [r.platform_id, r]));
    return new Map(ids.map((id) => [id, profileOf(id, overrides.get(id))]));
  }

  async profileByUsername(username: string): Promise<PlatformProfile | null> {
    const named = await this.db
      .selectFrom('sandbox_profiles')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['username']), '=', username.toLowerCase()))
      .executeTakeFirst();
    if (named) return profileOf(named.platform_id, named);
    const platformId = DEFAULT_USERNAME.exec(username)?.[1];
    if (!platformId) return null;
    const row = await profileRow(this.db, platformId);
    // A user who picked another username no longer answers to the default one.
    return row?.username ? null : profileOf(platformId, row);
  }

  async sendDm(account: PlatformAccount, recipientPlatformId: string, text: string): Promise<SentDm> {
    const sender = await this.profileById(account.platformId);
    if (!sender || sender.accountStatus !== 'active') {
      throw new PlatformError('auth_revoked', `Sandbox account ${account.platformId} is ${sender?.accountStatus ?? 'unknown'}`);
    }
    await this.assertReachable(recipientPlatformId, (p) => p.dmsOpen, 'does not accept DMs');
    const platformMessageId = await recordSandboxDm(this.db, account.platformId, recipientPlatformId, text, this.clock.now());
    return { platformMessageId, conversationId: conversationId(account.platformId, recipientPlatformId) };
  }

  /** Each sandbox user has a single post, whose id is the user's own id. */
  async likeLatestPost(account: PlatformAccount, userPlatformId: string): Promise<{ postId: string }> {
    await this.assertReachable(userPlatformId, () => true, 'cannot be reached');
    await this.db
      .insertInto('sandbox_likes')
      .values({ user_id: account.platformId, post_id: userPlatformId, created_at: this.clock.now() })
      .onConflict((oc) => oc.doNothing())
      .execute();
    return { postId: userPlatformId };
  }

  /** A user's followers: as many as its profile's followerCount, seeded (sandbox-audience.ts). */
  async followersOf(userPlatformId: string, page: string | null): Promise<ProfilePage> {
    const user = isSandboxId(userPlatformId) ? await this.profileById(userPlatformId) : null;
    const start = rankOf(page);
    const end = Math.min(user?.followerCount ?? 0, start + AUDIENCE_PAGE);
    const ids = Array.from({ length: Math.max(0, end - start) }, (_, i) => sandboxFollowerId(userPlatformId, start + i));
    return { profiles: await this.#inOrder(ids), next: end < (user?.followerCount ?? 0) ? String(end) : null };
  }

  /**
   * Who liked a post (a user's single post, whose id is the user's: see likeLatestPost): the sandbox's own likes
   * of it first, oldest first, then its seeded likers.
   */
  async likingUsersOf(postId: string, page: string | null): Promise<ProfilePage> {
    if (!isSandboxId(postId)) return { profiles: [], next: null };
    const likes = this.db.selectFrom('sandbox_likes').where('post_id', '=', postId);
    const { count } = await likes.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    const liked = Number(count);
    const start = rankOf(page);
    const end = Math.min(liked + seededLikeCount(postId), start + AUDIENCE_PAGE);
    const real =
      start < liked ? (await likes.select('user_id').orderBy('created_at').orderBy('user_id').offset(start).limit(Math.min(end, liked) - start).execute()).map((r) => r.user_id) : [];
    const firstSeeded = Math.max(start, liked) - liked;
    const seeded = Array.from({ length: Math.max(0, end - Math.max(start, liked)) }, (_, i) => sandboxLikerId(postId, firstSeeded + i));
    return { profiles: await this.#inOrder([...real, ...seeded]), next: end < liked + seededLikeCount(postId) ? String(end) : null };
  }

  /** The profiles of these users, in this order. */
  async #inOrder(ids: string[]): Promise<PlatformProfile[]> {
    const profiles = await this.profilesByIds(ids);
    return ids.flatMap((id) => profiles.get(id) ?? []);
  }

  async findDelivered(account: PlatformAccount, recipientPlatformId: string, text: string, since: Date): Promise<string | null> {
    const row = await this.db
      .selectFrom('sandbox_dm_events')
      .select('id')
      .where('sender_id', '=', account.platformId)
      .where('recipient_id', '=', recipientPlatformId)
      .where('text', '=', text)
      .where('created_at', '>=', since)
      .orderBy('created_at')
      .executeTakeFirst();
    return row?.id ?? null;
  }

  /** One query for the sender and the recipients, one for the event ids, one insert. */
  async sendDmBatch(account: PlatformAccount, dms: readonly OutgoingDm[]): Promise<DmResult[]> {
    const profiles = await this.profilesByIds([account.platformId, ...dms.map((d) => d.recipientPlatformId)]);
    const revoked = senderRevoked(account, profiles.get(account.platformId));
    if (revoked) return [{ ok: false, error: revoked }];
    const refusals = dms.map((d) => refusal(d.recipientPlatformId, profiles.get(d.recipientPlatformId), (p) => p.dmsOpen, 'does not accept DMs'));
    const deliverable = dms.filter((_, i) => !refusals[i]);
    const { rows } = await sql<{ id: string }>`select nextval('sandbox_ids')::text as id from generate_series(1, ${deliverable.length}::int)`.execute(this.db);
    const ids = rows.map((r) => BigInt(r.id)).sort((a, b) => (a < b ? -1 : 1)).map(String);
    await insertRows(
      this.db,
      'sandbox_dm_events',
      deliverable.map((d, i) => ({ id: ids[i]!, sender_id: account.platformId, recipient_id: d.recipientPlatformId, text: d.text, created_at: d.at })),
    );
    let next = 0;
    return dms.map((d, i): DmResult => {
      const error = refusals[i];
      if (error) return { ok: false, error };
      return { ok: true, sent: { platformMessageId: ids[next++]!, conversationId: conversationId(account.platformId, d.recipientPlatformId) } };
    });
  }

  private async assertReachable(platformId: string, open: (p: PlatformProfile) => boolean, why: string): Promise<void> {
    const error = refusal(platformId, await this.profileById(platformId), open, why);
    if (error) throw error;
  }
}

/** Why a sandbox account cannot send (its profile missing or not active): the whole batch fails as signed out. */
function senderRevoked(account: PlatformAccount, sender: PlatformProfile | undefined | null): PlatformError | null {
  return sender?.accountStatus === 'active' ? null : new PlatformError('auth_revoked', `Sandbox account ${account.platformId} is ${sender?.accountStatus ?? 'unknown'}`);
}

/** Why a user cannot be reached (suspended, deactivated, unknown, or closed to this), or null if they can. */
function refusal(platformId: string, profile: PlatformProfile | undefined | null, open: (p: PlatformProfile) => boolean, why: string): PlatformError | null {
  if (!profile || profile.accountStatus !== 'active') {
    return new PlatformError('recipient_unreachable', `User ${platformId} is ${profile?.accountStatus ?? 'not a user'}`);
  }
  return open(profile) ? null : new PlatformError('recipient_unreachable', `User ${platformId} ${why}`);
}

/**
 * The sandbox as a store with no sandbox rows sees it, kept nowhere: every X-like id a user with its default
 * profile, and the DMs and likes it is sent not stored, so none is found again. What a forecast's engine meets
 * (its copy of the campaign takes no sandbox profiles, and nothing reads its sends back); its message ids are
 * counted from 1.
 */
export class StorelessSandbox implements Platform {
  readonly name = 'sandbox' as const;
  #lastId = 0;

  async profileById(platformId: string): Promise<PlatformProfile | null> {
    return isSandboxId(platformId) ? profileOf(platformId, undefined) : null;
  }

  async profilesByIds(platformIds: readonly string[]): Promise<Map<string, PlatformProfile>> {
    return new Map([...new Set(platformIds.filter(isSandboxId))].map((id) => [id, profileOf(id, undefined)]));
  }

  async profileByUsername(username: string): Promise<PlatformProfile | null> {
    const platformId = DEFAULT_USERNAME.exec(username)?.[1];
    return platformId ? profileOf(platformId, undefined) : null;
  }

  async sendDm(account: PlatformAccount, recipientPlatformId: string, text: string): Promise<SentDm> {
    const [result] = await this.sendDmBatch(account, [{ recipientPlatformId, text, at: new Date(0) }]);
    if (!result!.ok) throw result!.error;
    return result!.sent;
  }

  async likeLatestPost(_account: PlatformAccount, userPlatformId: string): Promise<{ postId: string }> {
    const error = refusal(userPlatformId, await this.profileById(userPlatformId), () => true, 'cannot be reached');
    if (error) throw error;
    return { postId: userPlatformId };
  }

  async findDelivered(): Promise<string | null> {
    return null;
  }

  async sendDmBatch(account: PlatformAccount, dms: readonly OutgoingDm[]): Promise<DmResult[]> {
    const revoked = senderRevoked(account, await this.profileById(account.platformId));
    if (revoked) return [{ ok: false, error: revoked }];
    return dms.map((d): DmResult => {
      const error = refusal(d.recipientPlatformId, isSandboxId(d.recipientPlatformId) ? profileOf(d.recipientPlatformId, undefined) : null, (p) => p.dmsOpen, 'does not accept DMs');
      if (error) return { ok: false, error };
      return { ok: true, sent: { platformMessageId: String(++this.#lastId), conversationId: conversationId(account.platformId, d.recipientPlatformId) } };
    });
  }
}
