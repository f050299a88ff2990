import type { LifecycleAction } from '../core/campaign-lifecycle.js';
import { leadTransition, type Lead, type LeadEvent } from '../core/lead-lifecycle.js';
import { writeLeadChanges, type LeadChange } from '../store/campaign-leads.js';
import type { Db } from '../store/db.js';
import type { CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import type { EnginePorts } from './ports.js';

/**
 * What the engine does to a campaign lead and its campaign outside a send: completing a lead, moving a campaign
 * through its lifecycle. Every function runs inside the caller's transaction, so the change, its events and its
 * automations commit together. (A reply is the inbox's: app/campaigns/outcomes.ts.)
 */

/** A lead with nothing left to send: completed, with the `completed` automations. */
export async function completeLead(
  trx: Db,
  ports: EnginePorts,
  lead: Pick<CampaignLeadRow, 'id' | 'prospect_id'> & Lead,
  campaign: Pick<CampaignRow, 'id' | 'team_id'>,
  now: Date,
) {
  await writeLeadChanges(trx, [{ id: lead.id, set: allowed(lead, { type: 'completed', at: now }) }]);
  await ports.runAutomations(trx, campaign, lead.prospect_id, 'completed', now);
}

/** The columns `event` changes on `lead`; an event the state machine refuses here is a bug of its caller. */
export function allowed(lead: Pick<CampaignLeadRow, 'id'> & Lead, event: LeadEvent): LeadChange['set'] {
  const transition = leadTransition(lead, event);
  if (!transition.ok) throw new Error(`lead ${lead.id}: ${transition.reason}`);
  return transition.set;
}

/**
 * Moves a campaign through the lifecycle on the engine's behalf (completion, auto-pause, auto-resume), under a
 * row lock and only if the state machine allows it; returns whether it moved.
 */
export async function engineTransition(
  trx: Db,
  ports: EnginePorts,
  campaignId: string,
  action: LifecycleAction,
  now: Date,
  pauseReason: string | null = null,
): Promise<boolean> {
  const row = await trx.selectFrom('campaigns').selectAll().where('id', '=', campaignId).forUpdate().executeTakeFirstOrThrow();
  return (await ports.applyLifecycle(trx, row, action, now, pauseReason)).ok;
}
