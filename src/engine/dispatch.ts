import { accountOf, platformOf } from '../platforms/platform.js';
import type { StoredStep } from '../core/sequence.js';
import { newId } from '../core/ids.js';
import { profileForVariables, renderLeadMessage, leadVariables, type RenderedMessage } from '../core/lead-message.js';
import type { ActionStep, RankedStep } from '../core/lead-progress.js';
import { groupBy } from '../core/group.js';
import { DAY_MS } from '../core/pacing.js';
import type { Random } from '../core/random.js';
import { byDue, isFollowUp, planAccounts, type AccountState, type QueuedLead, type SenderQueue } from '../core/send-plan.js';
import { PlatformError, sendDms, stopsAccount, type Platform, type PlatformAccount } from '../platforms/platform.js';
import type { LeadChange } from '../store/campaign-leads.js';
import type { EngineProspect } from '../core/campaign-sends.js';
import type { AccountLinkRow } from '../store/schema.js';
import type { CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import type { CampaignIntentRow } from '../store/schema-engine.js';
import { allowed, completeLead } from './outcomes.js';
import type { EngineContext, EngineStore, PairRow } from './ports.js';
import { recordOutcomes, type Outcome, type Recording, type SendItem } from './record.js';
import { leaseFrom } from '../store/send-intents.js';

/**
 * One batch of sends, in two short transactions with the platform calls between them:
 * 1. reserve: load (lock the accounts with due work, FOR UPDATE SKIP LOCKED, so caps hold across processes, and
 *    read their queues and send logs), plan their sends in memory (core/send-plan), persist a send intent per
 *    send (store/send-intents.ts: also its slot in the account's send log, and the lease on its lead);
 * 2. check each lead is still running and its campaign active, then call the platform, a few accounts at once;
 * 3. record the outcomes: messages, threads, leads, intents, events and automations (record.ts).
 * An intent still pending when its lease runs out (a crash between 1 and 3) is first reconciled with
 * Platform.findDelivered, so nothing is ever sent twice (the protocol and its invariants: store/send-intents.ts).
 */

/** Before retrying after a transient platform failure, or a rate limit that names no reset time. */
export const RETRY_BACKOFF_MS = 15 * 60_000;
/** Accounts one real-time batch locks; further ones go to the next batch (or another worker). */
const ACCOUNTS_PER_BATCH = 500;
/**
 * Leads loaded per batch in all, shared among its (campaign, account) queues: statements stay well under
 * PostgreSQL's 65,535 parameters however many accounts a span of virtual time locks. A real-time pass sends at
 * most a few leads of a queue, so it loads only the head of each; a span of virtual time may send a queue's
 * whole share (at 32 a queue, a forecast of 5,000 leads over 10 accounts took 32 batches and 13 s, not 2 and
 * 7 s).
 */
const LEADS_PER_BATCH = 10_000;
const LEADS_PER_REAL_TIME_QUEUE = 32;
/** Accounts whose platform calls run at once (each account's own calls stay one after another, in time order). */
const ACCOUNTS_CALLED_AT_ONCE = 4;

export interface BatchResult {
  /** sends that went out */
  sent: number;
  /** whether the batch did anything at all (sent, completed, rescheduled or failed a lead) */
  acted: boolean;
  /** the batch planned exactly up to here (earlier than asked when a capped queue cut it short) */
  until: Date;
  /** the latest instant at which the batch did something */
  reached: Date;
}

interface Reservation<P extends EngineProspect> extends Omit<BatchResult, 'sent'> {
  items: SendItem<P>[];
}

const render = (campaign: CampaignRow, lead: CampaignLeadRow, prospect: EngineProspect, step: ActionStep & { type: 'message' }): RenderedMessage =>
  // Keyed by prospect, as the sequence preview is, so the preview shows what is sent.
  renderLeadMessage(
    campaign.id,
    lead.prospect_id,
    step.id,
    step.data.segments,
    leadVariables(profileForVariables(prospect), lead.data),
  );

const toQueued = (l: CampaignLeadRow): QueuedLead => ({ id: l.id, prospectId: l.prospect_id, nextRank: l.next_rank, lastContactAt: l.last_contact_at, dueAt: l.next_step_at! });

/**
 * A pair's queue as the planner takes it: of each kind (follow-ups, first touches) its first `perQueue` loaded
 * leads (those in flight left out), and whether more of that kind wait.
 */
export function senderQueue(pair: PairRow, steps: readonly RankedStep[], loaded: readonly CampaignLeadRow[], perQueue: number, inFlight: ReadonlySet<string>): SenderQueue {
  const queued = loaded.map(toQueued);
  const followUps = queued.filter(isFollowUp).sort(byDue);
  const firstTouches = queued.filter((l) => !isFollowUp(l)).sort(byDue);
  const taken = (leads: QueuedLead[]) => leads.slice(0, perQueue).filter((l) => !inFlight.has(l.id));
  return {
    campaignId: pair.id,
    messagesPerHour: pair.messages_per_hour,
    schedule: pair.schedule,
    timeZone: pair.timezone,
    steps,
    leads: [...taken(followUps), ...taken(firstTouches)],
    more: { followUps: followUps.length > perQueue, firstTouches: firstTouches.length > perQueue },
  };
}

export const accountState = (account: AccountLinkRow, sendLogs: ReadonlyMap<string, AccountState['sends']>): AccountState => ({
  id: account.id,
  hourlyLimit: account.hourly_limit,
  dailyLimit: account.daily_limit,
  heldUntil: account.held_until,
  sends: sendLogs.get(account.id) ?? [],
});

const byId = <T extends { id: string }>(rows: readonly T[]) => new Map(rows.map((r) => [r.id, r]));

/** What a batch reads to plan its sends: the accounts with due work, locked, and what their plans need. */
interface Loaded<P extends EngineProspect> {
  locked: AccountLinkRow[];
  pairs: PairRow[];
  /** intents a crash left pending on these accounts, to be reconciled first */
  unsettled: CampaignIntentRow[];
  perQueue: number;
  queued: CampaignLeadRow[];
  leadById: Map<string, CampaignLeadRow>;
  campaigns: Map<string, CampaignRow>;
  steps: Map<string, StoredStep[]>;
  sendLogs: Map<string, AccountState['sends']>;
  prospects: Map<string, P>;
}

/** Step 1a, load: lock the accounts with due work in (from .. until] and read what planning them needs. */
async function load<P extends EngineProspect>(tx: EngineStore<P>, from: Date, until: Date): Promise<Loaded<P> | null> {
  // A real-time batch takes a bounded number of accounts, a span of virtual time all.
  const locked = await tx.lockAccounts(from, until, until > from ? null : ACCOUNTS_PER_BATCH);
  if (locked.length === 0) return null;
  const accountIds = locked.map((a) => a.id);
  const pairs = await tx.activePairs(accountIds, until);
  const unsettled = await tx.findUnsettled(accountIds, from);
  const unsettledLeads = new Set(unsettled.map((i) => i.lead_id));
  const share = Math.max(1, Math.floor(LEADS_PER_BATCH / Math.max(1, pairs.length)));
  const perQueue = until > from ? share : Math.min(LEADS_PER_REAL_TIME_QUEUE, share);
  const queued = await tx.loadQueues(pairs, perQueue, from, until);
  const settling = unsettled.length === 0 ? [] : await tx.leadsByIds([...unsettledLeads]);
  const leads = [...queued.filter((l) => !unsettledLeads.has(l.id)), ...settling];
  if (leads.length === 0) return null;
  const leadById = byId(leads);
  const campaigns = new Map<string, CampaignRow>(byId(pairs));
  const elsewhereCampaigns = settling.map((l) => l.campaign_id).filter((id) => !campaigns.has(id));
  if (elsewhereCampaigns.length > 0) for (const c of await tx.campaignsByIds(elsewhereCampaigns)) campaigns.set(c.id, c);
  const steps = await tx.stepsByVersion([
    ...pairs.map((c) => ({ campaignId: c.id, version: c.sequence_version })),
    ...unsettled.map((i) => ({ campaignId: leadById.get(i.lead_id)!.campaign_id, version: i.sequence_version })),
  ]);
  const sendLogs = await tx.sendLogsOf(accountIds, new Date(from.getTime() - DAY_MS));
  const prospects = byId(await tx.prospectsByIds([...new Set(leads.map((l) => l.prospect_id))]));
  return { locked, pairs, unsettled, perQueue, queued, leadById, campaigns, steps, sendLogs, prospects };
}

/** What a batch's plan changes: the sends to reserve (and reconcile), and the leads and pace gates it moves. */
interface Plan<P extends EngineProspect> extends Reservation<P> {
  completes: Array<{ lead: CampaignLeadRow; campaign: CampaignRow; at: Date }>;
  rescheduled: LeadChange[];
  gates: Array<{ campaignId: string; accountId: string; at: Date }>;
  leasedUntil: Date;
}

/** Step 1b, plan: the sends of the loaded accounts in (from .. until], worked out in memory (core/send-plan). */
function plan<P extends EngineProspect>(loaded: Loaded<P>, random: Random, from: Date, until: Date): Plan<P> {
  const { locked, pairs, unsettled, perQueue, queued, leadById, campaigns, steps, sendLogs, prospects } = loaded;
  const unsettledLeads = new Set(unsettled.map((i) => i.lead_id));
  const stepsOf = (campaignId: string, version: number) => steps.get(`${campaignId}:${version}`) ?? [];
  const accountIds = locked.map((a) => a.id);
  const pairKey = (campaignId: string, accountId: string) => `${campaignId}:${accountId}`;
  const queuedByPair = groupBy(pairs.map((p) => pairKey(p.id, p.account_link_id)), queued, (l) => pairKey(l.campaign_id, l.account_link_id!));
  const pairsByAccount = groupBy(accountIds, pairs, (p) => p.account_link_id);
  const queueOf = (pair: PairRow): SenderQueue =>
    senderQueue(pair, stepsOf(pair.id, pair.sequence_version), queuedByPair.get(pairKey(pair.id, pair.account_link_id))!, perQueue, unsettledLeads);
  const planned = planAccounts(
    locked.map((account) => ({ account: accountState(account, sendLogs), queues: () => pairsByAccount.get(account.id)!.map(queueOf) })),
    from,
    until,
    random,
  );

  const accounts = byId(locked);
  const actions = planned.plans.flatMap((p) => p.actions);
  const leasedUntil = leaseFrom(from);
  const items: SendItem<P>[] = [];
  const completes: Plan<P>['completes'] = [];
  const rescheduled: LeadChange[] = [];
  for (const action of actions) {
    const lead = leadById.get(action.lead.id)!;
    const campaign = campaigns.get(action.campaignId)!;
    if (action.kind === 'complete') completes.push({ lead, campaign, at: action.at });
    if (action.kind === 'reschedule') rescheduled.push({ id: lead.id, set: allowed(lead, { type: 'rescheduled', dueAt: action.dueAt, sequenceVersion: campaign.sequence_version }) });
    if (action.kind !== 'send') continue;
    const prospect = prospects.get(lead.prospect_id)!;
    const { step } = action;
    allowed(lead, { type: 'reserved' });
    const rendered = step.type === 'message' ? render(campaign, lead, prospect, step) : null;
    const intent: CampaignIntentRow = {
      id: newId(),
      lead_id: lead.id,
      step_id: step.id,
      sequence_version: campaign.sequence_version,
      account_link_id: lead.account_link_id!,
      campaign_id: campaign.id,
      kind: step.type === 'message' ? 'message' : 'like',
      content: rendered?.text ?? null,
      status: 'pending',
      platform_message_id: null,
      created_at: action.at,
      completed_at: null,
      claimed_until: leasedUntil,
      variation_picks: rendered && rendered.variationPicks,
    };
    items.push({ intent, reconcile: false, step, steps: stepsOf(campaign.id, campaign.sequence_version), campaign, account: accounts.get(intent.account_link_id)!, prospect });
  }
  // Intents a crash left pending are settled before anything else is sent for their leads.
  for (const intent of unsettled) {
    const lead = leadById.get(intent.lead_id)!;
    const versionSteps = stepsOf(lead.campaign_id, intent.sequence_version);
    const step = versionSteps.find((s) => s.id === intent.step_id) as ActionStep;
    items.push({ intent, reconcile: true, step, steps: versionSteps, campaign: campaigns.get(lead.campaign_id)!, account: accounts.get(intent.account_link_id)!, prospect: prospects.get(lead.prospect_id)! });
  }
  const gates = locked.flatMap((account, i) => [...planned.plans[i]!.nextSendAt].map(([campaignId, at]) => ({ campaignId, accountId: account.id, at })));
  const reached = new Date(actions.reduce((latest, a) => (a.kind === 'reschedule' ? latest : Math.max(latest, a.at.getTime())), from.getTime()));
  return { items, completes, rescheduled, gates, leasedUntil, acted: actions.length > 0 || items.length > 0, until: planned.until, reached };
}

/** Step 1c, persist: the plan's intents reserved (and unsettled ones renewed), its leads moved, its pace gates set. */
async function persist<P extends EngineProspect>(tx: EngineStore<P>, planned: Plan<P>, unsettled: readonly CampaignIntentRow[]): Promise<void> {
  await tx.reserve(planned.items.filter((i) => !i.reconcile).map((i) => i.intent));
  await tx.renew(unsettled, planned.leasedUntil);
  for (const { lead, campaign, at } of planned.completes) await completeLead(tx, lead, campaign, at);
  await tx.writeLeadChanges(planned.rescheduled);
  if (planned.gates.length > 0) await tx.setPaceGates(planned.gates);
}

/** Step 1: reserve the sends of the accounts with due work, in (from .. until]: load, plan (pure), persist. */
async function reserveBatch<P extends EngineProspect>(ctx: EngineContext<P>, random: Random, from: Date, until: Date): Promise<Reservation<P>> {
  return ctx.store.transaction(async (tx) => {
    const loaded = await load(tx, from, until);
    if (!loaded) return { items: [], acted: false, until, reached: from };
    const planned = plan(loaded, random, from, until);
    await persist(tx, planned, loaded.unsettled);
    const items = [...planned.items].sort((a, b) => a.intent.created_at.getTime() - b.intent.created_at.getTime());
    return { items, acted: planned.acted, until: planned.until, reached: planned.reached };
  });
}

/**
 * A like, or a send a crash left unconfirmed. An unconfirmed message is looked up: found, it went out (and is
 * recorded even if its lead stopped meanwhile). Not found, or an unconfirmed like (liking is idempotent, so it
 * is simply made again), it is withdrawn: its slot is freed and its lead planned again, so the resend takes a
 * slot of its own when it goes out. Sent at the old slot, minutes past, its message, its pace, the account's caps
 * and the delay to the lead's next step would all count from then.
 */
async function callOne(platform: Platform, as: PlatformAccount, item: SendItem<EngineProspect>): Promise<Outcome> {
  const recipient = item.prospect.platform_id;
  try {
    if (!item.reconcile) {
      await platform.likeLatestPost(as, recipient);
      return { kind: 'sent', platformMessageId: null };
    }
    if (item.intent.kind === 'like') return { kind: 'withdrawn' };
    const delivered = await platform.findDelivered(as, recipient, item.intent.content!, item.intent.created_at);
    return delivered ? { kind: 'sent', platformMessageId: delivered } : { kind: 'withdrawn' };
  } catch (error) {
    if (error instanceof PlatformError) return { kind: 'failed', error };
    throw error;
  }
}

/** Step 2: the platform calls, outside any transaction; each account's in time order. */
async function callPlatforms<P extends EngineProspect>(ctx: EngineContext<P>, items: readonly SendItem<P>[]): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  // A reply or a pause since the reservation withdraws a send.
  const wanted = await ctx.store.stillWanted([...new Set(items.map((i) => i.intent.lead_id))]);
  const attempted: SendItem<P>[] = [];
  for (const item of items) {
    if (item.reconcile || wanted.has(item.intent.lead_id)) attempted.push(item);
    else outcomes.set(item.intent.id, { kind: 'withdrawn' });
  }
  const callAccount = async (group: SendItem<P>[]) => {
    const platform = platformOf(ctx, group[0]!.account.platform);
    const as = accountOf(group[0]!.account);
    let stopped = false;
    for (let i = 0; i < group.length; ) {
      if (stopped) {
        outcomes.set(group[i++]!.intent.id, { kind: 'withdrawn' });
        continue;
      }
      const plain = (item: SendItem<P> | undefined) => item !== undefined && item.intent.kind === 'message' && !item.reconcile;
      if (!plain(group[i])) {
        const outcome = await callOne(platform, as, group[i]!);
        outcomes.set(group[i++]!.intent.id, outcome);
        stopped = outcome.kind === 'failed' && stopsAccount(outcome.error);
        continue;
      }
      let end = i;
      while (plain(group[end])) end++;
      const run = group.slice(i, end);
      const results = await sendDms(
        platform,
        as,
        run.map((item) => ({ recipientPlatformId: item.prospect.platform_id, text: item.intent.content!, at: item.intent.created_at })),
      );
      for (const [k, item] of run.entries()) {
        const result = results[k];
        if (!result) outcomes.set(item.intent.id, { kind: 'withdrawn' });
        else outcomes.set(item.intent.id, result.ok ? { kind: 'sent', platformMessageId: result.sent.platformMessageId } : { kind: 'failed', error: result.error });
        if (result && !result.ok && stopsAccount(result.error)) stopped = true;
      }
      i = end;
    }
  };
  // Accounts are independent, so several are called at once: the platform (or the store, for the sandbox) works
  // on one account's sends while this process prepares another's.
  const queue = [...groupBy([...new Set(attempted.map((i) => i.account.id))], attempted, (i) => i.account.id).values()];
  const callers = Array.from({ length: Math.min(ACCOUNTS_CALLED_AT_ONCE, queue.length) }, async () => {
    for (let group = queue.shift(); group; group = queue.shift()) await callAccount(group);
  });
  // Every caller finishes before a failure goes up, so none is left running behind it.
  const failure = (await Promise.allSettled(callers)).find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
  return outcomes;
}

/**
 * One batch over (from .. until]: reserve, call, record. Returns what it did; `until` comes back earlier
 * than asked when a capped queue cut the plan short.
 */
export async function sendBatch<P extends EngineProspect>(ctx: EngineContext<P>, random: Random, from: Date, until: Date, recording: Recording): Promise<BatchResult> {
  const reservation = await reserveBatch(ctx, random, from, until);
  const { items } = reservation;
  if (items.length === 0) return { sent: 0, acted: reservation.acted, until: reservation.until, reached: reservation.reached };
  const outcomes = await callPlatforms(ctx, items);
  const sent = await recordOutcomes(ctx.store, { items, outcomes, from, backoffMs: RETRY_BACKOFF_MS, recording });
  return { sent, acted: true, until: reservation.until, reached: reservation.reached };
}

