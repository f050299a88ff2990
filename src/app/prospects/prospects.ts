import { notFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { iso, isoOrNull } from '../../core/time.js';
import type { PlatformProfile } from '../../platforms/platform.js';
import { insertRows } from '../../store/bulk.js';
import { isAnyOf, type Db } from '../../store/db.js';
import type { CampaignStatus, LeadState } from '../../store/schema-campaigns.js';
import type { Platform as PlatformName, ProspectRow } from '../../store/schema.js';
import type { AppContext } from '../context.js';
import { emitEvent, emitEvents } from '../events/events.js';
import { assertMember } from '../team/members.js';
import { presentProspect, presentThreads, tagsOf, type ProspectWithContext } from '../inbox/presenters.js';
import { rowOr404 } from '../rows.js';

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
  return rowOr404(query, 'PROSPECT_NOT_FOUND', 'Prospect', prospectId);
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

/** The row of a new prospect made from a platform profile, fetched (enriched) at `now`: every column, so the values are the row. */
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
    verified: 'none' as const,
    profile_type: 'personal' as const,
    platform_created_at: null,
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
  await applyContextToMany(trx, teamId, [prospectId], input, now);
  return withThreads(trx, await getProspectRow(trx, teamId, prospectId), now);
}

type ContextEvent = 'prospect.notesChanged' | 'prospect.valuationChanged' | 'prospect.statusChanged' | 'prospect.tagsChanged' | 'prospect.assigneeChanged';

/**
 * The context update of one prospect or of thousands (bulk actions), set-based: a statement per kind of
 * change whatever the number of prospects, and none for prospects it leaves as they were. Every prospect
 * must be the team's (404 PROSPECT_NOT_FOUND names the first that is not, and nothing changes); each change
 * emits the event the single update emits, in the same order, carrying the prospect after the whole update.
 * Resolves with how many prospects changed.
 */
export async function applyContextToMany(trx: Db, teamId: string, prospectIds: readonly string[], input: ContextInput, now: Date): Promise<number> {
  const ids = [...new Set(prospectIds)];
  // Locked in id order, so two bulk updates over overlapping prospects cannot deadlock.
  const before = await trx.selectFrom('prospects').selectAll().where('team_id', '=', teamId).where(isAnyOf('id', ids)).orderBy('id').forUpdate().execute();
  if (before.length < ids.length) {
    const found = new Set(before.map((r) => r.id));
    throw notFound('PROSPECT_NOT_FOUND', 'Prospect', ids.find((id) => !found.has(id))!);
  }
  const addTags = [...new Set(input.addTags ?? [])];
  const removeTags = [...new Set(input.removeTags ?? [])].filter((id) => !addTags.includes(id));
  await assertLabels(trx, 'tags', teamId, [...addTags, ...removeTags]);
  if (input.statusId) await assertLabels(trx, 'statuses', teamId, [input.statusId]);
  if (input.assigneeId) await assertMember(trx, teamId, input.assigneeId);

  const tagsBefore = await tagsOf(trx, ids);
  // Tags keep the order they were attached in: new ones come last (in id order, as tagsOf gives a batch's).
  const added = [...addTags].sort();
  const tagsAfter = new Map(ids.map((id) => {
    const kept = tagsBefore.get(id)!.filter((tag) => !removeTags.includes(tag));
    return [id, [...kept, ...added.filter((tag) => !kept.includes(tag))]];
  }));
  const events = new Map<string, ContextEvent[]>();
  const afterRows: ProspectRow[] = [];
  for (const row of before) {
    const changes: ContextEvent[] = [];
    const differs = (key: 'notes' | 'valuation' | 'statusId' | 'assigneeId', current: unknown) => input[key] !== undefined && input[key] !== current;
    if (differs('notes', row.notes)) changes.push('prospect.notesChanged');
    if (differs('valuation', row.valuation)) changes.push('prospect.valuationChanged');
    if (differs('statusId', row.status_id)) changes.push('prospect.statusChanged');
    if (tagsAfter.get(row.id)!.join() !== tagsBefore.get(row.id)!.join()) changes.push('prospect.tagsChanged');
    if (differs('assigneeId', row.assignee_id)) changes.push('prospect.assigneeChanged');
    if (changes.length === 0) continue;
    events.set(row.id, changes);
    afterRows.push({
      ...row,
      notes: input.notes === undefined ? row.notes : input.notes,
      valuation: input.valuation === undefined ? row.valuation : input.valuation,
      status_id: input.statusId === undefined ? row.status_id : input.statusId,
      assignee_id: input.assigneeId === undefined ? row.assignee_id : input.assigneeId,
      updated_at: now,
    });
  }
  const touched = afterRows.map((row) => row.id);

  if (touched.length > 0) {
    await trx
      .updateTable('prospects')
      .set({
        ...(input.notes !== undefined && { notes: input.notes }),
        ...(input.valuation !== undefined && { valuation: input.valuation }),
        ...(input.statusId !== undefined && { status_id: input.statusId }),
        ...(input.assigneeId !== undefined && { assignee_id: input.assigneeId }),
        updated_at: now,
      })
      .where(isAnyOf('id', touched))
      .execute();
  }
  if (addTags.length > 0) {
    const missing = ids.flatMap((prospectId) => addTags.filter((tagId) => !tagsBefore.get(prospectId)!.includes(tagId)).map((tagId) => ({ prospect_id: prospectId, tag_id: tagId, created_at: now })));
    await insertRows(trx, 'prospect_tags', missing, 'on conflict do nothing');
  }
  if (removeTags.length > 0) await trx.deleteFrom('prospect_tags').where(isAnyOf('prospect_id', ids)).where('tag_id', 'in', removeTags).execute();
  if (input.assigneeId !== undefined) {
    await trx.updateTable('threads').set({ assignee_id: input.assigneeId }).where(isAnyOf('prospect_id', ids)).where('deleted_at', 'is', null).execute();
  }
  const flipped =
    input.done === undefined
      ? []
      : await trx
          .updateTable('threads')
          .set({ done: input.done })
          .where(isAnyOf('prospect_id', ids))
          .where('deleted_at', 'is', null)
          .where('done', '!=', input.done)
          .returningAll()
          .execute();

  const byId = new Map(afterRows.map((row) => [row.id, row]));
  await emitEvents(
    trx,
    teamId,
    ids.filter((id) => byId.has(id)).flatMap((id) => {
      const prospect = presentProspect(byId.get(id)!, tagsAfter.get(id)!, now);
      return events.get(id)!.map((type) => ({ type, data: { prospect } }));
    }),
    now,
  );
  if (flipped.length > 0) {
    const type = input.done ? 'thread.archived' : 'thread.unarchived';
    await emitEvents(trx, teamId, (await presentThreads(trx, flipped, now)).map((thread) => ({ type, data: { thread } })), now);
  }
  return new Set([...touched, ...flipped.map((thread) => thread.prospect_id)]).size;
}

export interface ProspectCampaign {
  campaignId: string;
  name: string;
  status: CampaignStatus;
  state: LeadState;
  contactedAt: string | null;
  repliedAt: string | null;
  failureReason: string | null;
  addedAt: string;
}

/** The campaigns a prospect is a lead of, newest first, with its state in each (by campaign_leads_prospect). */
export async function prospectCampaigns(ctx: AppContext, teamId: string, prospectId: string): Promise<ProspectCampaign[]> {
  await getProspectRow(ctx.db, teamId, prospectId);
  const rows = await ctx.db
    .selectFrom('campaign_leads as l')
    .innerJoin('campaigns as c', 'c.id', 'l.campaign_id')
    .select(['c.id', 'c.name', 'c.status', 'l.state', 'l.contacted_at', 'l.replied_at', 'l.failure_reason', 'l.created_at'])
    .where('l.prospect_id', '=', prospectId)
    .where('l.team_id', '=', teamId)
    .orderBy('l.created_at', 'desc')
    .orderBy('c.id', 'desc')
    .execute();
  return rows.map((r) => ({
    campaignId: r.id,
    name: r.name,
    status: r.status,
    state: r.state,
    contactedAt: isoOrNull(r.contacted_at),
    repliedAt: isoOrNull(r.replied_at),
    failureReason: r.failure_reason,
    addedAt: iso(r.created_at),
  }));
}
