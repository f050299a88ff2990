import type { StoredStep } from '../core/sequence.js';
import { afterTransition, isRunning, leadTransition, type LeadEvent } from '../core/lead-lifecycle.js';
import type { ActionStep } from '../core/lead-progress.js';
import type { PlatformError } from '../platforms/platform.js';
import { wholeState } from '../store/campaign-leads.js';
import type { AccountLinkRow } from '../store/schema.js';
import type { CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import type { CampaignIntentRow } from '../store/schema-engine.js';
import type { CampaignFailure, CampaignSend, EngineProspect } from '../core/campaign-sends.js';
import type { EngineStore } from './ports.js';

/**
 * Step 3 of a batch (see dispatch.ts): the outcomes of its platform calls recorded in one transaction, in the
 * order the sends happened. Here the engine's own part: failures, each lead's progress, the intents' outcomes,
 * and what each send was (target.contacted / target.followUpSent / target.liked, first contact, completion).
 * The inbox's part, the messages, threads, events and automations, goes through the recordSends port
 * (app/campaigns/outcomes.ts), so every event keeps its place in time.
 */

/** One send (or like) of a batch, from its intent to its outcome. */
export interface SendItem<P extends EngineProspect> {
  intent: CampaignIntentRow;
  /** a pending intent left by a crash: ask the platform before sending again */
  reconcile: boolean;
  step: ActionStep;
  /** the steps of the intent's sequence version */
  steps: readonly StoredStep[];
  campaign: CampaignRow;
  account: AccountLinkRow;
  prospect: P;
}

export type Outcome =
  | { kind: 'sent'; platformMessageId: string | null }
  | { kind: 'failed'; error: PlatformError }
  /** not attempted: the lead replied or the campaign stopped since the reservation, or the account stopped earlier in the batch */
  | { kind: 'withdrawn' };

/** The recipient refused (suspended, closed DMs): the lead fails, the account goes on. */
const refused = (outcome: Outcome): boolean => outcome.kind === 'failed' && outcome.error.kind === 'recipient_unreachable';
const pairKey = (item: SendItem<EngineProspect>) => `${item.campaign.id}:${item.account.id}`;

/** What did not go out: a refusing recipient fails its lead; anything else drops its intent (its slot in the send log), and an account problem holds the account. */
async function recordFailures<P extends EngineProspect>(tx: EngineStore<P>, items: readonly SendItem<P>[], outcomes: ReadonlyMap<string, Outcome>, leads: BatchLeads, from: Date, backoffMs: number) {
  const handled = new Set<string>();
  for (const item of items) {
    const outcome = outcomes.get(item.intent.id)!;
    if (outcome.kind === 'sent') continue;
    const at = item.intent.created_at;
    const lead = leads.rows.get(item.intent.lead_id)!;
    if (outcome.kind === 'failed' && refused(outcome)) {
      // Counted as contacted (spec 6.2), so the campaign can finish. The attempt keeps its slot in the send
      // log, so the account's pace (and the rest of the batch's plan) stands.
      await tx.markFailed(item.intent);
      changeLead(leads, lead, { type: 'failed', at, reason: outcome.error.message });
      continue;
    }
    await tx.release(item.intent);
    if (outcome.kind !== 'failed' || handled.has(item.account.id)) continue;
    handled.add(item.account.id);
    const { error } = outcome;
    if (error.kind === 'auth_revoked') await tx.markAccountOffline(item.account.id, from);
    else await tx.holdAccount(item.account.id, error.kind === 'rate_limited' && error.resetAt && error.resetAt > from ? error.resetAt : new Date(from.getTime() + backoffMs));
  }
  // The reserved pace no longer matches what went out: the next pass works it out again from the send log.
  const unsettled = items.filter((i) => {
    const outcome = outcomes.get(i.intent.id)!;
    return outcome.kind !== 'sent' && !refused(outcome);
  });
  for (const key of new Set(unsettled.map(pairKey))) {
    const [campaignId, accountId] = key.split(':') as [string, string];
    await tx.clearPaceGate(campaignId, accountId);
  }
}

/**
 * What a batch's sends record. `everything`: the inbox sees them (messages, threads, events, automations).
 * `progress`: only what scheduling reads (the leads' progress and the send log), for a forecast, whose copy of
 * the campaign is thrown away and whose sends nobody sees.
 */
export type Recording = 'everything' | 'progress';

/**
 * The leads of a batch as their events leave them, in send order (a lead may send twice in a span of virtual
 * time), and which of them changed.
 */
interface BatchLeads {
  rows: Map<string, CampaignLeadRow>;
  changed: Set<string>;
}

function changeLead(leads: BatchLeads, lead: CampaignLeadRow, event: LeadEvent): void {
  const transition = leadTransition(lead, event);
  if (!transition.ok) return;
  leads.rows.set(lead.id, afterTransition(lead, transition));
  leads.changed.add(lead.id);
}

/** How one send moves its lead on. */
function advanceLead(item: SendItem<EngineProspect>, leads: BatchLeads): { firstContact: boolean; completes: boolean } {
  const lead = leads.rows.get(item.intent.lead_id)!;
  changeLead(leads, lead, { type: 'sent', at: item.intent.created_at, rank: item.step.rank, sequenceVersion: item.intent.sequence_version, steps: item.steps });
  const after = leads.rows.get(lead.id)!;
  return { firstContact: lead.contacted_at === null, completes: isRunning(lead.state) && after.state === 'completed' };
}

/** A batch's sends and what became of them, to be recorded. */
export interface BatchOutcomes<P extends EngineProspect> {
  items: readonly SendItem<P>[];
  /** by intent id */
  outcomes: ReadonlyMap<string, Outcome>;
  /** the instant the batch was reserved at */
  from: Date;
  /** how long an account is held after a failure that names no reset time */
  backoffMs: number;
  recording: Recording;
}

/** Rolls a batch's transaction back when recordSends found a thread stored meanwhile. */
class RecordAgain extends Error {
  constructor() {
    super('another transaction stored a thread of this batch meanwhile');
  }
}

/** Step 3: records a batch's outcomes. Returns how many sends went out. */
export async function recordOutcomes<P extends EngineProspect>(store: EngineStore<P>, batch: BatchOutcomes<P>): Promise<number> {
  // A thread stored by someone else between reading and inserting (an inbound message from the lead, say) is
  // rare, and reading again finds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.transaction((tx) => recordIn(tx, batch));
    } catch (error) {
      if (!(error instanceof RecordAgain) || attempt === 3) throw error;
    }
  }
}

async function recordIn<P extends EngineProspect>(tx: EngineStore<P>, { items, outcomes, from, backoffMs, recording }: BatchOutcomes<P>): Promise<number> {
  const leadIds = [...new Set(items.map((i) => i.intent.lead_id))];
  const rows = await tx.lockLeads(leadIds);
  const leads: BatchLeads = { rows: new Map(rows.map((l) => [l.id, l])), changed: new Set() };
  await recordFailures(tx, items, outcomes, leads, from, backoffMs);
  const sent = items.filter((i) => outcomes.get(i.intent.id)!.kind === 'sent');
  const platformMessageIdOf = (item: SendItem<P>) => (outcomes.get(item.intent.id) as { platformMessageId: string | null }).platformMessageId;
  // Read before this batch's intents are marked sent: a lead's first message is no follow-up.
  const messaged = recording === 'everything' ? await tx.messagedLeads([...new Set(sent.map((i) => i.intent.lead_id))]) : new Set<string>();
  const progress = sent.map((item) => advanceLead(item, leads));
  // The leads are locked: each changed one is written whole, so the batch's leads take one statement.
  const writeProgress = () =>
    Promise.all([
      tx.writeLeadChanges([...leads.changed].map((id) => ({ id, set: wholeState(leads.rows.get(id)!) }))),
      tx.markSent(sent.map((item) => ({ intent: item.intent, platformMessageId: platformMessageIdOf(item) }))),
    ]);
  const failed = recording === 'everything' ? items.filter((i) => refused(outcomes.get(i.intent.id)!)) : [];
  if (recording !== 'everything' || (sent.length === 0 && failed.length === 0)) {
    await writeProgress();
    return sent.length;
  }

  const sends = sent.map((item, index): CampaignSend<P> => {
    const isMessage = item.intent.kind === 'message';
    const followUp = isMessage && messaged.has(item.intent.lead_id);
    if (isMessage) messaged.add(item.intent.lead_id);
    return {
      campaign: item.campaign,
      account: item.account,
      prospect: item.prospect,
      step: { id: item.step.id, rank: item.step.rank },
      at: item.intent.created_at,
      message: isMessage ? { platformId: platformMessageIdOf(item), content: item.intent.content! } : null,
      event: !isMessage ? 'target.liked' : followUp ? 'target.followUpSent' : 'target.contacted',
      ...progress[index]!,
    };
  });
  // The leads' progress and the intents' outcomes are written while the port works out the batch's messages and
  // threads (nothing reads them before the summaries of the events).
  const failures = failed.map(
    (item): CampaignFailure<P> => ({
      campaign: item.campaign,
      account: item.account,
      prospect: item.prospect,
      step: { id: item.step.id, rank: item.step.rank },
      at: item.intent.created_at,
      reason: (outcomes.get(item.intent.id) as { error: PlatformError }).error.message,
    }),
  );
  if (!(await tx.recordSends(sends, failures, from, writeProgress))) throw new RecordAgain();
  return sends.length;
}
