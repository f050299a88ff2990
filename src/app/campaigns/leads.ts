import { sql } from 'kysely';
import { checkLeadData } from '../../core/column-values.js';
import { conflict, notFound } from '../../core/errors.js';
import { leadTransition } from '../../core/lead-lifecycle.js';
import type { Reachability } from '../../core/lead-scope.js';
import { iso, isoOrNull } from '../../core/time.js';
import { writeLeadChanges } from '../../store/campaign-leads.js';
import type { Db } from '../../store/db.js';
import type { CampaignLeadRow, CampaignRow, ColumnDataType, LeadState } from '../../store/schema-campaigns.js';
import type { ProspectRow } from '../../store/schema.js';
import type { LeadWait, WaitingFor } from '../../core/waiting.js';
import { getCampaignRow } from './data.js';
import { applyScope, gatherCandidates, scopeOf } from './scope.js';
import { CAMPAIGN_COLUMNS, columnsByOwner } from '../leads/columns.js';
import { engineRandom, type AppContext } from '../context.js';
import { resolveLeads, type LeadRef, type UnresolvedReason } from '../leads/resolution.js';
import { checkedLeadInputs, invalidData, withoutNulls, type LeadInput } from '../leads/input.js';
import { presentProspect, type ProspectWithContext, tagsOf } from '../inbox/presenters.js';

/**
 * A campaign's leads (spec 3.13): added directly in bulk, listed with their state, cancelled, and given
 * column values. Which leads may enter is decided by the campaign's lead rules (scope.ts).
 */

export interface CampaignLead {
  id: string;
  prospect: ProspectWithContext;
  state: LeadState;
  accountLinkId: string | null;
  /** the rank of the step the lead is at while in flight */
  currentStep: number | null;
  /** the same as nextSendAt (the vendor's name for it) */
  nextStepAt: string | null;
  lastContactAt: string | null;
  contactedAt: string | null;
  repliedAt: string | null;
  /** why the lead failed, or why the rules keep it out (state excluded) */
  failureReason: string | null;
  /** when the engine sends its next step if nothing changes (see core/waiting) */
  nextSendAt: string | null;
  /** why it has not been sent yet; null when it goes out now or has nothing left to send */
  waitingFor: WaitingForView | null;
  source: { direct: boolean; listIds: string[] };
  data: Record<string, unknown>;
  createdAt: string;
  updatedAt: string | null;
}

type Iso<T> = T extends Date ? string : T;
/** A WaitingFor as the API shows it: its instant as ISO text. */
type WaitingForView = WaitingFor extends infer W ? (W extends { until: infer U } ? Omit<W, 'until'> & { until: Iso<U> } : never) : never;

export interface AddCampaignLeadsResult {
  added: number;
  /** already in the campaign, or kept out by its rules */
  skipped: number;
  /** could not be resolved to a reachable profile */
  failed: number;
  /** each identifier that failed, as given, and why */
  failures: { identifier: string; reason: UnresolvedReason }[];
}

function assertOpen(campaign: CampaignRow): void {
  if (campaign.status === 'completed') throw conflict(`Campaign '${campaign.id}' is completed: it takes no more leads`);
}

async function campaignColumnTypes(db: Db, campaignId: string): Promise<Map<string, ColumnDataType>> {
  const columns = (await columnsByOwner(db, CAMPAIGN_COLUMNS, [campaignId])).get(campaignId)!;
  return new Map(columns.map((c) => [c.id, c.type]));
}

const storedReachability = (p: ProspectRow): Reachability => ({ accountStatus: p.account_status as Reachability['accountStatus'], dmsOpen: p.dms_open });

/**
 * POST /campaigns/v2/{id}/leads: resolves the leads (asking the platform for unknown ones before the
 * transaction), then in one transaction writes the new prospects and the new leads set-based. New
 * leads are direct; the rules decide whether each enters pending or is kept out (excluded, skipped).
 */
export async function addCampaignLeads(ctx: AppContext, teamId: string, campaignId: string, input: LeadInput[]): Promise<AddCampaignLeadsResult> {
  assertOpen(await getCampaignRow(ctx.db, teamId, campaignId));
  const leads = checkedLeadInputs(await campaignColumnTypes(ctx.db, campaignId), input);
  const resolution = await resolveLeads(ctx, teamId, leads.map((l) => l.ref));
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const campaign = await getCampaignRow(trx, teamId, campaignId, true);
    assertOpen(campaign);
    const prospects = await resolution.persist(trx, now);
    // The first mention of a prospect counts; later ones (another identifier for the same person) are skipped.
    const named = new Map<string, { prospect: ProspectRow; data: Record<string, unknown> }>();
    prospects.forEach((prospect, i) => {
      if (prospect && !named.has(prospect.id)) named.set(prospect.id, { prospect, data: leads[i]!.data });
    });
    const ids = [...named.keys()];
    const existing =
      ids.length === 0
        ? new Set<string>()
        : new Set(
            (await trx.selectFrom('campaign_leads').select('prospect_id').where('campaign_id', '=', campaignId).where('prospect_id', 'in', ids).execute()).map(
              (r) => r.prospect_id,
            ),
          );
    if (existing.size > 0) {
      // Named directly now, so it stays when the lists that brought it let it go.
      await trx
        .updateTable('campaign_leads')
        .set({ direct: true, updated_at: now })
        .where('campaign_id', '=', campaignId)
        .where('prospect_id', 'in', [...existing])
        .where('direct', '=', false)
        .execute();
    }
    const fresh = ids.filter((id) => !existing.has(id));
    const scope = await scopeOf(trx, campaign);
    const reachability = new Map(fresh.map((id) => [id, storedReachability(named.get(id)!.prospect)]));
    const candidates = (await gatherCandidates(trx, scope, fresh, reachability)).map((c) => ({
      ...c,
      facts: { ...c.facts, direct: true },
      mappedData: { ...c.mappedData, ...named.get(c.prospectId)!.data },
    }));
    const decisions = await applyScope(trx, scope, candidates, now);
    // Each new lead was just judged against the rules, as a sync judges list leads: it counts as assessed.
    if (candidates.length > 0) {
      await trx
        .updateTable('campaigns')
        .set((eb) => ({ scope_assessed_count: eb('scope_assessed_count', '+', candidates.length) }))
        .where('id', '=', campaignId)
        .execute();
    }
    const added = decisions.filter((d) => d.kind === 'pending').length;
    const failures = leads.flatMap(({ ref }, i) => (prospects[i] ? [] : [{ identifier: ref.value, reason: resolution.whyUnresolved(ref) }]));
    return { added, skipped: prospects.length - added - failures.length, failed: failures.length, failures };
  });
}

export interface CampaignLeadQuery {
  state?: LeadState[];
  limit: number;
  cursor?: { id: string; timestamp: Date };
}

async function present(ctx: AppContext, campaign: CampaignRow, rows: readonly CampaignLeadRow[]): Promise<CampaignLead[]> {
  if (rows.length === 0) return [];
  const { db } = ctx;
  const now = ctx.clock.now();
  const waits = await ctx.leadWaits(db, engineRandom(ctx), now, campaign, rows);
  const prospectIds = rows.map((r) => r.prospect_id);
  const prospects = new Map((await db.selectFrom('prospects').selectAll().where('id', 'in', prospectIds).execute()).map((p) => [p.id, p]));
  const tags = await tagsOf(db, prospectIds);
  const sources = await db
    .selectFrom('campaign_lead_sources')
    .select(['prospect_id', 'list_id'])
    .where('campaign_id', '=', rows[0]!.campaign_id)
    .where('prospect_id', 'in', prospectIds)
    .orderBy('list_id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    prospect: presentProspect(prospects.get(r.prospect_id)!, tags.get(r.prospect_id)!, now),
    state: r.state,
    accountLinkId: r.account_link_id,
    currentStep: r.state === 'active' ? r.next_rank : null,
    lastContactAt: isoOrNull(r.last_contact_at),
    contactedAt: isoOrNull(r.contacted_at),
    repliedAt: isoOrNull(r.replied_at),
    failureReason: r.failure_reason,
    ...presentWait(waits.get(r.id)!),
    source: { direct: r.direct, listIds: sources.filter((s) => s.prospect_id === r.prospect_id).map((s) => s.list_id) },
    data: r.data,
    createdAt: iso(r.created_at),
    updatedAt: isoOrNull(r.updated_at),
  }));
}

const presentWait = ({ nextSendAt, waitingFor }: LeadWait): Pick<CampaignLead, 'nextStepAt' | 'nextSendAt' | 'waitingFor'> => ({
  // The seed's nextStepAt is when the next step goes out: the plan's time, not the step's due time (which a
  // closed window, the pace or a queue push back), so both fields come from the same planning (issue 23).
  nextStepAt: isoOrNull(nextSendAt),
  nextSendAt: isoOrNull(nextSendAt),
  // Each reason keeps its own fields; only the instant changes form.
  waitingFor: waitingFor && ({ ...waitingFor, until: isoOrNull(waitingFor.until) } as WaitingForView),
});

/** A page of the campaign's leads in the order they entered, fetched with limit + 1 rows (see paginate). */
export async function listCampaignLeads(ctx: AppContext, teamId: string, campaignId: string, query: CampaignLeadQuery): Promise<CampaignLead[]> {
  const campaign = await getCampaignRow(ctx.db, teamId, campaignId);
  let page = ctx.db
    .selectFrom('campaign_leads')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .orderBy('created_at')
    .orderBy('position')
    .limit(query.limit + 1);
  if (query.state?.length) page = page.where('state', 'in', query.state);
  const cursor = query.cursor;
  if (cursor) {
    // The cursor names the last lead; its position is looked up (0 if it is gone, which repeats its batch).
    const position = sql<number>`coalesce((select position from campaign_leads where campaign_id = ${campaignId} and id = ${cursor.id}), 0)`;
    page = page.where((eb) => eb(eb.refTuple('created_at', 'position'), '>', eb.tuple(cursor.timestamp, position)));
  }
  return present(ctx, campaign, await page.execute());
}

/** How a route names a lead: by the prospect's platform id (default), username or externalId. */
export type LeadIdentifier = { by: LeadRef['by']; value: string };

/** The campaign's lead named so (locked until the transaction ends unless only read), or 404 LEAD_NOT_FOUND. */
async function getLead(
  trx: Db,
  teamId: string,
  campaignId: string,
  identifier: LeadIdentifier,
  lock: 'forUpdate' | 'read' = 'forUpdate',
): Promise<{ lead: CampaignLeadRow; prospect: ProspectRow; campaign: CampaignRow }> {
  const campaign = await getCampaignRow(trx, teamId, campaignId);
  let prospects = trx.selectFrom('prospects').selectAll().where('team_id', '=', teamId);
  if (identifier.by === 'externalId') prospects = prospects.where('id', '=', identifier.value);
  else if (identifier.by === 'platformId') prospects = prospects.where('platform_id', '=', identifier.value);
  else prospects = prospects.where((eb) => eb(eb.fn('lower', ['username']), '=', identifier.value.toLowerCase()));
  const prospect = await prospects.executeTakeFirst();
  const leads = trx.selectFrom('campaign_leads').selectAll().where('campaign_id', '=', campaignId);
  const lead = prospect && (await (lock === 'forUpdate' ? leads.forUpdate() : leads).where('prospect_id', '=', prospect.id).executeTakeFirst());
  if (!prospect || !lead) throw notFound('LEAD_NOT_FOUND', 'Lead', identifier.value);
  return { lead, prospect, campaign };
}

/** One lead of the campaign, presented as in the list. */
export async function getCampaignLead(ctx: AppContext, teamId: string, campaignId: string, identifier: LeadIdentifier): Promise<CampaignLead> {
  const { lead, campaign } = await getLead(ctx.db, teamId, campaignId, identifier, 'read');
  return (await present(ctx, campaign, [lead]))[0]!;
}

/** Stops a lead's sequence: only a lead still to be (or being) contacted can be cancelled. */
export async function cancelCampaignLead(ctx: AppContext, teamId: string, campaignId: string, identifier: LeadIdentifier): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const { lead } = await getLead(trx, teamId, campaignId, identifier);
    const transition = leadTransition(lead, { type: 'cancelled', at: now });
    if (!transition.ok) throw conflict(`Lead '${identifier.value}' ${transition.reason}`);
    await writeLeadChanges(trx, [{ id: lead.id, set: transition.set }]);
  });
}

/** Sets (or, with null, clears) a lead's campaign column values. */
export async function updateCampaignLead(
  ctx: AppContext,
  teamId: string,
  campaignId: string,
  identifier: LeadIdentifier,
  data: Record<string, unknown>,
): Promise<{ prospect: ProspectWithContext; data: Record<string, unknown> }> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const { lead, prospect } = await getLead(trx, teamId, campaignId, identifier);
    const checked = checkLeadData(await campaignColumnTypes(trx, campaignId), data);
    if (checked.problems.length > 0) invalidData(checked.problems.map((p) => ({ ...p, at: 'data' })));
    const after = withoutNulls({ ...lead.data, ...checked.data });
    await trx.updateTable('campaign_leads').set({ data: JSON.stringify(after), updated_at: now }).where('id', '=', lead.id).execute();
    return { prospect: presentProspect(prospect, (await tagsOf(trx, [prospect.id])).get(prospect.id)!, now), data: after };
  });
}
