import { sql } from 'kysely';
import { markAccountOffline } from '../store/account-links.js';
import type { StoredStep } from '../app/campaign-data.js';
import { emitEvents, type NewEvent } from '../app/events.js';
import { presentMessage, threadAfterMessage } from '../app/messages.js';
import type { ProspectWithContext } from '../app/prospects.js';
import { insertThreads, presentProspectRows, presentProspects, threadsOf, threadView, type LastMessageRow } from '../app/threads.js';
import { newId } from '../core/ids.js';
import { nextAction, type ActionStep } from '../core/lead-progress.js';
import type { PlatformError } from '../platforms/platform.js';
import { insertRows, runningMeanwhile, updateRows } from '../store/bulk.js';
import { isAnyOf, type Db } from '../store/db.js';
import type { AccountLinkRow, MessageRow, ProspectRow, ThreadRow } from '../store/schema.js';
import type { CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import type { SendIntentRow } from '../store/schema-engine.js';
import { applyAutomations, automationsOf, campaignSummaries } from './outcomes.js';

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
const running = (lead: CampaignLeadRow) => lead.state === 'pending' || lead.state === 'active';
const pairKey = (item: SendItem) => `${item.campaign.id}:${item.account.id}`;

/** What did not go out: a refusing recipient fails its lead; anything else drops its intent (its slot in the send log), and an account problem holds the account. */
async function recordFailures(trx: Db, items: readonly SendItem[], outcomes: ReadonlyMap<string, Outcome>, leads: Map<string, CampaignLeadRow>, from: Date, backoffMs: number) {
  const handled = new Set<string>();
  for (const item of items) {
    const outcome = outcomes.get(item.intent.id)!;
    if (outcome.kind === 'sent') continue;
    const at = item.intent.created_at;
    const lead = leads.get(item.intent.lead_id)!;
    if (outcome.kind === 'failed' && refused(outcome)) {
      // Counted as contacted (spec 6.2), so the campaign can finish. The attempt keeps its slot in the send
      // log, so the account's pace (and the rest of the batch's plan) stands.
      await trx.updateTable('send_intents').set({ status: 'failed', completed_at: at }).where('id', '=', item.intent.id).execute();
      if (running(lead)) {
        leads.set(lead.id, { ...lead, state: 'failed', failure_reason: outcome.error.message, contacted_at: lead.contacted_at ?? at, next_step_at: null, finished_at: at, updated_at: at });
      }
      continue;
    }
    await trx.deleteFrom('send_intents').where('id', '=', item.intent.id).execute();
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

/** What one successful send changes and announces, worked out in memory in send order. */
interface SentRecord {
  item: SendItem;
  at: Date;
  platformMessageId: string | null;
  /** the thread before the batch */
  thread: ThreadRow;
  freshThread: boolean;
  /** a new thread, inserted in its state after the batch */
  unstoredThread: boolean;
  /** the message as inserted (null for a like) */
  message: MessageRow | null;
  firstContact: boolean;
  completes: boolean;
  followUp: boolean;
}

const LEAD_COLUMNS = {
  id: 'text',
  state: 'text',
  contacted_at: 'timestamptz',
  last_contact_at: 'timestamptz',
  next_rank: 'integer',
  next_step_at: 'timestamptz',
  finished_at: 'timestamptz',
  failure_reason: 'text',
  sequence_version: 'integer',
  updated_at: 'timestamptz',
};
const THREAD_COLUMNS = {
  id: 'text',
  has_outbound: 'boolean',
  has_inbound: 'boolean',
  variant: 'text',
  is_request: 'boolean',
  done: 'boolean',
  last_message_id: 'text',
  last_message_at: 'timestamptz',
  last_message_outbound: 'boolean',
  sort_at: 'timestamptz',
  deleted_at: 'timestamptz',
};
const INTENT_COLUMNS = { id: 'text', status: 'text', platform_message_id: 'text', completed_at: 'timestamptz' };

/** The messages stored; one the thread already has under its platform id (seen inbound first) is not stored again. */
async function insertMessages(trx: Db, rows: readonly MessageRow[]): Promise<Map<string, MessageRow>> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  // Only the columns without a default (the rows hold the defaults already), and only ids back.
  const inserted = await insertRows<'messages', { id: string }>(
    trx,
    'messages',
    rows.map(({ is_edited, reactions, updated_at, deleted_at, deletion_type, deletion_origin, platform_deleted_at, ...columns }) => columns),
    'on conflict (thread_id, platform_id) where platform_id is not null do nothing returning id',
  );
  return new Map(inserted.map(({ id }) => [id, byId.get(id)!]));
}

/**
 * What a batch's sends record. `everything`: the inbox sees them (messages, threads, events, automations).
 * `progress`: only what scheduling reads (the leads' progress and the send log), for a forecast, whose copy of
 * the campaign is thrown away and whose sends nobody sees.
 */
export type Recording = 'everything' | 'progress';

/** How one send moves its lead on, in send order (a lead may send twice in a span of virtual time). */
function advanceLead(item: SendItem, leads: Map<string, CampaignLeadRow>): { firstContact: boolean; completes: boolean } {
  const at = item.intent.created_at;
  const lead = leads.get(item.intent.lead_id)!;
  const next = nextAction(item.steps, item.step.rank + 1, at, at);
  leads.set(lead.id, {
    ...lead,
    contacted_at: lead.contacted_at ?? at,
    last_contact_at: at,
    next_rank: item.step.rank + 1,
    // The version whose steps it now follows (a sequence edit moves only leads on an older one).
    sequence_version: item.intent.sequence_version,
    updated_at: at,
    ...(running(lead) ? { state: next.done ? 'completed' : 'active', next_step_at: next.done ? null : next.dueAt, finished_at: next.done ? at : lead.finished_at } : {}),
  });
  return { firstContact: lead.contacted_at === null, completes: running(lead) && next.done };
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

class ThreadStoredMeanwhile extends Error {
  constructor() {
    super('another transaction stored a thread this batch was creating');
  }
}

async function recordIn(trx: Db, { items, outcomes, from, backoffMs, recording }: BatchOutcomes): Promise<number> {
  const leadIds = [...new Set(items.map((i) => i.intent.lead_id))];
  const leads = new Map((await trx.selectFrom('campaign_leads').selectAll().where(isAnyOf('id', leadIds)).forUpdate().execute()).map((l) => [l.id, l]));
  await recordFailures(trx, items, outcomes, leads, from, backoffMs);
  const sent = items.filter((i) => outcomes.get(i.intent.id)!.kind === 'sent');
  const platformMessageIdOf = (item: SendItem) => (outcomes.get(item.intent.id) as { platformMessageId: string | null }).platformMessageId;
  // Read before this batch's intents are marked sent: a lead's first message is no follow-up.
  const messaged = recording === 'everything' ? await messagedLeads(trx, sent) : new Set<string>();
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
      updateRows(trx, 'campaign_leads', LEAD_COLUMNS, [...leads.values()]),
      updateRows(
        trx,
        'send_intents',
        INTENT_COLUMNS,
        sent.map((item) => ({ id: item.intent.id, status: 'sent', platform_message_id: platformMessageIdOf(item), completed_at: item.intent.created_at })),
      ),
    ]),
  );
  if (!announced) {
    await progressWritten;
    return sent.length;
  }

  const threadState = new Map<string, ThreadRow>();
  const records: SentRecord[] = sent.map((item, index) => {
    const at = item.intent.created_at;
    const { row, fresh, unstored } = threads[index]!;
    const freshThread = fresh && !threadState.has(row.id);
    const thread = threadState.get(row.id) ?? row;
    const platformMessageId = platformMessageIdOf(item);
    const message: MessageRow | null =
      item.intent.kind === 'message'
        ? {
            id: newId(),
            team_id: thread.team_id,
            thread_id: thread.id,
            platform: thread.platform,
            platform_id: platformMessageId,
            outbound: true,
            author_id: item.account.id,
            user_id: null,
            campaign_id: item.campaign.id,
            campaign_step_id: item.step.id,
            content: item.intent.content!,
            origin: 'internal',
            reply_to_message_id: null,
            is_encrypted: thread.variant === 'xChat',
            is_edited: false,
            reactions: [],
            created_at: at,
            updated_at: null,
            deleted_at: null,
            deletion_type: null,
            deletion_origin: null,
            platform_deleted_at: null,
          }
        : null;
    // What the thread becomes as its messages go in: final for a new thread (none of its messages can be
    // stored already), while a stored one is worked out again from the messages actually stored.
    threadState.set(row.id, message ? { ...thread, ...threadAfterMessage(thread, message) } : thread);
    const followUp = message !== null && messaged.has(item.intent.lead_id);
    if (message) messaged.add(item.intent.lead_id);
    return { item, at, platformMessageId, thread: row, freshThread, unstoredThread: unstored, message, ...progress[index]!, followUp };
  });
  await progressWritten;
  // New threads go in as they end the batch, so only the threads already stored are updated after.
  if (!(await insertThreads(trx, threadsAfter(records.filter((r) => r.unstoredThread), threadState)))) throw new ThreadStoredMeanwhile();

  const wanted = records.flatMap((r) => (r.message ? [r.message] : []));
  const stored = await insertMessages(trx, wanted);
  const clashes = wanted.filter((m) => !stored.has(m.id));
  const existing =
    clashes.length === 0
      ? []
      : await trx
          .selectFrom('messages')
          .selectAll()
          .where('thread_id', 'in', clashes.map((m) => m.thread_id))
          .where('platform_id', 'in', clashes.map((m) => m.platform_id!))
          .execute();
  await announce(trx, records, stored, existing, from);
  return records.length;
}

/** The threads of these sends, each once, in the state `states` has them in. */
const threadsAfter = (records: readonly SentRecord[], states: ReadonlyMap<string, ThreadRow>): ThreadRow[] =>
  [...new Set(records.map((r) => r.thread.id))].map((id) => states.get(id)!);

/** The leads of these sends that have had a message sent before. */
async function messagedLeads(trx: Db, sent: readonly SendItem[]): Promise<Set<string>> {
  if (sent.length === 0) return new Set();
  const rows = await trx
    .selectFrom('send_intents')
    .select('lead_id')
    .where(isAnyOf('lead_id', sent.map((i) => i.intent.lead_id)))
    .where('kind', '=', 'message')
    .where('status', '=', 'sent')
    .execute();
  return new Set(rows.map((r) => r.lead_id));
}

/** The events of a batch's sends, in send order, with the automations they trigger run at their place. */
async function announce(trx: Db, records: readonly SentRecord[], stored: ReadonlyMap<string, MessageRow>, existing: readonly MessageRow[], from: Date) {
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
  const shownBefore = records.filter((r) => !(r.message && stored.has(r.message.id)));
  const previousLastIds = shownBefore.flatMap((r) => (r.thread.last_message_id ? [r.thread.last_message_id] : []));
  const lastMessages = new Map<string, LastMessageRow>([...stored.values()].map((m) => [m.id, m]));
  if (previousLastIds.length > 0) {
    for (const m of await trx.selectFrom('messages').selectAll().where(isAnyOf('id', previousLastIds)).execute()) lastMessages.set(m.id, m);
  }
  const existingByKey = new Map(existing.map((m) => [`${m.thread_id}:${m.platform_id}`, m]));

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

  const threadState = new Map<string, ThreadRow>();
  for (const record of records) {
    const { item, at } = record;
    const teamId = item.campaign.team_id;
    let thread = threadState.get(record.thread.id) ?? record.thread;
    // One object while the thread and prospect stay the same: the events of this send store it once (event-groups.ts).
    let shown: { thread: ThreadRow; prospect: ProspectWithContext; view: ReturnType<typeof threadView> } | undefined;
    const view = (): { thread: ReturnType<typeof threadView>; prospect: ProspectWithContext } => {
      const prospect = prospects.get(item.prospect.id)!;
      if (shown?.thread !== thread || shown.prospect !== prospect) {
        shown = { thread, prospect, view: threadView(thread, prospect, thread.last_message_id ? lastMessages.get(thread.last_message_id) : undefined) };
      }
      return { thread: shown.view, prospect: shown.view.prospect };
    };
    if (record.freshThread) emit(teamId, { type: 'thread.created', data: view(), at });
    let message = null;
    if (record.message) {
      const inserted = stored.get(record.message.id);
      if (inserted) {
        thread = { ...thread, ...threadAfterMessage(thread, inserted) };
        message = presentMessage(inserted);
        emit(teamId, { type: 'message.created', data: { message, thread: view().thread }, at });
      } else {
        message = presentMessage(existingByKey.get(`${record.message.thread_id}:${record.message.platform_id}`)!);
      }
    }
    threadState.set(thread.id, thread);
    const type = item.intent.kind === 'like' ? 'target.liked' : record.followUp ? 'target.followUpSent' : 'target.contacted';
    emit(teamId, { type, data: { campaign: summaries.get(item.campaign.id)!, ...view(), message, step: { id: item.step.id, rank: item.step.rank } }, at });
    if (record.firstContact) await automate(record, contacted.get(item.campaign.id)!);
    if (record.completes) await automate(record, completed.get(item.campaign.id)!);
  }
  await updateRows(trx, 'threads', THREAD_COLUMNS, threadsAfter(records.filter((r) => !r.unstoredThread), threadState));
  await flush();
}
