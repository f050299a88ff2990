import { sql } from 'kysely';
import { checkLeadData, type ColumnValue } from '../../core/column-values.js';
import { iso } from '../../core/time.js';
import type { Db } from '../../store/db.js';
import { insertRowsByCopy } from '../../store/copy.js';
import type { ColumnDataType } from '../../store/schema-campaigns.js';
import type { ProspectRow } from '../../store/schema.js';
import { listMembershipChanged } from '../campaigns/sync.js';
import type { AppContext } from '../context.js';
import type { NewEvent } from '../events/events.js';
import { checkedLeadInputs, invalidData, withoutNulls, type LeadInput } from '../leads/input.js';
import { resolveLeads, type LeadResolution } from '../leads/resolution.js';
import { getListRow, getUserListRow, systemListMembers } from './lists.js';
import { presentProspect, type ProspectWithContext, tagsOf } from '../inbox/presenters.js';
import { keysetPage } from '../../store/keyset.js';
import { rowOr404 } from '../rows.js';

export interface ListLead {
  prospect: ProspectWithContext;
  data: Record<string, unknown>;
  addedAt: string;
}

export type LeadOutcome = 'added' | 'skipped' | 'failed';

export interface AddLeadsResult {
  added: string[];
  skipped: string[];
  failed: string[];
}

/** The type of each of a list's columns, by column id. */
export async function listColumnTypes(db: Db, listId: string): Promise<Map<string, ColumnDataType>> {
  const rows = await db.selectFrom('list_columns').select(['id', 'type']).where('list_id', '=', listId).execute();
  return new Map(rows.map((r) => [r.id, r.type]));
}

/**
 * Adds resolved leads to a list in one statement. Outcomes follow the inputs: failed where the lead
 * could not be resolved, skipped where its prospect was in the list already (or earlier in the batch).
 * Call it in the transaction that persisted the resolution, with the list locked.
 */
export async function insertListLeads(
  trx: Db,
  listId: string,
  leads: ReadonlyArray<{ prospect: ProspectRow | null; data: Record<string, ColumnValue> }>,
  now: Date,
): Promise<LeadOutcome[]> {
  const first = new Map<string, number>();
  leads.forEach((lead, i) => {
    if (lead.prospect && !first.has(lead.prospect.id)) first.set(lead.prospect.id, i);
  });
  const added = new Set<string>();
  if (first.size > 0) {
    const rows = await insertRowsByCopy<'list_leads', { prospect_id: string }>(
      trx,
      'list_leads',
      [...first.values()].map((i) => ({ list_id: listId, prospect_id: leads[i]!.prospect!.id, data: JSON.stringify(leads[i]!.data), created_at: now })),
      'on conflict do nothing returning prospect_id',
    );
    for (const r of rows) added.add(r.prospect_id);
    if (rows.length > 0) await trx.updateTable('lists').set({ updated_at: now }).where('id', '=', listId).execute();
  }
  return leads.map((lead, i) => {
    if (!lead.prospect) return 'failed';
    return added.has(lead.prospect.id) && first.get(lead.prospect.id) === i ? 'added' : 'skipped';
  });
}

/** What an import does to a lead already in the list: leave it as it is, or give it the imported column values. */
export type MergeStrategy = 'skip' | 'overwrite';

/**
 * Gives leads already in a list the column values of an import (over theirs, column by column; a lead named
 * twice gets both, the later winning). Resolves with the prospects whose values changed.
 */
async function overwriteLeadData(trx: Db, listId: string, leads: ReadonlyArray<{ prospect: ProspectRow | null; data: Record<string, ColumnValue> }>): Promise<string[]> {
  const merged = new Map<string, Record<string, ColumnValue>>();
  for (const { prospect, data } of leads) if (prospect && Object.keys(data).length > 0) merged.set(prospect.id, { ...merged.get(prospect.id), ...data });
  if (merged.size === 0) return [];
  const rows = JSON.stringify([...merged].map(([prospectId, data]) => ({ prospect_id: prospectId, data })));
  await sql`
    update list_leads as l set data = l.data || v.data
    from jsonb_to_recordset(${rows}::jsonb) as v(prospect_id text, data jsonb)
    where l.list_id = ${listId} and l.prospect_id = v.prospect_id`.execute(trx);
  return [...merged.keys()];
}

/**
 * Writes a batch of resolved leads to a user list: new prospects, then the list's leads, in the
 * caller's transaction (one per API call, one per import batch). Leads already in the list are skipped, and
 * with `overwrite` given the batch's column values. Given `events`, the new prospects' events are added to it for
 * the caller to emit (see LeadResolution.persist).
 */
export async function writeListLeads(
  trx: Db,
  teamId: string,
  listId: string,
  resolution: LeadResolution,
  data: ReadonlyArray<Record<string, ColumnValue>>,
  now: Date,
  { merge = 'skip', events }: { merge?: MergeStrategy; events?: NewEvent[] } = {},
): Promise<LeadOutcome[]> {
  await getUserListRow(trx, teamId, listId, true);
  const prospects = await resolution.persist(trx, now, events);
  const leads = prospects.map((prospect, i) => ({ prospect, data: data[i]! }));
  const outcomes = await insertListLeads(trx, listId, leads, now);
  const overwritten = merge === 'overwrite' ? await overwriteLeadData(trx, listId, leads.filter((_, i) => outcomes[i] === 'skipped')) : [];
  const added = prospects.flatMap((p, i) => (p && outcomes[i] === 'added' ? [p.id] : []));
  await listMembershipChanged(trx, teamId, listId, [...added, ...overwritten], now);
  return outcomes;
}

/**
 * POST /lists/{id}/leads: adds leads named by any mix of identifiers, each reported back under the
 * identifier it was given by. Column values are checked before anything is written.
 */
export async function addListLeads(ctx: AppContext, teamId: string, listId: string, input: LeadInput[]): Promise<AddLeadsResult> {
  await getUserListRow(ctx.db, teamId, listId);
  const leads = checkedLeadInputs(await listColumnTypes(ctx.db, listId), input);
  const resolution = await resolveLeads(ctx, teamId, leads.map((l) => l.ref));
  const now = ctx.clock.now();
  const outcomes = await ctx.db.transaction().execute((trx) => writeListLeads(trx, teamId, listId, resolution, leads.map((l) => l.data), now));
  const result: AddLeadsResult = { added: [], skipped: [], failed: [] };
  outcomes.forEach((outcome, i) => result[outcome].push(leads[i]!.ref.value));
  return result;
}

/** DELETE /lists/{id}/leads: removes the leads with these platform ids; returns how many were there. */
export async function removeListLeads(ctx: AppContext, teamId: string, listId: string, platformIds: string[]): Promise<number> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    await getUserListRow(trx, teamId, listId, true);
    const removed = await trx
      .deleteFrom('list_leads')
      .where('list_id', '=', listId)
      .where('prospect_id', 'in', (eb) =>
        eb.selectFrom('prospects').select('id').where('team_id', '=', teamId).where('platform_id', 'in', [...new Set(platformIds)]),
      )
      .returning('prospect_id')
      .execute();
    if (removed.length > 0) await trx.updateTable('lists').set({ updated_at: now }).where('id', '=', listId).execute();
    await listMembershipChanged(trx, teamId, listId, removed.map((r) => r.prospect_id), now);
    return removed.length;
  });
}

/** PATCH /lists/{id}/leads/{platformId}: sets (or, with null, clears) a lead's column values. */
export async function updateListLead(
  ctx: AppContext,
  teamId: string,
  listId: string,
  platformId: string,
  data: Record<string, unknown>,
): Promise<{ prospect: ProspectWithContext; data: Record<string, unknown> }> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    await getUserListRow(trx, teamId, listId, true);
    const checked = checkLeadData(await listColumnTypes(trx, listId), data);
    if (checked.problems.length > 0) invalidData(checked.problems.map((p) => ({ ...p, at: 'data' })));
    const lead = await rowOr404(trx
      .selectFrom('list_leads as l')
      .innerJoin('prospects as p', 'p.id', 'l.prospect_id')
      .selectAll('p')
      .select('l.data as lead_data')
      .where('l.list_id', '=', listId)
      .where('p.team_id', '=', teamId)
      .where('p.platform_id', '=', platformId)
      , 'LEAD_NOT_FOUND', 'Lead', platformId);
    const { lead_data: before, ...prospect } = lead;
    const after = withoutNulls({ ...before, ...checked.data });
    await trx
      .updateTable('list_leads')
      .set({ data: JSON.stringify(after) })
      .where('list_id', '=', listId)
      .where('prospect_id', '=', prospect.id)
      .execute();
    await listMembershipChanged(trx, teamId, listId, [prospect.id], now);
    const tags = (await tagsOf(trx, [prospect.id])).get(prospect.id)!;
    return { prospect: presentProspect(prospect, tags, now), data: after };
  });
}

export interface LeadPageQuery {
  limit: number;
  cursor?: { id: string; timestamp: Date };
}

/**
 * A page of a list's leads in the order they were added, fetched with limit + 1 rows (see paginate).
 * System lists page over their derived members.
 */
export async function listListLeads(ctx: AppContext, teamId: string, listId: string, query: LeadPageQuery): Promise<ListLead[]> {
  const list = await getListRow(ctx.db, teamId, listId);
  // A stored list's leads keep the order they entered (position); a system list's derived members have none.
  const members = list.system_type
    ? ctx.db
        .selectFrom(systemListMembers(ctx.db, teamId, list.system_type).as('m'))
        .select(['m.prospect_id', 'm.added_at', sql<number>`0`.as('position'), sql<Record<string, unknown>>`'{}'::jsonb`.as('data')])
    : ctx.db.selectFrom('list_leads').select(['prospect_id', 'created_at as added_at', 'position', 'data']).where('list_id', '=', listId);
  const leads = ctx.db
    .selectFrom(members.as('l'))
    .innerJoin('prospects as p', 'p.id', 'l.prospect_id')
    .selectAll('p')
    .select(['l.added_at', 'l.data as lead_data']);
  const cursor = query.cursor;
  // The cursor names the last lead's prospect; its position is looked up (0 if it has left the list since, which
  // repeats its batch rather than skipping any of it).
  const after = cursor && [cursor.timestamp, sql`coalesce((select position from list_leads where list_id = ${listId} and prospect_id = ${cursor.id}), 0)`, cursor.id];
  const rows = await keysetPage(leads, ['l.added_at', 'l.position', 'l.prospect_id'], 'asc', after, query.limit).execute();
  const tags = await tagsOf(ctx.db, rows.map((r) => r.id));
  const now = ctx.clock.now();
  return rows.map(({ added_at, lead_data, ...prospect }) => ({
    prospect: presentProspect(prospect, tags.get(prospect.id)!, now),
    data: lead_data,
    addedAt: iso(new Date(added_at)),
  }));
}
