import { AppError, notFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { iso, isoOrNull } from '../../core/time.js';
import { accountOf, platformOf, PlatformError, type SentDm } from '../../platforms/platform.js';
import type { Db } from '../../store/db.js';
import type { AccountLinkRow, MessageOrigin, MessageRow, Platform as PlatformName, ProspectRow, Reaction, ThreadRow } from '../../store/schema.js';
import { getAccountLinkRow } from '../accounts/account-links.js';
import { markAccountOffline } from '../../store/account-links.js';
import type { Actor, AppContext } from '../context.js';
import { emitEvent } from '../events/events.js';
import { getProspectRow } from '../prospects/prospects.js';
import { openThread, recordMessage, type NewMessageInput, type Target } from './message-recording.js';
import { presentMessage, type Message, type V1Attachment } from './presenters.js';
import { getThreadRow, lockThread, resolveTarget, type TargetInput } from './threads.js';
import { keysetPage } from '../../store/keyset.js';
import { rowOr404 } from '../rows.js';

/** Platform failures as API errors: the caller learns what happened and whether to retry. */
export function platformFailure(error: PlatformError): AppError {
  switch (error.kind) {
    case 'recipient_unreachable':
      return new AppError(422, 'RECIPIENT_UNREACHABLE', `The recipient cannot receive messages: ${error.message}`);
    case 'rate_limited':
      return new AppError(429, 'PLATFORM_RATE_LIMITED', 'The platform is rate limiting this account', {
        resetAt: isoOrNull(error.resetAt),
      });
    case 'auth_revoked':
      return new AppError(409, 'ACCOUNT_LINK_OFFLINE', `The platform signed the account out; reconnect it: ${error.message}`);
    case 'transient':
      return new AppError(503, 'PLATFORM_UNAVAILABLE', `The platform failed; try again later: ${error.message}`);
  }
}

/** A platform's failure as the API reports it; an account the platform signed out is marked offline first. */
export async function platformRefusal(ctx: AppContext, account: AccountLinkRow, error: PlatformError): Promise<AppError> {
  if (error.kind === 'auth_revoked') await markAccountOffline(ctx.db, account.id, ctx.clock.now());
  return platformFailure(error);
}

/** Sends a DM from an account link (before anything is stored, so a failure leaves nothing behind). */
export async function deliver(ctx: AppContext, account: AccountLinkRow, recipientPlatformId: string, content: string): Promise<SentDm> {
  if (account.status !== 'active') {
    throw new AppError(409, 'ACCOUNT_LINK_NOT_ACTIVE', `Account link '${account.id}' is ${account.status}`);
  }
  try {
    return await platformOf(ctx, account.platform).sendDm(accountOf(account), recipientPlatformId, content);
  } catch (error) {
    if (!(error instanceof PlatformError)) throw error;
    throw await platformRefusal(ctx, account, error);
  }
}

/** A message our account sent through the API (or the web app) for a user. */
export const apiMessage = (userId: string | null, account: AccountLinkRow, platformMessageId: string, content: string, createdAt: Date): NewMessageInput => ({
  platformId: platformMessageId,
  outbound: true,
  authorId: account.id,
  userId,
  content,
  origin: 'api',
  createdAt,
});

async function messageRow(db: Db, threadId: string, messageId: string, forUpdate = false): Promise<MessageRow> {
  let query = db.selectFrom('messages').selectAll().where('thread_id', '=', threadId).where('id', '=', messageId);
  if (forUpdate) query = query.forUpdate();
  return rowOr404(query, 'MESSAGE_NOT_FOUND', 'Message', messageId);
}

export async function sendMessage(
  ctx: AppContext,
  actor: Actor,
  threadId: string,
  input: { content: string; replyToMessageId?: string },
): Promise<Message> {
  const thread = await getThreadRow(ctx.db, actor.teamId, threadId);
  if (input.replyToMessageId) await messageRow(ctx.db, thread.id, input.replyToMessageId);
  const [account, prospect] = await Promise.all([
    getAccountLinkRow(ctx.db, actor.teamId, thread.account_link_id),
    getProspectRow(ctx.db, actor.teamId, thread.prospect_id),
  ]);
  const sent = await deliver(ctx, account, prospect.platform_id, input.content);
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) =>
    recordMessage(trx, await lockThread(trx, thread.id), { ...apiMessage(actor.userId, account, sent.platformMessageId, input.content, now), replyToMessageId: input.replyToMessageId }, now),
  );
}

/** Finds or creates the thread with a prospect and sends in it, all or nothing. */
export async function quickSend(
  ctx: AppContext,
  actor: Actor,
  input: TargetInput & { content: string },
): Promise<{ message: Message; thread: { id: string; platformId: string } }> {
  const target = await resolveTarget(ctx, actor.teamId, input);
  const sent = await deliver(ctx, target.account, target.recipientPlatformId, input.content);
  const now = ctx.clock.now();
  const { message, thread } = await recordWithTarget(ctx, target, () => apiMessage(actor.userId, target.account, sent.platformMessageId, input.content, now));
  return { message, thread: { id: thread.id, platformId: thread.platform_id } };
}

/**
 * In one transaction: the prospect and thread for a target (created if new), a message in that thread, and
 * whatever `then` does with it.
 */
export async function recordWithTarget(
  ctx: AppContext,
  target: Target,
  input: (thread: ThreadRow) => NewMessageInput,
  then?: (trx: Db, thread: ThreadRow, message: Message, now: Date) => Promise<void>,
): Promise<{ message: Message; thread: ThreadRow }> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const thread = await lockThread(trx, (await openThread(trx, target, now)).id);
    const message = await recordMessage(trx, thread, input(thread), now);
    await then?.(trx, thread, message, now);
    return { message, thread };
  });
}

export interface MessagePageQuery {
  cursor?: { id: string; timestamp: Date };
  limit: number;
  /** newest first (the default) or oldest first */
  order?: 'desc' | 'asc';
}

/** Messages newest first (or oldest first), `limit + 1` rows from the cursor on (the caller cuts the page). */
export async function listMessageRows(ctx: AppContext, teamId: string, threadId: string, query: MessagePageQuery) {
  const thread = await getThreadRow(ctx.db, teamId, threadId);
  const order = query.order ?? 'desc';
  const select = ctx.db.selectFrom('messages').selectAll().where('thread_id', '=', thread.id);
  const after = query.cursor && [query.cursor.timestamp, query.cursor.id];
  const rows = await keysetPage(select, ['created_at', 'id'], order, after, query.limit).execute();
  return { thread, rows };
}

/** A message of the team by its id, in a live thread (404 MESSAGE_NOT_FOUND otherwise), with that thread. */
export async function getMessageRow(ctx: AppContext, teamId: string, messageId: string): Promise<{ message: MessageRow; thread: ThreadRow }> {
  const message = await ctx.db.selectFrom('messages').selectAll().where('team_id', '=', teamId).where('id', '=', messageId).executeTakeFirst();
  const thread = message && (await ctx.db.selectFrom('threads').selectAll().where('id', '=', message.thread_id).where('deleted_at', 'is', null).executeTakeFirst());
  if (!message || !thread) throw notFound('MESSAGE_NOT_FOUND', 'Message', messageId);
  return { message, thread };
}

/** A change of a message: an edit, a deletion for the account only (`self`) or for everyone (`all`), a reaction. */
export type MessageChange = { kind: 'edit'; content: string } | { kind: 'delete'; scope: 'self' | 'all' } | { kind: 'react' };

/** What a change is judged on: the message, its thread, the thread's account link and the person on the other side. */
export interface ChangeTarget {
  thread: ThreadRow;
  message: MessageRow;
  account: AccountLinkRow;
  recipient: ProspectRow;
}

/**
 * The rules a change of a message follows besides the ones every change follows (a deleted message does not
 * change; only our own messages are edited or deleted for everyone). v1 and v2 each pass theirs.
 */
export interface MessageRules {
  /** Throws when the change may not be made now. */
  check(change: MessageChange, target: ChangeTarget, now: Date): void;
  /** whether the platform makes the change too (X deletes a DM event), before it is recorded here */
  onPlatform: boolean;
}

/**
 * API v1's rules, the vendor's v1: edits and deletions only in X Chat threads, no reactions on sandbox threads;
 * a change is this server's record only, nothing is asked of the platform.
 */
export const V1_MESSAGE_RULES: MessageRules = {
  check(change, { thread }) {
    if (change.kind !== 'react' && thread.variant !== 'xChat') {
      throw new AppError(409, 'THREAD_NOT_XCHAT', 'Messages can be edited or deleted only in X Chat threads (both sides have sent a message)');
    }
    if (change.kind === 'react' && thread.platform === 'sandbox') throw new AppError(422, 'REACTIONS_NOT_SUPPORTED', 'Reactions are not supported on sandbox threads');
  },
  onPlatform: false,
};

const notOwn = (messageId: string) =>
  new AppError(422, 'NOT_OWN_MESSAGE', `Message '${messageId}' was sent by the prospect; only our own messages can be changed for everyone`);

/**
 * A message of a live thread that this change may be made to, by the caller's rules and every change's (locked
 * with its thread when `db` is a transaction about to make it).
 */
async function changeableMessage(db: Db, teamId: string, threadId: string, messageId: string, change: MessageChange, rules: MessageRules, now: Date, lock: boolean): Promise<ChangeTarget> {
  const thread = await getThreadRow(db, teamId, threadId, lock);
  const message = await messageRow(db, thread.id, messageId, lock);
  const account = await getAccountLinkRow(db, teamId, thread.account_link_id);
  const recipient = await getProspectRow(db, teamId, thread.prospect_id);
  const target = { thread, message, account, recipient };
  rules.check(change, target, now);
  if (message.deleted_at) throw new AppError(409, 'MESSAGE_DELETED', `Message '${messageId}' has been deleted`);
  const forEveryone = change.kind === 'edit' || (change.kind === 'delete' && change.scope === 'all');
  if (forEveryone && !message.outbound) throw notOwn(messageId);
  return target;
}

/** A platform's failure to make a change, as an API error the caller can act on (retry later, reconnect). */
function changeFailure(error: PlatformError, account: AccountLinkRow, now: Date): AppError {
  switch (error.kind) {
    case 'rate_limited': {
      const retryAfterSeconds = error.resetAt ? Math.max(0, Math.ceil((error.resetAt.getTime() - now.getTime()) / 1000)) : null;
      return new AppError(429, 'PLATFORM_RATE_LIMITED', 'The platform is rate limiting this account', { resetAt: isoOrNull(error.resetAt), retryAfterSeconds });
    }
    case 'auth_revoked':
      return new AppError(409, 'ACCOUNT_LINK_OFFLINE', `The platform signed the account out; reconnect it: ${error.message}`, { accountLinkId: account.id, status: 'offline' });
    case 'transient':
      return new AppError(503, 'PLATFORM_UNAVAILABLE', `The platform failed; try again later: ${error.message}`, { retryAfterSeconds: null });
    case 'recipient_unreachable':
      return new AppError(502, 'PLATFORM_REFUSED', `The platform refused the change: ${error.message}`);
  }
}

/** Deletes the message for the account on the platform, when the platform keeps DMs of its own (X). */
async function deleteOnPlatform(ctx: AppContext, { account, message }: ChangeTarget): Promise<void> {
  const platform = platformOf(ctx, account.platform);
  if (!platform.deleteDm || !message.platform_id) return;
  try {
    await platform.deleteDm(accountOf(account), message.platform_id);
  } catch (error) {
    if (!(error instanceof PlatformError)) throw error;
    const now = ctx.clock.now();
    if (error.kind === 'auth_revoked') await markAccountOffline(ctx.db, account.id, now);
    throw changeFailure(error, account, now);
  }
}

export async function editMessage(
  ctx: AppContext,
  teamId: string,
  threadId: string,
  messageId: string,
  content: string,
  rules: MessageRules,
): Promise<{ success: true; messageId: string; content: string; editedAt: string }> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const { message } = await changeableMessage(trx, teamId, threadId, messageId, { kind: 'edit', content }, rules, now, true);
    // Each version row keeps the text an edit replaced, with that edit's origin and time.
    await trx
      .insertInto('message_versions')
      .values({ id: newId(), message_id: messageId, content: message.content, edit_origin: 'api', created_at: now })
      .execute();
    const row = await trx
      .updateTable('messages')
      .set({ content, is_edited: true, updated_at: now })
      .where('id', '=', messageId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await emitEvent(trx, teamId, 'message.edited', { message: presentMessage(row), threadId }, now);
    return { success: true as const, messageId, content, editedAt: iso(now) };
  });
}

/**
 * Deletes a message for the account only (`self`) or unsends it for everyone (`all`): kept, with its history,
 * and marked deleted. Where the rules say so, the platform deletes it first (X, for `self`).
 */
export async function deleteMessage(
  ctx: AppContext,
  teamId: string,
  threadId: string,
  messageId: string,
  scope: 'self' | 'all',
  rules: MessageRules,
): Promise<{ success: true; messageId: string; deletedAt: string }> {
  const change = { kind: 'delete', scope } as const;
  if (rules.onPlatform && scope === 'self') {
    // Judged before the platform is asked, so it never deletes what would be refused here.
    await deleteOnPlatform(ctx, await changeableMessage(ctx.db, teamId, threadId, messageId, change, rules, ctx.clock.now(), false));
  }
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    await changeableMessage(trx, teamId, threadId, messageId, change, rules, now, true);
    await trx.updateTable('messages').set({ deleted_at: now, deletion_type: scope, deletion_origin: 'api' }).where('id', '=', messageId).execute();
    await emitEvent(trx, teamId, 'message.deleted', { messageId, threadId, scope }, now);
    return { success: true as const, messageId, deletedAt: iso(now) };
  });
}

export interface MessageVersion {
  id: string;
  platformId: string | null;
  platform: PlatformName;
  content: string;
  authorId: string;
  userId: string | null;
  teamId: string;
  threadId: string;
  campaignId: string | null;
  campaignStepId: string | null;
  origin: MessageOrigin | null;
  editOrigin: MessageOrigin | null;
  replyData: Message['replyData'];
  forwardData: null;
  createdAt: string;
  isEncrypted: boolean | null;
  expandedData: null;
  entities: null;
  attachment: V1Attachment | null;
  reactions: Reaction[];
}

export interface MessageHistory {
  versions: MessageVersion[];
  deletion: {
    deletedAt: string;
    deletionType: 'self' | 'all';
    deletionAuthorPlatformId: string | null;
    origin: MessageOrigin | null;
  } | null;
}

/** Every text the message has had, oldest first, and how it was deleted. */
export async function messageHistory(ctx: AppContext, teamId: string, threadId: string, messageId: string): Promise<MessageHistory> {
  const thread = await getThreadRow(ctx.db, teamId, threadId);
  const message = await messageRow(ctx.db, thread.id, messageId);
  const edits = await ctx.db
    .selectFrom('message_versions')
    .selectAll()
    .where('message_id', '=', messageId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const base = presentMessage(message);
  const texts = [...edits.map((e) => e.content), message.content];
  const versions = texts.map((content, i): MessageVersion => {
    const edit = i === 0 ? undefined : edits[i - 1]!;
    return {
      id: base.id,
      platformId: base.platformId,
      platform: base.platform,
      content,
      authorId: base.authorId,
      userId: base.userId,
      teamId: base.teamId,
      threadId: base.threadId,
      campaignId: base.campaignId,
      campaignStepId: message.campaign_step_id,
      origin: base.origin,
      editOrigin: edit?.edit_origin ?? null,
      replyData: base.replyData,
      forwardData: null,
      createdAt: edit ? iso(edit.created_at) : base.createdAt,
      isEncrypted: base.isEncrypted,
      expandedData: null,
      entities: null,
      // Edits change the text only.
      attachment: base.attachment,
      reactions: i === texts.length - 1 ? base.reactions : [],
    };
  });
  let deletion: MessageHistory['deletion'] = null;
  if (message.deleted_at) {
    // Deletions made through Inbox are made by our account; deletions synced from X name no author.
    const account = await getAccountLinkRow(ctx.db, teamId, thread.account_link_id);
    deletion = {
      deletedAt: iso(message.deleted_at),
      deletionType: message.deletion_type ?? 'all',
      deletionAuthorPlatformId: message.deletion_origin === 'external' ? null : account.platform_id,
      origin: message.deletion_origin,
    };
  }
  return { versions, deletion };
}

/** Adds or removes our account's reaction; the reactions after it, with how many times they changed. */
export async function setReaction(
  ctx: AppContext,
  teamId: string,
  threadId: string,
  messageId: string,
  emoji: string,
  present: boolean,
  rules: MessageRules,
): Promise<{ messageId: string; reactions: Reaction[]; version: number }> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const { message, account } = await changeableMessage(trx, teamId, threadId, messageId, { kind: 'react' }, rules, now, true);
    const ours = (r: Reaction) => r.emoji === emoji && r.senderPlatformId === account.platform_id;
    const existing = message.reactions.find(ours);
    if (present === Boolean(existing)) return { messageId, reactions: message.reactions, version: message.reactions_version };
    const reaction = existing ?? { emoji, senderPlatformId: account.platform_id, createdAt: iso(now) };
    const reactions = present ? [...message.reactions, reaction] : message.reactions.filter((r) => !ours(r));
    const version = message.reactions_version + 1;
    await trx.updateTable('messages').set({ reactions: JSON.stringify(reactions), reactions_version: version }).where('id', '=', messageId).execute();
    await emitEvent(trx, teamId, present ? 'message.reactionAdded' : 'message.reactionRemoved', { messageId, threadId, reaction }, now);
    return { messageId, reactions, version };
  });
}
