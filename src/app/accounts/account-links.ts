import { newId } from '../../core/ids.js';
import { iso, isoOrNull } from '../../core/time.js';
import { allocateSandboxId, putSandboxProfile } from '../../platforms/sandbox.js';
import { platformOf, type PlatformAccount } from '../../platforms/platform.js';
import type { Db } from '../../store/db.js';
import type { AccountLinkRow, AccountLinkStatus, Platform as PlatformName } from '../../store/schema.js';
import type { AppContext } from '../context.js';
import { rowOr404 } from '../rows.js';

export interface AccountLink {
  id: string;
  platform: PlatformName;
  platformId: string;
  name: string;
  username: string;
  image: string;
  createdAt: string;
  status: AccountLinkStatus;
  syncedAt: string | null;
  hourlyLimit: number;
  dailyLimit: number;
}

export const presentAccountLink = (row: AccountLinkRow): AccountLink => ({
  id: row.id,
  platform: row.platform,
  platformId: row.platform_id,
  name: row.name,
  username: row.username,
  image: row.image,
  createdAt: iso(row.created_at),
  status: row.status,
  syncedAt: isoOrNull(row.synced_at),
  hourlyLimit: row.hourly_limit,
  dailyLimit: row.daily_limit,
});

export async function getAccountLinkRow(db: Db, teamId: string, accountLinkId: string): Promise<AccountLinkRow> {
  return rowOr404(db
    .selectFrom('account_links')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('id', '=', accountLinkId)
    , 'ACCOUNT_LINK_NOT_FOUND', 'Account link', accountLinkId);
}

/** The platform an account link lives on; X accounts wait for their adapter. */
/** The team's account to look profiles up as on a platform (its newest active link there), if it has one. */
export async function lookupAccountOf(db: Db, teamId: string, platform: PlatformName): Promise<PlatformAccount | undefined> {
  const row = await db
    .selectFrom('account_links')
    .select(['id', 'platform_id'])
    .where('team_id', '=', teamId)
    .where('platform', '=', platform)
    .where('status', '=', 'active')
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return row && { accountLinkId: row.id, platformId: row.platform_id };
}

export async function listAccountLinks(ctx: AppContext, teamId: string): Promise<AccountLink[]> {
  const rows = await ctx.db.selectFrom('account_links').selectAll().where('team_id', '=', teamId).orderBy('created_at').orderBy('id').execute();
  return rows.map(presentAccountLink);
}

/**
 * Links a sandbox account by username: an existing sandbox user keeps its id, an unknown username
 * becomes a new sandbox user. Linking an account again re-activates and returns the existing link.
 */
export async function linkSandboxAccount(ctx: AppContext, teamId: string, input: { username: string; name?: string }): Promise<AccountLink> {
  const now = ctx.clock.now();
  const profile =
    (await platformOf(ctx, 'sandbox').profileByUsername(input.username)) ??
    (await putSandboxProfile(ctx.db, await allocateSandboxId(ctx.db), { username: input.username, displayName: input.name }, now));
  const row = await ctx.db
    .insertInto('account_links')
    .values({
      id: newId(),
      team_id: teamId,
      platform: 'sandbox',
      platform_id: profile.platformId,
      name: input.name ?? profile.displayName,
      username: profile.username,
      image: `https://sandbox.localhost/avatars/${profile.platformId}.png`,
      synced_at: now,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['team_id', 'platform', 'platform_id']).doUpdateSet({ status: 'active', updated_at: now }))
    .returningAll()
    .executeTakeFirstOrThrow();
  return presentAccountLink(row);
}

export interface AccountLinkUpdate {
  status?: AccountLinkStatus;
  hourlyLimit?: number;
  dailyLimit?: number;
}

export async function updateAccountLink(ctx: AppContext, teamId: string, id: string, input: AccountLinkUpdate): Promise<AccountLink> {
  const current = await getAccountLinkRow(ctx.db, teamId, id);
  const row = await ctx.db
    .updateTable('account_links')
    .set({
      status: input.status ?? current.status,
      hourly_limit: input.hourlyLimit ?? current.hourly_limit,
      daily_limit: input.dailyLimit ?? current.daily_limit,
      updated_at: ctx.clock.now(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return presentAccountLink(row);
}
