import { sql } from 'kysely';
import { ruleTransition, type RuleEvent } from '../../core/lead-lifecycle.js';
import { decideScope, type CandidateFacts, type Reachability, type ScopeDecision, type ScopeRules } from '../../core/lead-scope.js';
import { upsertLeads, type LeadWrite } from '../../store/campaign-leads.js';
import type { Db } from '../../store/db.js';
import type { CampaignRow } from '../../store/schema-campaigns.js';
import type { Platform as PlatformName } from '../../store/schema.js';
import { lookupAccountOf } from '../accounts/account-links.js';
import { platformOf } from '../../platforms/platform.js';
import type { AppContext } from '../context.js';
import { systemListMembers } from '../lists/lists.js';

/**
 * A campaign's scope: which leads it holds, and in which state, by its lead rules. Gathers the facts
 * about a batch of candidate leads set-based, decides each with the core's decideScope, and writes the
 * outcome back set-based. The direct add and the background sync (sync.ts) both use it.
 */

/** The lists a campaign's rules name: synced lists with their column mappings, in rule order, and excluded ones. */
export interface CampaignScope {
  campaignId: string;
  teamId: string;
  rules: ScopeRules;
  synced: Map<string, Record<string, string>>;
  excluded: string[];
}

export async function scopeOf(db: Db, campaign: CampaignRow): Promise<CampaignScope> {
  const rows = await db
    .selectFrom('campaign_list_rules')
    .select(['list_id', 'kind', 'column_mapping'])
    .where('campaign_id', '=', campaign.id)
    .orderBy('list_id')
    .execute();
  return {
    campaignId: campaign.id,
    teamId: campaign.team_id,
    rules: { excludeContacted: campaign.exclude_contacted, excludeMutuals: campaign.exclude_mutuals },
    synced: new Map(rows.filter((r) => r.kind === 'synced').map((r) => [r.list_id, r.column_mapping])),
    excluded: rows.filter((r) => r.kind === 'excluded').map((r) => r.list_id),
  };
}

/** A candidate's facts, with what the writer needs besides: its synced lists and its mapped column values. */
export interface Candidate {
  prospectId: string;
  facts: CandidateFacts;
  /** the reason stored on its row now (kept as it is when the decision is to keep) */
  reason: string | null;
  sourceListIds: string[];
  mappedData: Record<string, unknown>;
}

export interface ProspectProfile {
  id: string;
  platform: PlatformName;
  platform_id: string;
}

/** The profiles of these prospects (of one team) as their platforms report them now: one batch call per platform. */
export async function lookUpReachability(
  ctx: AppContext,
  teamId: string,
  prospects: readonly ProspectProfile[],
): Promise<Map<string, Reachability | null>> {
  const reachability = new Map<string, Reachability | null>();
  for (const platform of new Set(prospects.map((p) => p.platform))) {
    const on = prospects.filter((p) => p.platform === platform);
    const profiles = await platformOf(ctx, platform).profilesByIds(on.map((p) => p.platform_id), await lookupAccountOf(ctx.db, teamId, platform));
    for (const p of on) {
      const profile = profiles.get(p.platform_id);
      reachability.set(p.id, profile ? { accountStatus: profile.accountStatus, dmsOpen: profile.dmsOpen } : null);
    }
  }
  return reachability;
}

/**
 * The facts about these prospects as candidates of the campaign, read in the caller's transaction.
 * Their lead rows are locked, so the engine cannot move a lead between this read and the write.
 */
export async function gatherCandidates(
  trx: Db,
  scope: CampaignScope,
  prospectIds: readonly string[],
  reachability: ReadonlyMap<string, Reachability | null>,
): Promise<Candidate[]> {
  if (prospectIds.length === 0) return [];
  const ids = [...prospectIds];
  const leads = await trx
    .selectFrom('campaign_leads')
    .select(['prospect_id', 'state', 'direct', 'contacted_at', 'failure_reason'])
    .where('campaign_id', '=', scope.campaignId)
    .where('prospect_id', 'in', ids)
    .forUpdate()
    .execute();
  const lists = [...scope.synced.keys(), ...scope.excluded];
  const memberships =
    lists.length === 0
      ? []
      : await trx.selectFrom('list_leads').select(['list_id', 'prospect_id', 'data']).where('list_id', 'in', lists).where('prospect_id', 'in', ids).execute();
  // The team-wide sets matter only when their flag is on.
  const members = async (on: boolean, type: 'contacted' | 'mutual') =>
    new Set(on ? (await systemListMembers(trx, scope.teamId, type).where('prospect_id', 'in', ids).execute()).map((r) => r.prospect_id) : []);
  const contacted = await members(scope.rules.excludeContacted, 'contacted');
  const mutual = await members(scope.rules.excludeMutuals, 'mutual');

  const leadOf = new Map(leads.map((l) => [l.prospect_id, l]));
  // Each prospect's column values per list it is in.
  const listsOf = new Map<string, Map<string, Record<string, unknown>>>();
  for (const m of memberships) {
    if (!listsOf.has(m.prospect_id)) listsOf.set(m.prospect_id, new Map());
    listsOf.get(m.prospect_id)!.set(m.list_id, m.data);
  }
  return ids.map((prospectId) => {
    const lead = leadOf.get(prospectId);
    const mine = listsOf.get(prospectId) ?? new Map<string, Record<string, unknown>>();
    const sources = [...scope.synced.keys()].filter((listId) => mine.has(listId));
    const mappedData: Record<string, unknown> = {};
    for (const listId of sources) {
      const values = mine.get(listId)!;
      for (const [from, to] of Object.entries(scope.synced.get(listId)!)) if (values[from] !== undefined) mappedData[to] = values[from];
    }
    return {
      prospectId,
      reason: lead?.failure_reason ?? null,
      sourceListIds: sources,
      mappedData,
      facts: {
        syncedLists: sources.length,
        excludedLists: scope.excluded.filter((listId) => mine.has(listId)).length,
        direct: lead?.direct ?? false,
        contactedByTeam: contacted.has(prospectId),
        mutual: mutual.has(prospectId),
        contactedByCampaign: lead?.contacted_at != null,
        state: lead?.state ?? null,
        profile: reachability.has(prospectId) ? reachability.get(prospectId)! : null,
      },
    };
  });
}

/** The row a decision leaves a candidate with, or null when it has (or keeps) none; the lead state machine names its state. */
export function writeOf(candidate: Candidate, decision: ScopeDecision): LeadWrite | null {
  const { facts } = candidate;
  const base = { prospectId: candidate.prospectId, direct: facts.direct, data: candidate.mappedData };
  switch (decision.kind) {
    case 'pending':
    case 'excluded': {
      const event: RuleEvent = decision.kind === 'pending' ? { type: 'admitted' } : { type: 'excluded', reason: decision.reason };
      const transition = ruleTransition(facts.state, facts.contactedByCampaign, event);
      if (!transition.ok) throw new Error(`lead rules: ${transition.reason}`);
      return { ...base, state: transition.set.state!, reason: transition.set.failure_reason! };
    }
    case 'keep':
      return facts.state === null ? null : { ...base, state: facts.state, reason: candidate.reason };
    case 'leave':
      return null;
  }
}

/**
 * Applies the rules to a batch of candidates: decides each, writes their rows and their sources (the
 * synced lists that hold them), and removes those that leave. Returns the decisions in order.
 */
export async function applyScope(trx: Db, scope: CampaignScope, candidates: readonly Candidate[], now: Date): Promise<ScopeDecision[]> {
  if (candidates.length === 0) return [];
  const decisions = candidates.map((c) => decideScope(c.facts, scope.rules));
  const writes = candidates.flatMap((c, i) => writeOf(c, decisions[i]!) ?? []);
  await upsertLeads(trx, scope, writes, now);
  const ids = candidates.map((c) => c.prospectId);
  await trx.deleteFrom('campaign_lead_sources').where('campaign_id', '=', scope.campaignId).where('prospect_id', 'in', ids).execute();
  const kept = new Set(writes.map((w) => w.prospectId));
  const sources = candidates.flatMap((c) => (kept.has(c.prospectId) ? c.sourceListIds.map((listId) => ({ prospect_id: c.prospectId, list_id: listId })) : []));
  if (sources.length > 0) {
    await sql`
      insert into campaign_lead_sources (campaign_id, prospect_id, list_id)
      select ${scope.campaignId}, v.prospect_id, v.list_id from jsonb_to_recordset(${JSON.stringify(sources)}::jsonb) as v(prospect_id text, list_id text)
    `.execute(trx);
  }
  const leaving = candidates.filter((_, i) => decisions[i]!.kind === 'leave').map((c) => c.prospectId);
  if (leaving.length > 0) {
    await trx
      .deleteFrom('campaign_leads')
      .where('campaign_id', '=', scope.campaignId)
      .where('prospect_id', 'in', leaving)
      .where('contacted_at', 'is', null)
      .execute();
  }
  return decisions;
}
