import type { Selectable } from 'kysely';
import { AppError, invalidFields } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Problem } from '../../core/schedule.js';
import type { Db } from '../../store/db.js';
import type { AutomationsTable, CampaignRow } from '../../store/schema-campaigns.js';
import { getCampaignRow, touchCampaign } from './data.js';
import type { AppContext } from '../context.js';
import { applyProspectContext, type ContextInput } from '../prospects/prospects.js';

/**
 * Automations (spec 4.15, 7.2): when a campaign lead is contacted, replies or completes the sequence without
 * replying, set the prospect's status, add a tag or assign it to a member. Here they are configured (every
 * status, tag and member they name must be the team's) and run, for the engine's sends and for replies.
 */
export type AutomationTrigger = AutomationsTable['trigger'];

export type AutomationAction =
  | { action: 'setStatus'; actionData: { statusId: string } }
  | { action: 'addTag'; actionData: { tagId: string } }
  | { action: 'assign'; actionData: { memberId: string } };

export type AutomationInput = AutomationAction & { trigger: AutomationTrigger; enabled?: boolean };
export type Automation = AutomationAction & { id: string; trigger: AutomationTrigger; enabled: boolean };

/** The team table each action refers to, and the key of its id in actionData. */
const REFERENCES = {
  setStatus: { table: 'statuses', key: 'statusId', noun: 'status' },
  addTag: { table: 'tags', key: 'tagId', noun: 'tag' },
  assign: { table: 'members', key: 'memberId', noun: 'member' },
} as const;

const referenceOf = (automation: AutomationAction): string => Object.values(automation.actionData)[0]!;

async function referenceProblems(db: Db, teamId: string, automations: readonly AutomationInput[]): Promise<Problem[]> {
  const known = new Map<string, Set<string>>();
  for (const { table } of Object.values(REFERENCES)) {
    const ids = automations.filter((a) => REFERENCES[a.action].table === table).map(referenceOf);
    const found = ids.length === 0 ? [] : await db.selectFrom(table).select('id').where('team_id', '=', teamId).where('id', 'in', ids).execute();
    known.set(table, new Set(found.map((r) => r.id)));
  }
  return automations.flatMap((automation, index) => {
    const { table, key, noun } = REFERENCES[automation.action];
    const id = referenceOf(automation);
    return known.get(table)!.has(id) ? [] : [{ field: `automations.${index}.actionData.${key}`, message: `no ${noun} '${id}' in this team` }];
  });
}

/** The automations of each campaign, in the order they were given. */
export async function automationsByCampaign(db: Db, campaignIds: readonly string[]): Promise<Map<string, Automation[]>> {
  const byCampaign = new Map(campaignIds.map((id) => [id, [] as Automation[]]));
  if (campaignIds.length === 0) return byCampaign;
  const rows = await db.selectFrom('automations').selectAll().where('campaign_id', 'in', campaignIds).orderBy('position').execute();
  for (const row of rows) {
    byCampaign.get(row.campaign_id)!.push({
      id: row.id,
      trigger: row.trigger,
      action: row.action,
      actionData: row.action_data,
      enabled: row.enabled,
    } as Automation);
  }
  return byCampaign;
}

export async function listAutomations(ctx: AppContext, teamId: string, campaignId: string): Promise<Automation[]> {
  await getCampaignRow(ctx.db, teamId, campaignId);
  return (await automationsByCampaign(ctx.db, [campaignId])).get(campaignId)!;
}

/** Replaces a campaign's automations with `input`, all or nothing. */
export async function replaceAutomations(
  ctx: AppContext,
  teamId: string,
  campaignId: string,
  input: readonly AutomationInput[],
): Promise<Automation[]> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    await getCampaignRow(trx, teamId, campaignId, true);
    const problems = await referenceProblems(trx, teamId, input);
    if (problems.length > 0) {
      throw invalidFields('automations', problems);
    }
    await trx.deleteFrom('automations').where('campaign_id', '=', campaignId).execute();
    if (input.length > 0) {
      await trx
        .insertInto('automations')
        .values(
          input.map((a, position) => ({
            id: newId(),
            campaign_id: campaignId,
            position,
            trigger: a.trigger,
            action: a.action,
            action_data: JSON.stringify(a.actionData),
            enabled: a.enabled ?? true,
          })),
        )
        .execute();
    }
    await touchCampaign(trx, campaignId, now);
    return (await automationsByCampaign(trx, [campaignId])).get(campaignId)!;
  });
}

function contextChange(action: AutomationsTable['action'], data: Record<string, string>): ContextInput {
  switch (action) {
    case 'setStatus':
      return { statusId: data.statusId! };
    case 'addTag':
      return { addTags: [data.tagId!] };
    case 'assign':
      return { assigneeId: data.memberId! };
  }
}

/** An enabled automation as it runs: its action and what the action names. */
export type AutomationToRun = Pick<Selectable<AutomationsTable>, 'action' | 'action_data'>;

/** The enabled automations for `trigger` of each campaign, in their configured order. */
export async function automationsOf(trx: Db, campaignIds: readonly string[], trigger: AutomationTrigger): Promise<Map<string, AutomationToRun[]>> {
  const byCampaign = new Map<string, AutomationToRun[]>(campaignIds.map((id) => [id, []]));
  if (campaignIds.length === 0) return byCampaign;
  const rows = await trx
    .selectFrom('automations')
    .select(['campaign_id', 'action', 'action_data'])
    .where('campaign_id', 'in', campaignIds)
    .where('trigger', '=', trigger)
    .where('enabled', '=', true)
    .orderBy('position')
    .execute();
  for (const { campaign_id, ...automation } of rows) byCampaign.get(campaign_id)!.push(automation);
  return byCampaign;
}

/** Applies automations to one prospect, in order. */
export async function applyAutomations(trx: Db, teamId: string, prospectId: string, automations: readonly AutomationToRun[], now: Date): Promise<void> {
  for (const { action, action_data } of automations) {
    try {
      await applyProspectContext(trx, teamId, prospectId, contextChange(action, action_data), now);
    } catch (error) {
      // A status, tag or member deleted since the automation was saved: skip it rather than stop the campaign.
      if (!(error instanceof AppError) || error.status !== 404) throw error;
    }
  }
}

/** Runs the campaign's enabled automations for `trigger` on one prospect, in their configured order. */
export async function runAutomations(
  trx: Db,
  campaign: Pick<CampaignRow, 'id' | 'team_id'>,
  prospectId: string,
  trigger: AutomationTrigger,
  now: Date,
): Promise<void> {
  const automations = (await automationsOf(trx, [campaign.id], trigger)).get(campaign.id)!;
  await applyAutomations(trx, campaign.team_id, prospectId, automations, now);
}
