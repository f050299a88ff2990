import type { MessageAttachment } from '../../core/attachments.js';
import { newId } from '../../core/ids.js';
import { conversationId, type PlatformProfile } from '../../platforms/platform.js';
import { insertRows, updateRows } from '../../store/bulk.js';
import { isAnyOf, type Db } from '../../store/db.js';
import type { AccountLinkRow, MessageOrigin, MessageRow, ProspectRow, ThreadRow } from '../../store/schema.js';
import { emitEvent, type NewEvent } from '../events/events.js';
import { ensureProspect } from '../prospects/prospects.js';
import { presentMessage, presentThread, type Message, type Thread } from './presenters.js';

/**
 * The one path that records messages, batch-first: API sends, quick sends, inbound DMs (sandbox and X) and the
 * engine's sends all go through recordMessages, one message or thousands. In this order:
 * 1. each message's row is built (its id drawn in entry order) and each thread's state worked out as its
 *    messages go in (threadAfterMessage);
 * 2. new threads are inserted, in the state they end the batch in (their messages need them, and no one else
 *    sees them before the transaction ends);
 * 3. the messages are inserted in one statement; one whose platform id its thread already has (seen inbound
 *    first, say) is not stored again, and the stored one stands for it;
 * 4. the caller announces (announce): per entry, in entry order, `thread.created` (a new or restored thread, shown
 *    before its message), `thread.unarchived` (the prospect's message reopened a done thread) and `message.created`
 *    (shown with the thread after it), with whatever the caller adds between entries (the engine's target.* events
 *    and automations);
 * 5. the stored threads that changed are written, once each, in their final state.
 * Messages are recorded inside the caller's transaction, with their threads locked (threadsOf).
 */

export interface NewMessageInput {
  /** the id to store it under, drawn beforehand (a keyed API send names it before it is recorded); else a new one */
  id?: string;
  platformId: string | null;
  /** sent by our account (from the API, the UI, a campaign or the native X client) */
  outbound: boolean;
  authorId: string;
  userId: string | null;
  campaignId?: string | null;
  campaignStepId?: string | null;
  content: string;
  origin: MessageOrigin;
  replyToMessageId?: string | null;
  /** the media and link card the platform reported with it */
  attachments?: MessageAttachment[];
  createdAt: Date;
}

/** The thread columns a new message changes. */
export function threadAfterMessage(thread: ThreadRow, message: Pick<MessageRow, 'id' | 'outbound' | 'created_at'>) {
  const hasOutbound = thread.has_outbound || message.outbound;
  const hasInbound = thread.has_inbound || !message.outbound;
  const firstContact = !thread.has_outbound && !thread.has_inbound;
  const newest = !thread.last_message_at || message.created_at >= thread.last_message_at;
  return {
    has_outbound: hasOutbound,
    has_inbound: hasInbound,
    // The variant becomes xChat once both sides have sent.
    variant: hasOutbound && hasInbound ? ('xChat' as const) : thread.variant,
    // Our message answers a message request.
    is_request: message.outbound ? false : thread.is_request || firstContact,
    // A message from the prospect re-opens an archived thread.
    done: thread.done && message.outbound,
    // Our own messages leave it as it was: only the prospect's make a thread unread.
    unread: thread.unread || !message.outbound,
    // The last-message preview and sort time follow the newest message.
    ...(newest
      ? { last_message_id: message.id, last_message_at: message.created_at, last_message_outbound: message.outbound, sort_at: message.created_at }
      : {}),
  };
}

/**
 * Records one message in a locked thread (recordMessages) and emits its events. A message whose platform id the
 * thread already has is not stored twice: the existing one is returned.
 */
export async function recordMessage(trx: Db, thread: ThreadRow, input: NewMessageInput, now: Date): Promise<Message> {
  const [entry] = await recordMessages(trx, [{ thread: { row: thread, fresh: false, unstored: false }, input }], (recorded) => announceEntries(trx, recorded, now));
  return presentMessage(entry!.message!);
}

/** The events of entries recorded by the API (one at a time), each thread shown as it is read now. */
export async function announceEntries(trx: Db, recorded: readonly RecordedEntry[], now: Date): Promise<void> {
  for (const entry of recorded) {
    const shown = new Map<ThreadRow, Thread>();
    const states = entry.events.map((type) => (type === 'thread.created' ? entry.before : entry.after));
    for (const row of new Set(states)) shown.set(row, await presentThread(trx, row, now));
    for (const event of entryEvents(entry, (row) => shown.get(row)!, now)) await emitEvent(trx, entry.before.team_id, event.type, event.data, now);
  }
}

/** One entry of a batch: a message for a thread (from threadsOf), or none (a thread opened, or a like sent, without one). */
export interface MessageEntry {
  thread: PairThread;
  input: NewMessageInput | null;
}

export type MessageEventType = 'thread.created' | 'thread.unarchived' | 'message.created';

export interface RecordedEntry {
  /** the thread as this entry found it */
  before: ThreadRow;
  /** the thread as this entry left it (the same object when it changed nothing) */
  after: ThreadRow;
  /** the message stored, or the one its thread already had under its platform id; null for an entry without one */
  message: MessageRow | null;
  stored: boolean;
  events: MessageEventType[];
}

/** Another transaction stored a thread this batch was creating: read the threads again (threadsOf) and retry. */
export class ThreadStoredMeanwhile extends Error {
  constructor() {
    super('another transaction stored a thread this batch was creating');
  }
}

const THREAD_COLUMNS = {
  id: 'text',
  has_outbound: 'boolean',
  has_inbound: 'boolean',
  variant: 'text',
  is_request: 'boolean',
  done: 'boolean',
  unread: 'boolean',
  last_message_id: 'text',
  last_message_at: 'timestamptz',
  last_message_outbound: 'boolean',
  sort_at: 'timestamptz',
  deleted_at: 'timestamptz',
};

function messageRow(thread: ThreadRow, input: NewMessageInput): MessageRow {
  return {
    id: input.id ?? newId(),
    team_id: thread.team_id,
    thread_id: thread.id,
    platform: thread.platform,
    platform_id: input.platformId,
    outbound: input.outbound,
    author_id: input.authorId,
    user_id: input.userId,
    campaign_id: input.campaignId ?? null,
    campaign_step_id: input.campaignStepId ?? null,
    content: input.content,
    origin: input.origin,
    reply_to_message_id: input.replyToMessageId ?? null,
    is_encrypted: thread.variant === 'xChat',
    is_edited: false,
    reactions: [],
    reactions_version: 0,
    attachments: input.attachments ?? [],
    created_at: input.createdAt,
    updated_at: null,
    deleted_at: null,
    deletion_type: null,
    deletion_origin: null,
    platform_deleted_at: null,
  };
}

/** The messages stored, by id; one the thread already has under its platform id is not stored again. */
async function insertMessages(trx: Db, rows: readonly MessageRow[]): Promise<Map<string, MessageRow>> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  // Only the columns without a default (the rows hold the defaults already), and only ids back; attachments only
  // when a message of the batch has some (an engine batch never has: its rows stay without a json cell each).
  const withAttachments = rows.some((r) => r.attachments.length > 0);
  const inserted = await insertRows<'messages', { id: string }>(
    trx,
    'messages',
    rows.map(({ is_edited, reactions, reactions_version, attachments, updated_at, deleted_at, deletion_type, deletion_origin, platform_deleted_at, ...columns }) =>
      withAttachments ? { ...columns, attachments: JSON.stringify(attachments) } : columns,
    ),
    'on conflict (thread_id, platform_id) where platform_id is not null do nothing returning id',
  );
  return new Map(inserted.map(({ id }) => [id, byId.get(id)!]));
}

/** The stored messages the clashing ones stand for, by thread and platform id. */
async function storedInstead(trx: Db, clashes: readonly MessageRow[]): Promise<Map<string, MessageRow>> {
  if (clashes.length === 0) return new Map();
  const rows = await trx
    .selectFrom('messages')
    .selectAll()
    .where('thread_id', 'in', clashes.map((m) => m.thread_id))
    .where('platform_id', 'in', clashes.map((m) => m.platform_id!))
    .execute();
  return new Map(rows.map((m) => [`${m.thread_id}:${m.platform_id}`, m]));
}

/**
 * Records the entries (steps 1-5 above); `announce` is step 4. `meanwhile` is a statement the caller left running
 * (the engine's lead progress), awaited after step 1 so that the rows are built while it runs. Throws
 * ThreadStoredMeanwhile, before writing a message, when the caller must read the threads again.
 */
export async function recordMessages(
  trx: Db,
  entries: readonly MessageEntry[],
  announce: (recorded: RecordedEntry[]) => Promise<void>,
  meanwhile?: Promise<unknown>,
): Promise<RecordedEntry[]> {
  // 1. What each new thread becomes: final, since none of its messages can be stored already.
  const planned = new Map<string, ThreadRow>();
  const rows = entries.map(({ thread, input }) => {
    if (!input) return null;
    const state = planned.get(thread.row.id) ?? thread.row;
    const row = messageRow(state, input);
    planned.set(thread.row.id, { ...state, ...threadAfterMessage(state, row) });
    return row;
  });
  await meanwhile;
  // 2.
  const unstored = [...new Map(entries.filter((e) => e.thread.unstored).map((e) => [e.thread.row.id, planned.get(e.thread.row.id) ?? e.thread.row])).values()];
  if (!(await insertThreads(trx, unstored))) throw new ThreadStoredMeanwhile();
  // 3.
  const wanted = rows.filter((r): r is MessageRow => r !== null);
  const stored = await insertMessages(trx, wanted);
  const instead = await storedInstead(
    trx,
    wanted.filter((m) => !stored.has(m.id)),
  );

  // A stored thread is worked out again from the messages actually stored.
  const state = new Map<string, ThreadRow>();
  const changed = new Set<string>();
  const recorded = entries.map(({ thread }, i): RecordedEntry => {
    const seen = state.has(thread.row.id);
    const before = state.get(thread.row.id) ?? thread.row;
    const events: MessageEventType[] = thread.fresh && !seen ? ['thread.created'] : [];
    if (thread.fresh && !thread.unstored) changed.add(thread.row.id);
    const wantedRow = rows[i]!;
    const message = wantedRow && (stored.get(wantedRow.id) ?? instead.get(`${wantedRow.thread_id}:${wantedRow.platform_id}`)!);
    const isStored = wantedRow !== null && stored.has(wantedRow.id);
    let after = before;
    if (isStored) {
      after = { ...before, ...threadAfterMessage(before, message!) };
      if (before.done && !after.done) events.push('thread.unarchived');
      events.push('message.created');
      changed.add(thread.row.id);
    }
    state.set(thread.row.id, after);
    return { before, after, message, stored: isStored, events };
  });
  // 4.
  await announce(recorded);
  // 5.
  const inserted = new Set(unstored.map((t) => t.id));
  const storedThreads = [...changed].filter((id) => !inserted.has(id)).map((id) => state.get(id)!);
  await updateRows(trx, 'threads', THREAD_COLUMNS, storedThreads);
  return recorded;
}

/**
 * An entry's events, each thread shown by `show` (the caller's presenter: it knows the prospect as it is now) and
 * the message as `message` presents it (the caller may show the same object in events of its own).
 */
export function entryEvents(
  entry: RecordedEntry,
  show: (thread: ThreadRow) => Thread,
  at: Date,
  message: Message | null = entry.message && presentMessage(entry.message),
): NewEvent[] {
  return entry.events.map((type): NewEvent => {
    switch (type) {
      case 'thread.created': {
        const thread = show(entry.before);
        return { type, data: { thread, prospect: thread.prospect }, at };
      }
      case 'thread.unarchived':
        return { type, data: { thread: show(entry.after) }, at };
      case 'message.created':
        return { type, data: { message, thread: show(entry.after) }, at };
    }
  });
}

const threadKey = (accountLinkId: string, prospectId: string) => `${accountLinkId}:${prospectId}`;

/** A thread not stored yet, in the state every thread starts in. */
function newThreadRow(account: AccountLinkRow, prospect: ProspectRow, at: Date): ThreadRow {
  return {
    id: newId(),
    team_id: account.team_id,
    account_link_id: account.id,
    prospect_id: prospect.id,
    platform: account.platform,
    platform_id: conversationId(account.platform_id, prospect.platform_id),
    done: false,
    assignee_id: prospect.assignee_id,
    status: 'active',
    variant: 'unencrypted',
    is_request: false,
    is_syncing: false,
    typing_indicators_enabled: null,
    has_outbound: false,
    has_inbound: false,
    unread: false,
    last_message_id: null,
    last_message_at: null,
    last_message_outbound: null,
    sort_at: at,
    created_at: at,
    deleted_at: null,
  };
}

export interface PairThread {
  row: ThreadRow;
  /** new or restored from deleted: thread.created is the caller's to emit */
  fresh: boolean;
  /** new, so not in the store yet: the caller stores it with insertThreads, in whatever state it has reached */
  unstored: boolean;
}

/**
 * The thread between each account link and prospect given, in order, as it stands: a stored one locked, a
 * deleted one restored (in memory: writing `deleted_at` is the caller's), a missing one built to start at its
 * pair's first `at` (the same object for every pair of the same account and prospect).
 */
export async function threadsOf(trx: Db, pairs: ReadonlyArray<{ account: AccountLinkRow; prospect: ProspectRow; at?: Date }>, now: Date): Promise<PairThread[]> {
  if (pairs.length === 0) return [];
  const stored = await trx
    .selectFrom('threads')
    .selectAll()
    .where('account_link_id', 'in', [...new Set(pairs.map((p) => p.account.id))])
    .where(isAnyOf('prospect_id', [...new Set(pairs.map((p) => p.prospect.id))]))
    .forUpdate()
    .execute();
  const found = new Map<string, PairThread>();
  for (const row of stored) found.set(threadKey(row.account_link_id, row.prospect_id), row.deleted_at ? { row: { ...row, deleted_at: null }, fresh: true, unstored: false } : { row, fresh: false, unstored: false });
  return pairs.map(({ account, prospect, at = now }) => {
    const key = threadKey(account.id, prospect.id);
    let thread = found.get(key);
    if (!thread) found.set(key, (thread = { row: newThreadRow(account, prospect, at), fresh: true, unstored: true }));
    return thread;
  });
}

/**
 * Stores threads built by threadsOf. False when another transaction stored a thread for one of their pairs
 * first: the caller's transaction must then read them again (with threadsOf) rather than go on.
 */
export async function insertThreads(trx: Db, rows: readonly ThreadRow[]): Promise<boolean> {
  // Written by the bulk writer: an engine batch may start thousands of threads, past one statement's parameters.
  const inserted = await insertRows(trx, 'threads', rows, 'on conflict (account_link_id, prospect_id) do nothing returning id');
  return inserted.length === rows.length;
}

/**
 * The one thread between an account link and a prospect: created on first use, restored if it was deleted;
 * either way thread.created is emitted. Recorded as an entry without a message.
 */
export async function ensureThread(trx: Db, account: AccountLinkRow, prospect: ProspectRow, now: Date): Promise<ThreadRow> {
  // A second reading finds the thread another transaction stored meanwhile.
  for (let reading = 1; ; reading++) {
    const [thread] = (await threadsOf(trx, [{ account, prospect }], now)) as [PairThread];
    try {
      const [entry] = await recordMessages(trx, [{ thread, input: null }], (recorded) => announceEntries(trx, recorded, now));
      return entry!.after;
    } catch (error) {
      if (!(error instanceof ThreadStoredMeanwhile) || reading === 2) throw error;
    }
  }
}

/** Who a conversation is with: a known prospect, or a platform profile that becomes one. */
export type Target = { account: AccountLinkRow; recipientPlatformId: string } & (
  | { prospect: ProspectRow; profile?: undefined }
  | { prospect?: undefined; profile: PlatformProfile }
);

/** Inside a transaction: the prospect (created if new) and the thread with it (created if new). */
export async function openThread(trx: Db, target: Target, now: Date): Promise<ThreadRow> {
  const { account } = target;
  const prospect = target.prospect ?? (await ensureProspect(trx, account.team_id, account.platform, target.profile, now));
  return ensureThread(trx, account, prospect, now);
}
