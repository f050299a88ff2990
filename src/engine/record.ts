import { markAccountOffline } from '../store/account-links.js';
import type { StoredStep } from '../app/campaign-data.js';
import { emitEvents, type NewEvent } from '../app/events.js';
import { entryEvents, recordMessages, threadsOf, ThreadStoredMeanwhile, type MessageEntry, type RecordedEntry } from '../app/message-recording.js';
import { afterTransition, isRunning, leadTransition, type LeadEvent } from '../core/lead-lifecycle.js';
import type { ActionStep } from '../core/lead-progress.js';
import type { PlatformError } from '../platforms/platform.js';
import { runningMeanwhile } from '../store/bulk.js';
import { wholeState, writeLeadChanges } from '../store/campaign-leads.js';
import { isAnyOf, type Db } from '../store/db.js';
import type { AccountLinkRow, ProspectRow, ThreadRow } from '../store/schema.js';
import type { CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import type { SendIntentRow } from '../store/schema-engine.js';
import { applyAutomations, automationsOf, campaignSummaries } from './outcomes.js';
import { markFailed, markSent, messagedLeads, release } from './send-intents.js';
import { type LastMessageRow, presentMessage, presentProspectRows, presentProspects, type ProspectWithContext, type Thread, threadView } from '../app/presenters.js';

/**
 * Step 3 of a batch (see dispatch.ts): the outcomes of its platform calls recorded in one transaction, in the
 * order the sends happened. A send puts its message in the lead's thread (message.created), advances the lead
 * and emits target.contacted / target.followUpSent / target.liked with the campaign's summary as of the batch;
 * `contacted` and `completed` automations run in between, so every event keeps its place in time.
 */

/** One send (or like) of a batch, from its intent to its outcome. */
export interface SendItem {
  intent: SendIntentRow;
  /** a pending intent left by a crash: ask the platform before sending again */
  reconcile: boolean;
  step: ActionStep;
  /** the steps of the intent's sequence version */
  steps: readonly StoredStep[];
  campaign: CampaignRow;
  account: AccountLinkRow;
  prospect: ProspectRow;
}

export type Outcome =
  | { kind: 'sent'; platformMessageId: string | null }
  | { kind: 'failed'; error: PlatformError }
  /** not attempted: the lead replied or the campaign stopped since the reservation, or the account stopped earlier in the batch */
  | { kind: 'withdrawn' };

/** The recipient refused (suspended, closed DMs): the lead fails, the account goes on. */
const refused = (outcome: Outcome): boolean => outcome.kind === 'failed' && outcome.error.kind === 'recipient_unreachable';
const pairKey = (item: SendItem) => `${item.campaign.id}:${item.account.id}`;

/** What did not go out: a refusing recipient fails its lead; anything else drops its intent (its slot in the send log), and an account problem holds the account. */
async function recordFailures(trx: Db, items: readonly SendItem[], outcomes: ReadonlyMap<string, Outcome>, leads: BatchLeads, from: Date, backoffMs: number) {
  const handled = new Set<string>();
  for (const item of items) {
    const outcome = outcomes.get(item.intent.id)!;
    if (outcome.kind === 'sent') continue;
    const at = item.intent.created_at;
    const lead = leads.rows.get(item.intent.lead_id)!;
    if (outcome.kind === 'failed' && refused(outcome)) {
      // Counted as contacted (spec 6.2), so the campaign can finish. The attempt keeps its slot in the send
      // log, so the account's pace (and the rest of the batch's plan) stands.
      await markFailed(trx, item.intent);
      changeLead(leads, lead, { type: 'failed', at, reason: outcome.error.message });
      continue;
    }
    await release(trx, item.intent);
    if (outcome.kind !== 'failed' || handled.has(item.account.id)) continue;
    handled.add(item.account.id);
    const { error } = outcome;
    if (error.kind === 'auth_revoked') await markAccountOffline(trx, item.account.id, from);
    else {
      const until = error.kind === 'rate_limited' && error.resetAt && error.resetAt > from ? error.resetAt : new Date(from.getTime() + backoffMs);
      await trx.updateTable('account_links').set({ held_until: until }).where('id', '=', item.account.id).execute();
    }
  }
  // The reserved pace no longer matches what went out: the next pass works it out again from the send log.
  const unsettled = items.filter((i) => {
    const outcome = outcomes.get(i.intent.id)!;
    return outcome.kind !== 'sent' && !refused(outcome);
  });
  for (const key of new Set(unsettled.map(pairKey))) {
    const [campaignId, accountId] = key.split(':') as [string, string];
    await trx.updateTable('campaign_accounts').set({ next_send_at: null }).where('campaign_id', '=', campaignId).where('account_link_id', '=', accountId).execute();
  }
}

/** What one successful send announces besides its message. */
interface SentRecord {
  item: SendItem;
  at: Date;
  firstContact: boolean;
  completes: boolean;
  followUp: boolean;
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
function advanceLead(item: SendItem, leads: BatchLeads): { firstContact: boolean; completes: boolean } {
  const lead = leads.rows.get(item.intent.lead_id)!;
  changeLead(leads, lead, { type: 'sent', at: item.intent.created_at, rank: item.step.rank, sequenceVersion: item.intent.sequence_version, steps: item.steps });
  const after = leads.rows.get(lead.id)!;
  return { firstContact: lead.contacted_at === null, completes: isRunning(lead.state) && after.state === 'completed' };
}

/** A batch's sends and what became of them, to be recorded. */
export interface BatchOutcomes {
  items: readonly SendItem[];
  /** by intent id */
  outcomes: ReadonlyMap<string, Outcome>;
  /** the instant the batch was reserved at */
  from: Date;
  /** how long an account is held after a failure that names no reset time */
  backoffMs: number;
  recording: Recording;
}

/** Step 3: records a batch's outcomes. Returns how many sends went out. */
export async function recordOutcomes(db: Db, batch: BatchOutcomes): Promise<number> {
  // A thread stored by someone else between reading and inserting (an inbound message from the lead, say) is
  // rare, and reading again finds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute((trx) => recordIn(trx, batch));
    } catch (error) {
      if (!(error instanceof ThreadStoredMeanwhile) || attempt === 3) throw error;
    }
  }
}

async function recordIn(trx: Db, { items, outcomes, from, backoffMs, recording }: BatchOutcomes): Promise<number> {
  const leadIds = [...new Set(items.map((i) => i.intent.lead_id))];
  const rows = await trx.selectFrom('campaign_leads').selectAll().where(isAnyOf('id', leadIds)).forUpdate().execute();
  const leads: BatchLeads = { rows: new Map(rows.map((l) => [l.id, l])), changed: new Set() };
  await recordFailures(trx, items, outcomes, leads, from, backoffMs);
  const sent = items.filter((i) => outcomes.get(i.intent.id)!.kind === 'sent');
  const platformMessageIdOf = (item: SendItem) => (outcomes.get(item.intent.id) as { platformMessageId: string | null }).platformMessageId;
  // Read before this batch's intents are marked sent: a lead's first message is no follow-up.
  const messaged = recording === 'everything' ? await messagedLeads(trx, [...new Set(sent.map((i) => i.intent.lead_id))]) : new Set<string>();
  const progress = sent.map((item) => advanceLead(item, leads));
  const announced = recording === 'everything' && sent.length > 0;
  const threads = announced
    ? await threadsOf(
        trx,
        sent.map((i) => ({ account: i.account, prospect: i.prospect, at: i.intent.created_at })),
        from,
      )
    : [];
  // The leads' progress and the intents' outcomes are written while this process works out the batch's messages
  // and threads (nothing reads them before the summaries below).
  const progressWritten = runningMeanwhile(
    Promise.all([
      // The leads are locked: each changed one is written whole, so the batch's leads take one statement.
      writeLeadChanges(
        trx,
        [...leads.changed].map((id) => ({ id, set: wholeState(leads.rows.get(id)!) })),
      ),
      markSent(
        trx,
        sent.map((item) => ({ intent: item.intent, platformMessageId: platformMessageIdOf(item) })),
      ),
    ]),
  );
  const failed = recording === 'everything' ? items.filter((i) => refused(outcomes.get(i.intent.id)!)) : [];
  if (!announced) {
    await progressWritten;
    const failures = await failureEvents(trx, failed, outcomes, from);
    for (const { teamId, event } of failures) await emitEvents(trx, teamId, [event], from);
    return sent.length;
  }

  const entries: MessageEntry[] = sent.map((item, index) => ({
    thread: threads[index]!,
    input:
      item.intent.kind === 'message'
        ? {
            platformId: platformMessageIdOf(item),
            outbound: true,
            authorId: item.account.id,
            userId: null,
            campaignId: item.campaign.id,
            campaignStepId: item.step.id,
            content: item.intent.content!,
            origin: 'internal',
            createdAt: item.intent.created_at,
          }
        : null,
  }));
  const records: SentRecord[] = sent.map((item, index) => {
    const followUp = entries[index]!.input !== null && messaged.has(item.intent.lead_id);
    if (entries[index]!.input) messaged.add(item.intent.lead_id);
    return { item, at: item.intent.created_at, ...progress[index]!, followUp };
  });
  const failures = await failureEvents(trx, failed, outcomes, from);
  await recordMessages(trx, entries, (recorded) => announce(trx, records, recorded, failures, from), progressWritten);
  return records.length;
}

/** A target.failed event and the team it goes to. */
interface FailureEvent {
  teamId: string;
  event: NewEvent & { at: Date };
}

/**
 * target.failed (our extension) for each lead a refusing recipient failed in the batch, in time order, with the
 * campaign's summary as of the batch and the platform's reason.
 */
async function failureEvents(trx: Db, failed: readonly SendItem[], outcomes: ReadonlyMap<string, Outcome>, from: Date): Promise<FailureEvent[]> {
  if (failed.length === 0) return [];
  const summaries = await campaignSummaries(trx, [...new Set(failed.map((i) => i.campaign.id))]);
  const prospects = await presentProspectRows(
    trx,
    failed.map((i) => i.prospect),
    from,
  );
  return failed.map((item) => ({
    teamId: item.campaign.team_id,
    event: {
      type: 'target.failed',
      data: {
        campaign: summaries.get(item.campaign.id)!,
        prospect: prospects.get(item.prospect.id)!,
        accountLinkId: item.account.id,
        step: { id: item.step.id, rank: item.step.rank },
        reason: (outcomes.get(item.intent.id) as { error: PlatformError }).error.message,
      },
      at: item.intent.created_at,
    },
  }));
}

/**
 * The events of a batch's sends, in send order: each send's thread.* and message.* events (recordMessages), then
 * its target.* event, with the automations they trigger run at their place; the batch's target.failed events
 * among them, in time order.
 */
async function announce(trx: Db, records: readonly SentRecord[], recorded: readonly RecordedEntry[], failures: readonly FailureEvent[], from: Date) {
  const campaignIds = [...new Set(records.map((r) => r.item.campaign.id))];
  const [summaries, contacted, completed] = await Promise.all([
    campaignSummaries(trx, campaignIds),
    automationsOf(trx, campaignIds, 'contacted'),
    automationsOf(trx, campaignIds, 'completed'),
  ]);
  // As read when the batch was reserved, moments ago (tags are read now): reading them again took 1.3 s of a
  // 55 s, 20,000-lead bench:engine run on PGlite.
  const prospects = await presentProspectRows(
    trx,
    records.map((r) => r.item.prospect),
    from,
  );
  // Only a thread shown without this batch's message in it (a like's, or where that message was already stored)
  // shows the last message before the batch.
  const lastMessages = new Map<string, LastMessageRow>(recorded.flatMap((e) => (e.stored ? [[e.message!.id, e.message!] as const] : [])));
  const previousLastIds = recorded.flatMap((e) => (!e.stored && e.before.last_message_id && !lastMessages.has(e.before.last_message_id) ? [e.before.last_message_id] : []));
  if (previousLastIds.length > 0) {
    for (const m of await trx.selectFrom('messages').selectAll().where(isAnyOf('id', previousLastIds)).execute()) lastMessages.set(m.id, m);
  }

  const pending = new Map<string, NewEvent[]>();
  const emit = (teamId: string, event: NewEvent) => {
    const events = pending.get(teamId);
    if (events) events.push(event);
    else pending.set(teamId, [event]);
  };
  const flush = async () => {
    for (const [teamId, events] of pending) await emitEvents(trx, teamId, events, from);
    pending.clear();
  };
  const automate = async (record: SentRecord, automations: readonly { action: 'setStatus' | 'addTag' | 'assign'; action_data: Record<string, string> }[]) => {
    if (automations.length === 0) return;
    await flush();
    const { prospect, campaign } = record.item;
    await applyAutomations(trx, campaign.team_id, prospect.id, automations, record.at);
    prospects.set(prospect.id, (await presentProspects(trx, [prospect.id], from)).get(prospect.id)!);
  };

  // Each failure at its place in time: before the first send after it (sends of its instant go first, as a
  // batch at that instant alone would announce them), so a span of virtual time tells what instants tell.
  let failuresEmitted = 0;
  const emitFailuresBefore = (at: Date | null) => {
    for (; failuresEmitted < failures.length && (at === null || failures[failuresEmitted]!.event.at < at); failuresEmitted++) {
      emit(failures[failuresEmitted]!.teamId, failures[failuresEmitted]!.event);
    }
  };
  for (const [index, record] of records.entries()) {
    const { item, at } = record;
    emitFailuresBefore(at);
    const entry = recorded[index]!;
    const teamId = item.campaign.team_id;
    // One object while the thread and prospect stay the same: the events of this send store it once (event-groups.ts).
    let shown: { thread: ThreadRow; prospect: ProspectWithContext; view: Thread } | undefined;
    const show = (thread: ThreadRow): Thread => {
      const prospect = prospects.get(item.prospect.id)!;
      if (shown?.thread !== thread || shown.prospect !== prospect) {
        shown = { thread, prospect, view: threadView(thread, prospect, thread.last_message_id ? lastMessages.get(thread.last_message_id) : undefined) };
      }
      return shown.view;
    };
    const message = entry.message && presentMessage(entry.message);
    for (const event of entryEvents(entry, show, at, message)) emit(teamId, event);
    const type = item.intent.kind === 'like' ? 'target.liked' : record.followUp ? 'target.followUpSent' : 'target.contacted';
    const thread = show(entry.after);
    emit(teamId, { type, data: { campaign: summaries.get(item.campaign.id)!, thread, prospect: thread.prospect, message, step: { id: item.step.id, rank: item.step.rank } }, at });
    if (record.firstContact) await automate(record, contacted.get(item.campaign.id)!);
    if (record.completes) await automate(record, completed.get(item.campaign.id)!);
  }
  emitFailuresBefore(null);
  await flush();
}
