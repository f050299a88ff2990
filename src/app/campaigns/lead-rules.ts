import { conflict, invalidFields } from '../../core/errors.js';
import type { Problem } from '../../core/schedule.js';
import type { Db } from '../../store/db.js';
import { getCampaignRow, touchCampaign } from './data.js';
import { requestCampaignSync } from './sync.js';
import { CAMPAIGN_COLUMNS, columnIds } from '../leads/columns.js';
import type { AppContext } from '../context.js';

/**
 * PATCH /campaigns/v2/{id}/rules (spec 3.13): which user lists feed a campaign, which keep leads out,
 * the team-wide exclusions, and how synced list columns map into campaign columns. Saving starts a
 * full sync in the background; a list that stops being synced detaches its leads as asked.
 */

export type DetachBehavior = 'unlink' | 'remove';

export interface LeadRulesInput {
  syncedListIds?: string[];
  excludedListIds?: string[];
  /** list id → (list column id → campaign column id); replaces every mapping when given */
  columnMappings?: Record<string, Record<string, string>>;
  excludeContacted?: boolean;
  excludeMutuals?: boolean;
  /** unlink (default): a detached list's leads stay, as direct leads; remove: those only it brought leave unless contacted */
  detachBehavior?: DetachBehavior;
}

interface RuleLists {
  synced: string[];
  excluded: string[];
  mappings: Record<string, Record<string, string>>;
}

const FLAG_OF = { contacted: 'excludeContacted', mutual: 'excludeMutuals' } as const;

/** Every problem with the lists and mappings, so one 400 names them all. */
async function ruleProblems(db: Db, teamId: string, campaignId: string, rules: RuleLists): Promise<Problem[]> {
  const named = [...new Set([...rules.synced, ...rules.excluded, ...Object.keys(rules.mappings)])];
  const lists = named.length === 0 ? [] : await db.selectFrom('lists').select(['id', 'name', 'system_type']).where('team_id', '=', teamId).where('id', 'in', named).execute();
  const listOf = new Map(lists.map((l) => [l.id, l]));
  const problems: Problem[] = [];
  const checkLists = (ids: string[], key: 'syncedListIds' | 'excludedListIds') =>
    ids.forEach((id, i) => {
      const field = `${key}.${i}`;
      const list = listOf.get(id);
      if (ids.indexOf(id) !== i) problems.push({ field, message: `'${id}' is listed twice` });
      else if (!list) problems.push({ field, message: `no list '${id}' in this team` });
      else if (list.system_type && key === 'excludedListIds') {
        problems.push({ field, message: `'${list.name}' is a system list: set ${FLAG_OF[list.system_type]} instead` });
      } else if (list.system_type) problems.push({ field, message: `'${list.name}' is a system list: only user lists can be synced` });
      else if (key === 'excludedListIds' && rules.synced.includes(id)) {
        problems.push({ field, message: `'${list.name}' is also synced: a list is either synced or excluded` });
      }
    });
  checkLists(rules.synced, 'syncedListIds');
  checkLists(rules.excluded, 'excludedListIds');

  const campaignColumns = new Set(await columnIds(db, CAMPAIGN_COLUMNS, campaignId));
  const mapped = Object.keys(rules.mappings).filter((id) => rules.synced.includes(id) && listOf.has(id));
  const listColumns = mapped.length === 0 ? [] : await db.selectFrom('list_columns').select(['id', 'list_id']).where('list_id', 'in', mapped).execute();
  for (const [listId, mapping] of Object.entries(rules.mappings)) {
    if (!rules.synced.includes(listId)) {
      problems.push({ field: `columnMappings.${listId}`, message: 'only a synced list can map its columns' });
      continue;
    }
    for (const [from, to] of Object.entries(mapping)) {
      const field = `columnMappings.${listId}.${from}`;
      if (!listColumns.some((c) => c.id === from && c.list_id === listId)) problems.push({ field, message: `no column '${from}' in list '${listId}'` });
      if (!campaignColumns.has(to)) problems.push({ field, message: `no campaign column '${to}': create it first` });
    }
  }
  return problems;
}

export async function updateLeadRules(ctx: AppContext, teamId: string, campaignId: string, input: LeadRulesInput): Promise<void> {
  await ctx.db.transaction().execute((trx) => applyLeadRules(trx, teamId, campaignId, input, ctx.clock.now()));
}

/** Replaces a campaign's lead rules inside the caller's transaction (creating a campaign applies them too). */
export async function applyLeadRules(trx: Db, teamId: string, campaignId: string, input: LeadRulesInput, now: Date): Promise<void> {
  const campaign = await getCampaignRow(trx, teamId, campaignId, true);
  if (campaign.status === 'completed') throw conflict(`Campaign '${campaignId}' is completed: its lead rules can no longer change`);
  const current = await trx.selectFrom('campaign_list_rules').selectAll().where('campaign_id', '=', campaignId).execute();
  const currentSynced = current.filter((r) => r.kind === 'synced');
  const rules: RuleLists = {
    synced: input.syncedListIds ?? currentSynced.map((r) => r.list_id),
    excluded: input.excludedListIds ?? current.filter((r) => r.kind === 'excluded').map((r) => r.list_id),
    mappings: input.columnMappings ?? {},
  };
  // Lists that stay synced keep their mappings unless new ones are given.
  if (!input.columnMappings) {
    for (const r of currentSynced) if (rules.synced.includes(r.list_id)) rules.mappings[r.list_id] = r.column_mapping;
  }
  const problems = await ruleProblems(trx, teamId, campaignId, rules);
  if (problems.length > 0) {
    throw invalidFields('lead rules', problems);
  }

  const detached = currentSynced.map((r) => r.list_id).filter((id) => !rules.synced.includes(id));
  if (detached.length > 0) {
    const sourcedByDetached = trx
      .selectFrom('campaign_lead_sources')
      .select('prospect_id')
      .where('campaign_id', '=', campaignId)
      .where('list_id', 'in', detached);
    // unlink keeps the leads as direct ones; remove lets the sync drop those no other source holds.
    if ((input.detachBehavior ?? 'unlink') === 'unlink') {
      await trx.updateTable('campaign_leads').set({ direct: true, updated_at: now }).where('campaign_id', '=', campaignId).where('direct', '=', false).where('prospect_id', 'in', sourcedByDetached).execute();
    }
    await trx.deleteFrom('campaign_lead_sources').where('campaign_id', '=', campaignId).where('list_id', 'in', detached).execute();
  }

  await trx.deleteFrom('campaign_list_rules').where('campaign_id', '=', campaignId).execute();
  const rows = [
    ...rules.synced.map((listId) => ({ campaign_id: campaignId, list_id: listId, kind: 'synced' as const, column_mapping: JSON.stringify(rules.mappings[listId] ?? {}) })),
    ...rules.excluded.map((listId) => ({ campaign_id: campaignId, list_id: listId, kind: 'excluded' as const, column_mapping: '{}' })),
  ];
  if (rows.length > 0) await trx.insertInto('campaign_list_rules').values(rows).execute();
  await trx
    .updateTable('campaigns')
    .set({
      exclude_contacted: input.excludeContacted ?? campaign.exclude_contacted,
      exclude_mutuals: input.excludeMutuals ?? campaign.exclude_mutuals,
      scope_assessed_count: 0,
    })
    .where('id', '=', campaignId)
    .execute();
  await touchCampaign(trx, campaignId, now);
  await requestCampaignSync(trx, teamId, [campaignId], { full: true }, now);
}
