import { notFound } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { iso, isoOrNull } from '../core/time.js';
import type { PlatformProfile } from '../platforms/platform.js';
import type { Db } from '../store/db.js';
import type { Platform as PlatformName, ProspectRow } from '../store/schema.js';
import type { AppContext } from './context.js';
import { emitEvent } from './events.js';
import { assertMember } from './members.js';
import { presentOne, presentProspect, presentThreads, tagsOf, type ProspectWithContext } from './presenters.js';

/** A prospect with its context, including every live thread with it (prospect get and lookup). */
async function withThreads(db: Db, row: ProspectRow, now: Date): Promise<ProspectWithContext> {
  const prospect = presentProspect(row, (await tagsOf(db, [row.id])).get(row.id)!, now);
  const threads = await db
    .selectFrom('threads')
    .select(['id', 'account_link_id', 'last_message_at', 'created_at'])
    .where('prospect_id', '=', row.id)
    .where('deleted_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  prospect.context.threads = threads.map((t) => ({
    id: t.id,
    accountLinkId: t.account_link_id,
    lastMessageTimestamp: isoOrNull(t.last_message_at),
    createdAt: iso(t.created_at),
  }));
  return prospect;
}

export async function getProspectRow(db: Db, teamId: string, prospectId: string, forUpdate = false): Promise<ProspectRow> {
  let query = db.selectFrom('prospects').selectAll().where('team_id', '=', teamId).where('id', '=', prospectId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw notFound('PROSPECT_NOT_FOUND', 'Prospect', prospectId);
  return row;
}

export function findProspectByPlatformId(db: Db, teamId: string, platform: PlatformName, platformId: string) {
  return db
    .selectFrom('prospects')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('platform', '=', platform)
    .where('platform_id', '=', platformId)
    .executeTakeFirst();
}

/** The row of a new prospect made from a platform profile, fetched (enriched) at `now`. */
export function prospectValues(teamId: string, platform: PlatformName, profile: PlatformProfile, now: Date) {
  return {
    id: newId(),
    team_id: teamId,
    platform,
    platform_id: profile.platformId,
    username: profile.username,
    display_name: profile.displayName,
    image: profile.image,
    bio: profile.bio,
    location: profile.location,
    website_url: profile.websiteUrl,
    is_protected: profile.isProtected,
    follower_count: profile.followerCount,
    following_count: profile.followingCount,
    post_count: profile.postCount,
    listed_count: null,
    account_status: profile.accountStatus,
    dms_open: profile.dmsOpen,
    last_enriched_at: now,
    status_id: null,
    valuation: null,
    notes: null,
    assignee_id: null,
    created_at: now,
    updated_at: now,
  };
}

/** The team's prospect for a platform profile, created (with prospect.created) on first contact. */
export async function ensureProspect(
  trx: Db,
  teamId: string,
  platform: PlatformName,
  profile: PlatformProfile,
  now: Date,
): Promise<ProspectRow> {
  const inserted = await trx
    .insertInto('prospects')
    .values(prospectValues(teamId, platform, profile, now))
    .onConflict((oc) => oc.columns(['team_id', 'platform', 'platform_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!inserted) return (await findProspectByPlatformId(trx, teamId, platform, profile.platformId))!;
  await emitEvent(trx, teamId, 'prospect.created', { prospect: presentProspect(inserted, [], now) }, now);
  return inserted;
}

export async function getProspect(ctx: AppContext, teamId: string, prospectId: string): Promise<ProspectWithContext> {
  return withThreads(ctx.db, await getProspectRow(ctx.db, teamId, prospectId), ctx.clock.now());
}

/** Only prospects the team has interacted with are known: anyone else is null, not a directory lookup. */
export async function lookupProspect(ctx: AppContext, teamId: string, platformId: string): Promise<ProspectWithContext | null> {
  const row = await ctx.db
    .selectFrom('prospects')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('platform_id', '=', platformId)
    .orderBy('created_at')
    .executeTakeFirst();
  return row ? withThreads(ctx.db, row, ctx.clock.now()) : null;
}

/** Sets the prospect-level assignee; true when it changed (the caller emits prospect.assigneeChanged). */
export async function setProspectAssignee(trx: Db, prospect: ProspectRow, assigneeId: string | null, now: Date): Promise<boolean> {
  if (prospect.assignee_id === assigneeId) return false;
  await trx.updateTable('prospects').set({ assignee_id: assigneeId, updated_at: now }).where('id', '=', prospect.id).execute();
  return true;
}

export interface ContextInput {
  notes?: string | null;
  valuation?: number | null;
  statusId?: string | null;
  addTags?: string[];
  removeTags?: string[];
  assigneeId?: string | null;
  done?: boolean;
}

async function assertLabels(trx: Db, table: 'tags' | 'statuses', teamId: string, ids: string[]) {
  if (ids.length === 0) return;
  const found = await trx.selectFrom(table).select('id').where('team_id', '=', teamId).where('id', 'in', ids).execute();
  const known = new Set(found.map((r) => r.id));
  const missing = ids.find((id) => !known.has(id));
  if (missing) throw notFound(table === 'tags' ? 'TAG_NOT_FOUND' : 'STATUS_NOT_FOUND', table === 'tags' ? 'Tag' : 'Status', missing);
}

/**
 * Updates a prospect's CRM context. Assignee and done apply to every thread with the prospect; each
 * change emits its event, carrying the prospect as it is after the whole update.
 */
export async function updateProspectContext(
  ctx: AppContext,
  teamId: string,
  prospectId: string,
  input: ContextInput,
): Promise<ProspectWithContext> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute((trx) => applyProspectContext(trx, teamId, prospectId, input, now));
}

/** updateProspectContext inside the caller's transaction (the engine's automations run in its own). */
export async function applyProspectContext(
  trx: Db,
  teamId: string,
  prospectId: string,
  input: ContextInput,
  now: Date,
): Promise<ProspectWithContext> {
  const before = await getProspectRow(trx, teamId, prospectId, true);
  const addTags = [...new Set(input.addTags ?? [])];
  const removeTags = [...new Set(input.removeTags ?? [])].filter((id) => !addTags.includes(id));
  await assertLabels(trx, 'tags', teamId, [...addTags, ...removeTags]);
  if (input.statusId) await assertLabels(trx, 'statuses', teamId, [input.statusId]);
  if (input.assigneeId) await assertMember(trx, teamId, input.assigneeId);

  const changed = (key: 'notes' | 'valuation' | 'statusId' | 'assigneeId', current: unknown) =>
    input[key] !== undefined && input[key] !== current;
  const events: Array<'prospect.notesChanged' | 'prospect.valuationChanged' | 'prospect.statusChanged' | 'prospect.tagsChanged' | 'prospect.assigneeChanged'> = [];
  if (changed('notes', before.notes)) events.push('prospect.notesChanged');
  if (changed('valuation', before.valuation)) events.push('prospect.valuationChanged');
  if (changed('statusId', before.status_id)) events.push('prospect.statusChanged');

  await trx
    .updateTable('prospects')
    .set({
      notes: input.notes === undefined ? before.notes : input.notes,
      valuation: input.valuation === undefined ? before.valuation : input.valuation,
      status_id: input.statusId === undefined ? before.status_id : input.statusId,
      updated_at: now,
    })
    .where('id', '=', prospectId)
    .execute();

  const tagsBefore = (await tagsOf(trx, [prospectId])).get(prospectId)!;
  if (addTags.length > 0) {
    await trx
      .insertInto('prospect_tags')
      .values(addTags.map((tagId) => ({ prospect_id: prospectId, tag_id: tagId, created_at: now })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  if (removeTags.length > 0) {
    await trx.deleteFrom('prospect_tags').where('prospect_id', '=', prospectId).where('tag_id', 'in', removeTags).execute();
  }
  const tagsAfter = (await tagsOf(trx, [prospectId])).get(prospectId)!;
  if (tagsAfter.join() !== tagsBefore.join()) events.push('prospect.tagsChanged');

  if (input.assigneeId !== undefined) {
    if (await setProspectAssignee(trx, before, input.assigneeId, now)) events.push('prospect.assigneeChanged');
    await trx
      .updateTable('threads')
      .set({ assignee_id: input.assigneeId })
      .where('prospect_id', '=', prospectId)
      .where('deleted_at', 'is', null)
      .execute();
  }
  const flipped =
    input.done === undefined
      ? []
      : await trx
          .updateTable('threads')
          .set({ done: input.done })
          .where('prospect_id', '=', prospectId)
          .where('deleted_at', 'is', null)
          .where('done', '!=', input.done)
          .returningAll()
          .execute();

  const after = await presentOne(trx, await getProspectRow(trx, teamId, prospectId), now);
  for (const type of events) await emitEvent(trx, teamId, type, { prospect: after }, now);
  if (flipped.length > 0) {
    for (const thread of await presentThreads(trx, flipped, now)) {
      await emitEvent(trx, teamId, input.done ? 'thread.archived' : 'thread.unarchived', { thread }, now);
    }
  }
  return withThreads(trx, await getProspectRow(trx, teamId, prospectId), now);
}
