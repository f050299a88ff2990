import { leadTransition } from '../core/lead-lifecycle.js';
import { spreadEvenly } from '../core/lead-progress.js';
import { allowed } from './outcomes.js';
import type { EngineStore } from './ports.js';

/**
 * Campaign-level passes of the engine: giving leads a sender, pausing and resuming campaigns as their
 * accounts come and go, and completing campaigns whose leads have all finished.
 */

/** Leads (re)assigned per campaign and pass; the rest wait for the next pass. */
const PLAN_BATCH = 5_000;

/** Why the engine paused a campaign; only these pauses does it lift by itself. */
export const PAUSE_REASONS = {
  rateLimited: 'every linked account is rate limited by the platform',
  unavailable: 'no linked account is active (offline, paused or removed)',
} as const;
const ENGINE_PAUSES: readonly string[] = Object.values(PAUSE_REASONS);

/**
 * Gives every new lead of an active campaign a sender, spreading them evenly over its active accounts; a lead
 * keeps its sender for every step. Leads whose sender left the campaign or is no longer active move to the
 * remaining accounts (rebalancing) and continue from their next unsent step. A new lead is due from when it
 * entered the campaign, so leads go first come, first served, however many passes planning them takes.
 * Plans at most `batch` leads per campaign; returns whether some campaign has more waiting.
 */
export async function planLeads(store: EngineStore, now: Date, batch = PLAN_BATCH): Promise<boolean> {
  const campaigns = await store.campaignsToPlan();
  let more = false;
  for (const campaign of campaigns) {
    await store.transaction(async (tx) => {
      const accounts = await tx.activeAccounts(campaign.id);
      if (accounts.length === 0) return;
      const departed = (await tx.sendersOfOpenLeads(campaign.id)).filter((id) => !accounts.includes(id));
      const leads = await tx.leadsNeedingSender(campaign.id, departed, batch);
      // Moving leads off departed senders may take several passes; isRebalancing shows it is under way.
      const rebalancing = departed.length > 0 && leads.length === batch;
      if (rebalancing !== campaign.is_rebalancing) await tx.setRebalancing(campaign.id, rebalancing);
      if (leads.length === 0) return;
      if (leads.length === batch) more = true;
      const loadOf = await tx.leadLoads(campaign.id, accounts);
      const chosen = spreadEvenly(accounts.map((id) => loadOf.get(id) ?? 0), leads.length);
      const changes = leads.map((lead, i) => {
        const sender = { accountLinkId: accounts[chosen[i]!]!, sequenceVersion: campaign.sequence_version, at: now };
        return { id: lead.id, set: allowed(lead, { type: lead.account_link_id === null ? 'assigned' : 'accountLost', ...sender }) };
      });
      await tx.writeLeadChanges(changes);
    });
  }
  return more;
}

/**
 * After a sequence edit, moves the leads in flight to the new version at once: each continues from its next
 * unsent rank with the new version's delays (counted from its last send), and a lead already past the new
 * version's end is completed. Leads not contacted yet simply start the new version: a lead takes the campaign's
 * version when its first step is reserved, so they are not rewritten here.
 */
export async function applySequenceEdits(store: EngineStore, now: Date): Promise<void> {
  for (const campaign of await store.editedCampaigns()) {
    await store.transaction(async (tx) => {
      const version = campaign.sequence_version;
      const steps = (await tx.stepsByVersion([{ campaignId: campaign.id, version }])).get(`${campaign.id}:${version}`) ?? [];
      const inFlight = await tx.leadsOnOtherVersions(campaign.id, version, PLAN_BATCH);
      const moved = inFlight.map((lead) => ({ lead, transition: leadTransition(lead, { type: 'sequenceChanged', version, steps, at: now }) }));
      await tx.writeLeadChanges(moved.flatMap(({ lead, transition }) => (transition.ok ? [{ id: lead.id, set: transition.set }] : [])));
      for (const { lead, transition } of moved) {
        if (transition.ok && transition.set.state === 'completed') await tx.runAutomations(campaign, lead.prospect_id, 'completed', now);
      }
      if (inFlight.length < PLAN_BATCH) await tx.setAppliedSequenceVersion(campaign.id, version);
    });
  }
}

/** A campaign the engine paused (with its pauseReason) or resumed. */
export type AvailabilityChange = { campaignId: string; change: 'paused'; reason: string } | { campaignId: string; change: 'resumed' };

/**
 * Pauses active campaigns none of whose accounts can send (with the reason shown as pauseReason), and resumes
 * campaigns the engine paused once one can again. A manual pause is never lifted here. Returns what it changed.
 */
export async function updateAvailability(store: EngineStore, now: Date): Promise<AvailabilityChange[]> {
  const changes: AvailabilityChange[] = [];
  for (const c of await store.campaignAvailability(now, ENGINE_PAUSES)) {
    if (c.status === 'active' && !c.can_send) {
      const reason = c.has_active ? PAUSE_REASONS.rateLimited : PAUSE_REASONS.unavailable;
      if (await store.transaction((tx) => tx.moveCampaign(c.id, 'disable', now, reason))) changes.push({ campaignId: c.id, change: 'paused', reason });
    } else if (c.status === 'paused' && c.can_send) {
      if (await store.transaction((tx) => tx.moveCampaign(c.id, 'enable', now, null))) changes.push({ campaignId: c.id, change: 'resumed' });
    }
  }
  return changes;
}

/**
 * Completes active campaigns with no lead left to contact and no list sync running, as of the last lead's
 * finish within (from .. reached] (a pass over a span of virtual time notices it at the span's end). Returns
 * the campaigns it completed.
 */
export async function completeFinished(store: EngineStore, from: Date, reached: Date = from): Promise<string[]> {
  const completed: string[] = [];
  for (const id of await store.finishedCampaigns()) {
    await store.transaction(async (tx) => {
      if (await tx.hasOpenLeads(id)) return;
      const last = await tx.lastFinish(id, reached);
      const at = last && last > from ? last : from;
      if (await tx.moveCampaign(id, 'complete', at, null)) completed.push(id);
    });
  }
  return completed;
}
