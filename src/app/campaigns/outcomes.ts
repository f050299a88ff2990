import type { CampaignFailure, CampaignSend } from '../../core/campaign-sends.js';
import { leadTransition } from '../../core/lead-lifecycle.js';
import { runningMeanwhile } from '../../store/bulk.js';
import { writeLeadChanges } from '../../store/campaign-leads.js';
import { isAnyOf, type Db } from '../../store/db.js';
import type { ThreadRow } from '../../store/schema.js';
import { applyAutomations, automationsOf, runAutomations, type AutomationToRun } from './automations.js';
import { campaignSummaries, campaignSummary } from './campaigns.js';
import { emitEvent, emitEvents, type NewEvent } from '../events/events.js';
import { entryEvents, recordMessages, threadsOf, ThreadStoredMeanwhile, type MessageEntry, type RecordedEntry } from '../inbox/message-recording.js';
import {
  type LastMessageRow,
  type Message,
  presentMessage,
  presentProspectRows,
  presentProspects,
  type ProspectWithContext,
  presentThread,
  type Thread,
  threadView,
} from '../inbox/presenters.js';

/**
 * What a campaign's sends and replies make visible in the inbox: the sends' messages and threads, the
 * target.* events and the automations they trigger. The engine decides what happened (which lead, which step,
 * first contact or follow-up) and hands it here through its ports (wired in runtimes/engine.ts); an inbound
 * reply comes here from app/inbox/inbound.ts. Everything runs inside the caller's transaction.
 */

/**
 * Records a batch's sends (their messages in their threads, recordMessages) and announces them in send order.
 * `writeProgress` (the batch's own writes) starts once the threads are read, so it runs while the messages are
 * built. Resolves false when another transaction stored one of the threads meanwhile: the caller's transaction
 * must be rolled back and the batch recorded again.
 */
export async function recordCampaignSends(
  trx: Db,
  sends: readonly CampaignSend[],
  failures: readonly CampaignFailure[],
  from: Date,
  writeProgress: () => Promise<unknown>,
): Promise<boolean> {
  if (sends.length === 0) {
    // Only refusals: no message, no thread, only their target.failed events.
    await writeProgress();
    for (const { teamId, event } of await failureEvents(trx, failures, from)) await emitEvents(trx, teamId, [event], from);
    return true;
  }
  const threads = await threadsOf(
    trx,
    sends.map((s) => ({ account: s.account, prospect: s.prospect, at: s.at })),
    from,
  );
  const progressWritten = runningMeanwhile(writeProgress());
  const entries: MessageEntry[] = sends.map((send, index) => ({
    thread: threads[index]!,
    input: send.message && {
      platformId: send.message.platformId,
      outbound: true,
      authorId: send.account.id,
      userId: null,
      campaignId: send.campaign.id,
      campaignStepId: send.step.id,
      content: send.message.content,
      origin: 'internal',
      createdAt: send.at,
    },
  }));
  try {
    const failed = await failureEvents(trx, failures, from);
    await recordMessages(trx, entries, (recorded) => announce(trx, sends, recorded, failed, from), progressWritten);
    return true;
  } catch (error) {
    if (error instanceof ThreadStoredMeanwhile) return false;
    throw error;
  }
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
async function failureEvents(trx: Db, failures: readonly CampaignFailure[], from: Date): Promise<FailureEvent[]> {
  if (failures.length === 0) return [];
  const summaries = await campaignSummaries(trx, [...new Set(failures.map((f) => f.campaign.id))]);
  const prospects = await presentProspectRows(
    trx,
    failures.map((f) => f.prospect),
    from,
  );
  return failures.map((f) => ({
    teamId: f.campaign.team_id,
    event: {
      type: 'target.failed',
      data: { campaign: summaries.get(f.campaign.id)!, prospect: prospects.get(f.prospect.id)!, accountLinkId: f.account.id, step: f.step, reason: f.reason },
      at: f.at,
    },
  }));
}

/**
 * The events of a batch's sends, in send order: each send's thread.* and message.* events (recordMessages), then
 * its target.* event, with the automations they trigger run at their place; the batch's target.failed events
 * among them, in time order.
 */
async function announce(trx: Db, sends: readonly CampaignSend[], recorded: readonly RecordedEntry[], failures: readonly FailureEvent[], from: Date) {
  const campaignIds = [...new Set(sends.map((s) => s.campaign.id))];
  const [summaries, contacted, completed] = await Promise.all([
    campaignSummaries(trx, campaignIds),
    automationsOf(trx, campaignIds, 'contacted'),
    automationsOf(trx, campaignIds, 'completed'),
  ]);
  // As read when the batch was reserved, moments ago (tags are read now): reading them again took 1.3 s of a
  // 55 s, 20,000-lead bench:engine run on PGlite.
  const prospects = await presentProspectRows(
    trx,
    sends.map((s) => s.prospect),
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
  const automate = async (send: CampaignSend, automations: readonly AutomationToRun[]) => {
    if (automations.length === 0) return;
    await flush();
    const { prospect, campaign } = send;
    await applyAutomations(trx, campaign.team_id, prospect.id, automations, send.at);
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
  for (const [index, send] of sends.entries()) {
    const { at } = send;
    emitFailuresBefore(at);
    const entry = recorded[index]!;
    const teamId = send.campaign.team_id;
    // One object while the thread and prospect stay the same: the events of this send store it once (event-groups.ts).
    let shown: { thread: ThreadRow; prospect: ProspectWithContext; view: Thread } | undefined;
    const show = (thread: ThreadRow): Thread => {
      const prospect = prospects.get(send.prospect.id)!;
      if (shown?.thread !== thread || shown.prospect !== prospect) {
        shown = { thread, prospect, view: threadView(thread, prospect, thread.last_message_id ? lastMessages.get(thread.last_message_id) : undefined) };
      }
      return shown.view;
    };
    const message = entry.message && presentMessage(entry.message);
    for (const event of entryEvents(entry, show, at, message)) emit(teamId, event);
    const thread = show(entry.after);
    emit(teamId, { type: send.event, data: { campaign: summaries.get(send.campaign.id)!, thread, prospect: thread.prospect, message, step: send.step }, at });
    if (send.firstContact) await automate(send, contacted.get(send.campaign.id)!);
    if (send.completes) await automate(send, completed.get(send.campaign.id)!);
  }
  emitFailuresBefore(null);
  await flush();
}

/** target.replied, with the payload of spec 5.2. */
async function emitReplied(trx: Db, campaignId: string, thread: ThreadRow, message: Message, now: Date): Promise<void> {
  const presented = await presentThread(trx, thread, now);
  const data = { campaign: await campaignSummary(trx, campaignId), thread: presented, message, prospect: presented.prospect };
  await emitEvent(trx, thread.team_id, 'target.replied', data, now);
}

/**
 * An inbound message from a prospect: every lead of an active or paused campaign of the team that was
 * contacted before it and has not replied yet becomes `replied` (so it is counted once), its remaining steps
 * are cancelled, target.replied is emitted and the `replied` automations run. Callers pass only messages from
 * the prospect, never our own.
 */
export async function recordCampaignReply(trx: Db, thread: ThreadRow, message: Message, now: Date): Promise<string[]> {
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
  const campaignIds: string[] = [];
  for (const { lead } of replied.sort((a, b) => a.lead.campaign_id.localeCompare(b.lead.campaign_id))) {
    await emitReplied(trx, lead.campaign_id, thread, message, now);
    await runAutomations(trx, { id: lead.campaign_id, team_id: lead.team_id }, thread.prospect_id, 'replied', now);
    campaignIds.push(lead.campaign_id);
  }
  return campaignIds;
}
