import type { Selectable } from 'kysely';
import type { LifecycleAction } from '../core/campaign-lifecycle.js';
import { AppError } from '../core/errors.js';
import { leadTransition, type Lead, type LeadEvent } from '../core/lead-lifecycle.js';
import type { EventType } from '../core/event-types.js';
import type { AutomationTrigger } from '../app/automations.js';
import { applyLifecycle, presentCampaigns, summaryOf, type CampaignSummary } from '../app/campaigns.js';
import { emitEvent } from '../app/events.js';
import { applyProspectContext, type ContextInput } from '../app/prospects.js';
import { writeLeadChanges, type LeadChange } from '../store/campaign-leads.js';
import type { Db } from '../store/db.js';
import type { ThreadRow } from '../store/schema.js';
import type { AutomationsTable, CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import { type Message, presentThread } from '../app/presenters.js';

/**
 * What happens to a campaign lead and its campaign after a send, a reply or a failure: lead states, target.*
 * and campaign.* events, automations. Every function runs inside the caller's transaction, so the change,
 * its events and its automations commit together.
 */

/** The CampaignSummary of each campaign (events carry it), counted now. */
export async function campaignSummaries(trx: Db, campaignIds: readonly string[]): Promise<Map<string, CampaignSummary>> {
  if (campaignIds.length === 0) return new Map();
  const rows = await trx.selectFrom('campaigns').selectAll().where('id', 'in', campaignIds).execute();
  return new Map((await presentCampaigns(trx, rows)).map((c) => [c.id, summaryOf(c)]));
}

export const campaignSummary = async (trx: Db, campaignId: string): Promise<CampaignSummary> => (await campaignSummaries(trx, [campaignId])).get(campaignId)!;

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

export type Automation = Pick<Selectable<AutomationsTable>, 'action' | 'action_data'>;

/** The enabled automations for `trigger` of each campaign, in their configured order. */
export async function automationsOf(trx: Db, campaignIds: readonly string[], trigger: AutomationTrigger): Promise<Map<string, Automation[]>> {
  const byCampaign = new Map<string, Automation[]>(campaignIds.map((id) => [id, []]));
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
export async function applyAutomations(trx: Db, teamId: string, prospectId: string, automations: readonly Automation[], now: Date): Promise<void> {
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

/** A lead with nothing left to send: completed, with the `completed` automations. */
export async function completeLead(trx: Db, lead: Pick<CampaignLeadRow, 'id' | 'prospect_id'> & Lead, campaign: Pick<CampaignRow, 'id' | 'team_id'>, now: Date) {
  await writeLeadChanges(trx, [{ id: lead.id, set: allowed(lead, { type: 'completed', at: now }) }]);
  await runAutomations(trx, campaign, lead.prospect_id, 'completed', now);
}

/** The columns `event` changes on `lead`; an event the state machine refuses here is a bug of its caller. */
export function allowed(lead: Pick<CampaignLeadRow, 'id'> & Lead, event: LeadEvent): LeadChange['set'] {
  const transition = leadTransition(lead, event);
  if (!transition.ok) throw new Error(`lead ${lead.id}: ${transition.reason}`);
  return transition.set;
}

/** A target.* event with the payload of spec 5.2 plus the step. */
export async function emitTargetEvent(
  trx: Db,
  type: Extract<EventType, `target.${string}`>,
  campaignId: string,
  thread: ThreadRow,
  message: Message | null,
  step: { id: string; rank: number } | null,
  now: Date,
): Promise<void> {
  const presented = await presentThread(trx, thread, now);
  const data: Record<string, unknown> = {
    campaign: await campaignSummary(trx, campaignId),
    thread: presented,
    message,
    prospect: presented.prospect,
  };
  if (step) data.step = { id: step.id, rank: step.rank };
  await emitEvent(trx, thread.team_id, type, data, now);
}

/**
 * An inbound message from a prospect: every lead of an active or paused campaign of the team that was
 * contacted before it and has not replied yet becomes `replied` (so it is counted once), its remaining steps
 * are cancelled, target.replied is emitted and the `replied` automations run. Callers pass only messages from
 * the prospect, never our own.
 */
export async function recordCampaignReply(trx: Db, thread: ThreadRow, message: Message, now: Date): Promise<void> {
  const sentAt = new Date(message.createdAt);
  const candidates = await trx
    .selectFrom('campaign_leads')
    .selectAll()
    .where('team_id', '=', thread.team_id)
    .where('prospect_id', '=', thread.prospect_id)
    .where('replied_at', 'is', null)
    .where('state', 'in', ['active', 'completed', 'failed'])
    .where('contacted_at', '<=', sentAt)
    .where('campaign_id', 'in', (eb) => eb.selectFrom('campaigns').select('id').where('status', 'in', ['active', 'paused']))
    .forUpdate()
    .execute();
  const replied = candidates.flatMap((lead) => {
    const transition = leadTransition(lead, { type: 'replied', at: now, messageAt: sentAt });
    return transition.ok ? [{ lead, set: transition.set }] : [];
  });
  await writeLeadChanges(trx, replied.map(({ lead, set }) => ({ id: lead.id, set })));
  for (const { lead } of replied.sort((a, b) => a.lead.campaign_id.localeCompare(b.lead.campaign_id))) {
    await emitTargetEvent(trx, 'target.replied', lead.campaign_id, thread, message, null, now);
    await runAutomations(trx, { id: lead.campaign_id, team_id: lead.team_id }, thread.prospect_id, 'replied', now);
  }
}

/**
 * Moves a campaign through the lifecycle on the engine's behalf (completion, auto-pause, auto-resume), under a
 * row lock and only if the state machine allows it; returns whether it moved.
 */
export async function engineTransition(
  trx: Db,
  campaignId: string,
  action: LifecycleAction,
  now: Date,
  pauseReason: string | null = null,
): Promise<boolean> {
  const row = await trx.selectFrom('campaigns').selectAll().where('id', '=', campaignId).forUpdate().executeTakeFirstOrThrow();
  return (await applyLifecycle(trx, row, action, now, pauseReason)).ok;
}
