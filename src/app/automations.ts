import { invalidFields } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Problem } from '../core/schedule.js';
import type { Db } from '../store/db.js';
import type { AutomationsTable } from '../store/schema-campaigns.js';
import { getCampaignRow, touchCampaign } from './campaign-data.js';
import type { AppContext } from './context.js';

/**
 * Automations (spec 4.15, 7.2): when a campaign lead is contacted, replies or completes the sequence without
 * replying, set the prospect's status, add a tag or assign it to a member. The engine runs them; here they are
 * configured, and every status, tag and member they name must be the team's.
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
