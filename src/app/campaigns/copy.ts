import { newId } from '../../core/ids.js';
import type { Segment } from '../../core/sequence.js';
import type { Db } from '../../store/db.js';
import type { StoredStep } from '../../core/sequence.js';
import { currentSequence, getCampaignRow } from './data.js';
import { presentCampaigns, summaryOf, type Campaign } from './campaigns.js';
import { newColumnId } from '../leads/columns.js';
import type { AppContext } from '../context.js';
import { emitEvent } from '../events/events.js';
import { applyLeadRules } from './lead-rules.js';

/**
 * POST /campaigns/v2/{id}/duplicate (our extension): a new draft with the campaign's settings, accounts, columns,
 * current sequence (as its version 1), lead rules and automations, and none of its leads. Columns get new ids,
 * and the sequence's variables and the lists' column mappings are pointed at them. The copy's synced lists then
 * bring their leads in as for any campaign whose rules are saved.
 */

const COPY_SUFFIX = ' (copy)';
const MAX_NAME = 255;

const copyName = (name: string) => `${name.slice(0, MAX_NAME - COPY_SUFFIX.length)}${COPY_SUFFIX}`;

function renamedSegments(segments: readonly Segment[], columnIds: ReadonlyMap<string, string>): Segment[] {
  return segments.map((segment) => (segment.type === 'variable' && columnIds.has(segment.name) ? { ...segment, name: columnIds.get(segment.name)! } : segment));
}

const copiedSteps = (steps: readonly StoredStep[], columnIds: ReadonlyMap<string, string>): StoredStep[] =>
  steps.map((step) =>
    step.type === 'message'
      ? ({ ...step, id: newId(), data: { segments: renamedSegments(step.data.segments, columnIds) } } as StoredStep)
      : { ...step, id: newId() },
  );

async function copyColumns(trx: Db, fromId: string, toId: string, now: Date): Promise<Map<string, string>> {
  const columns = await trx.selectFrom('campaign_columns').selectAll().where('campaign_id', '=', fromId).orderBy('created_at').orderBy('id').execute();
  const ids = new Map(columns.map((c) => [c.id, newColumnId()]));
  if (columns.length > 0) {
    await trx
      .insertInto('campaign_columns')
      .values(columns.map((c) => ({ id: ids.get(c.id)!, campaign_id: toId, name: c.name, type: c.type, description: c.description, created_at: now })))
      .execute();
  }
  return ids;
}

export async function duplicateCampaign(ctx: AppContext, teamId: string, campaignId: string): Promise<Campaign> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const source = await getCampaignRow(trx, teamId, campaignId);
    const sequence = await currentSequence(trx, source);
    const id = newId();
    await trx
      .insertInto('campaigns')
      .values({
        id,
        team_id: teamId,
        name: copyName(source.name),
        description: source.description,
        messages_per_hour: source.messages_per_hour,
        timezone: source.timezone,
        schedule: JSON.stringify(source.schedule),
        sequence_version: sequence.version > 0 ? 1 : 0,
        pause_reason: null,
        created_at: now,
      })
      .execute();
    const accounts = await trx.selectFrom('campaign_accounts').select(['account_link_id', 'position']).where('campaign_id', '=', campaignId).execute();
    if (accounts.length > 0) await trx.insertInto('campaign_accounts').values(accounts.map((a) => ({ ...a, campaign_id: id }))).execute();
    const columnIds = await copyColumns(trx, campaignId, id, now);
    if (sequence.version > 0) {
      await trx
        .insertInto('sequence_versions')
        .values({ campaign_id: id, version: 1, steps: JSON.stringify(copiedSteps(sequence.steps, columnIds)), created_at: now })
        .execute();
    }
    const automations = await trx.selectFrom('automations').selectAll().where('campaign_id', '=', campaignId).orderBy('position').execute();
    if (automations.length > 0) {
      await trx
        .insertInto('automations')
        .values(automations.map((a) => ({ ...a, id: newId(), campaign_id: id, action_data: JSON.stringify(a.action_data) })))
        .execute();
    }
    const rules = await trx.selectFrom('campaign_list_rules').selectAll().where('campaign_id', '=', campaignId).execute();
    const synced = rules.filter((r) => r.kind === 'synced');
    await applyLeadRules(
      trx,
      teamId,
      id,
      {
        syncedListIds: synced.map((r) => r.list_id),
        excludedListIds: rules.filter((r) => r.kind === 'excluded').map((r) => r.list_id),
        columnMappings: Object.fromEntries(
          synced.map((r) => [r.list_id, Object.fromEntries(Object.entries(r.column_mapping).map(([from, to]) => [from, columnIds.get(to) ?? to]))]),
        ),
        excludeContacted: source.exclude_contacted,
        excludeMutuals: source.exclude_mutuals,
      },
      now,
    );
    const [campaign] = await presentCampaigns(trx, [await getCampaignRow(trx, teamId, id)]);
    await emitEvent(trx, teamId, 'campaign.created', { campaign: summaryOf(campaign!) }, now);
    return campaign!;
  });
}
