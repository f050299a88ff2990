import { leadTransition, type Lead, type LeadEvent } from '../core/lead-lifecycle.js';
import type { LeadChange } from '../store/campaign-leads.js';
import type { CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import type { EngineStore } from './ports.js';

/**
 * What the engine does to a campaign lead outside a send: completing it. It runs inside the caller's
 * transaction, so the change and its automations commit together. (A reply is the inbox's: app/campaigns/outcomes.ts.)
 */

/** A lead with nothing left to send: completed, with the `completed` automations. */
export async function completeLead(
  tx: EngineStore,
  lead: Pick<CampaignLeadRow, 'id' | 'prospect_id'> & Lead,
  campaign: Pick<CampaignRow, 'id' | 'team_id'>,
  now: Date,
) {
  await tx.writeLeadChanges([{ id: lead.id, set: allowed(lead, { type: 'completed', at: now }) }]);
  await tx.runAutomations(campaign, lead.prospect_id, 'completed', now);
}

/** The columns `event` changes on `lead`; an event the state machine refuses here is a bug of its caller. */
export function allowed(lead: Pick<CampaignLeadRow, 'id'> & Lead, event: LeadEvent): LeadChange['set'] {
  const transition = leadTransition(lead, event);
  if (!transition.ok) throw new Error(`lead ${lead.id}: ${transition.reason}`);
  return transition.set;
}
