import { usernameKey } from '../../core/usernames.js';
import { platformOf, type AccountStatus, type Platform, type PlatformAccount, type PlatformProfile } from '../../platforms/platform.js';
import { isAnyOf, type Db } from '../../store/db.js';
import type { Platform as PlatformName, ProspectRow } from '../../store/schema.js';
import { lookupAccountOf } from '../accounts/account-links.js';
import type { AppContext } from '../context.js';
import { emitEvents, type NewEvent } from '../events/events.js';
import { prospectValues } from '../prospects/prospects.js';
import { presentProspectIdentity } from '../inbox/presenters.js';
import { insertRowsByCopy } from '../../store/copy.js';

/** How a lead is named by a caller: an X user id, a handle, or our own prospect id (externalId). */
export type LeadRef = { by: 'platformId' | 'username' | 'externalId'; value: string };

/**
 * The leads of one call, looked up but not yet written. Looking up may ask the platform (a network
 * call for X), so it happens before the writing transaction; persist() then writes every new prospect
 * in one statement.
 */
export interface LeadResolution {
  /**
   * per ref, in order: its prospect, created if new, or null when it cannot be resolved. The prospect.created events
   * of those it creates are emitted, or, given `events`, added to it, for the caller to emit with its own in the
   * same transaction (one counter update and one insert for all).
   */
  persist(trx: Db, now: Date, events?: NewEvent[]): Promise<Array<ProspectRow | null>>;
  /** why persist() answered null for `ref`: no such profile, or the account is not active */
  whyUnresolved(ref: LeadRef): UnresolvedReason;
}

export type UnresolvedReason = 'not_found' | Exclude<AccountStatus, 'active'>;

/** The platform a team's leads live on, and the account to look profiles up as. */
export interface TeamPlatform {
  platform: Platform;
  via: PlatformAccount | undefined;
}

/** The team's platform: that of its linked accounts (the sandbox while it has none). */
export async function teamPlatform(ctx: AppContext, teamId: string): Promise<TeamPlatform> {
  const link = await ctx.db.selectFrom('account_links').select('platform').where('team_id', '=', teamId).orderBy('created_at').executeTakeFirst();
  const name = link?.platform ?? 'sandbox';
  return { platform: platformOf(ctx, name), via: await lookupAccountOf(ctx.db, teamId, name) };
}

/** One key per lead identifier: a username in any spelling people paste it (see usernameKey). */
export const refKey = (ref: LeadRef) => `${ref.by}:${ref.by === 'username' ? usernameKey(ref.value) : ref.value}`;

/** Only accounts that exist and are active can be leads: suspended or deactivated ones fail. */
const usable = (status: string) => status === 'active';

/**
 * Resolves a mixed batch of lead identifiers to the team's prospects: known prospects from the store
 * (set-based), unknown platform ids from the platform in one batch call, unknown usernames one by one. Profiles
 * the caller already read from the platform (`given`: a page of followers) are not asked for again. `on`, the
 * team's platform, is read here unless the caller read it once for many calls (an import's batches).
 */
export async function resolveLeads(
  ctx: AppContext,
  teamId: string,
  refs: readonly LeadRef[],
  { given = [], on }: { given?: readonly PlatformProfile[]; on?: TeamPlatform } = {},
): Promise<LeadResolution> {
  const { platform, via } = on ?? (await teamPlatform(ctx, teamId));
  const values = (by: LeadRef['by']) => [...new Set(refs.filter((r) => r.by === by).map((r) => refKey(r).slice(by.length + 1)))];
  const known = new Map<string, ProspectRow>();
  const remember = (row: ProspectRow) => {
    known.set(`externalId:${row.id}`, row);
    known.set(`platformId:${row.platform_id}`, row);
    known.set(`username:${row.username.toLowerCase()}`, row);
  };
  const prospects = () => ctx.db.selectFrom('prospects').selectAll().where('team_id', '=', teamId);
  const [externalIds, platformIds, usernames] = [values('externalId'), values('platformId'), values('username')];
  // One array parameter each rather than one parameter an id: an import names a thousand at a time.
  if (externalIds.length > 0) (await prospects().where(isAnyOf('id', externalIds)).execute()).forEach(remember);
  if (platformIds.length > 0) {
    (await prospects().where('platform', '=', platform.name).where(isAnyOf('platform_id', platformIds)).execute()).forEach(remember);
  }
  if (usernames.length > 0) {
    const rows = await prospects()
      .where('platform', '=', platform.name)
      .where((eb) => eb(eb.fn('lower', ['username']), 'in', usernames))
      .execute();
    rows.forEach(remember);
  }

  const fetched = new Map<string, PlatformProfile>(given.map((profile) => [`platformId:${profile.platformId}`, profile]));
  const missingIds = platformIds.filter((id) => !known.has(`platformId:${id}`) && !fetched.has(`platformId:${id}`));
  for (const [id, profile] of await platform.profilesByIds(missingIds, via)) fetched.set(`platformId:${id}`, profile);
  for (const username of usernames.filter((u) => !known.has(`username:${u}`))) {
    const profile = await platform.profileByUsername(username, via);
    if (profile) fetched.set(`username:${username}`, profile);
  }

  return {
    async persist(trx, now, events) {
      const fresh = new Map<string, PlatformProfile>();
      for (const profile of fetched.values()) {
        if (usable(profile.accountStatus) && !known.has(`platformId:${profile.platformId}`)) fresh.set(profile.platformId, profile);
      }
      for (const row of await insertProspects(trx, teamId, platform.name, [...fresh.values()], now, events)) remember(row);
      return refs.map((ref) => {
        const profile = fetched.get(refKey(ref));
        const row = known.get(refKey(ref)) ?? (profile ? known.get(`platformId:${profile.platformId}`) : undefined);
        return row && usable(row.account_status) ? row : null;
      });
    },
    whyUnresolved(ref) {
      const status = known.get(refKey(ref))?.account_status ?? fetched.get(refKey(ref))?.accountStatus;
      return status === 'suspended' || status === 'deactivated' ? status : 'not_found';
    },
  };
}

/**
 * Inserts the prospects for new profiles in one statement, emitting prospect.created for each one this call
 * created (or adding it to `events`: see persist); a profile another request created meanwhile is read back instead. A lead add or an import creates
 * thousands at once, so its prospect.created shows who the prospect is (presentProspectIdentity, about 200 bytes
 * stored) rather than the whole prospect (1.3 KB): docs/api-notes.md, Webhooks.
 */
async function insertProspects(
  trx: Db,
  teamId: string,
  platform: PlatformName,
  profiles: PlatformProfile[],
  now: Date,
  events: NewEvent[] | undefined,
): Promise<ProspectRow[]> {
  if (profiles.length === 0) return [];
  const values = profiles.map((p) => prospectValues(teamId, platform, p, now));
  // The rows are the values written: only which ones went in comes back.
  const returned = await insertRowsByCopy<'prospects', { platform_id: string }>(trx, 'prospects', values, 'on conflict (team_id, platform, platform_id) do nothing returning platform_id');
  const created = new Set(returned.map((r) => r.platform_id));
  const inserted: ProspectRow[] = values.filter((v) => created.has(v.platform_id));
  const createdEvents: NewEvent[] = inserted.map((row) => ({ type: 'prospect.created', data: { prospect: presentProspectIdentity(row) } }));
  if (events) events.push(...createdEvents);
  else await emitEvents(trx, teamId, createdEvents, now);
  if (inserted.length === profiles.length) return inserted;
  const raced = profiles.map((p) => p.platformId).filter((id) => !created.has(id));
  const others = await trx
    .selectFrom('prospects')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('platform', '=', platform)
    .where(isAnyOf('platform_id', raced))
    .execute();
  return [...inserted, ...others];
}
