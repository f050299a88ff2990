import { AppError, notFound } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { iso, isoOrNull } from '../core/time.js';
import { accountOf, platformOf, PlatformError, type SentDm } from '../platforms/platform.js';
import type { Db } from '../store/db.js';
import type { AccountLinkRow, MessageOrigin, MessageRow, Platform as PlatformName, Reaction, ThreadRow } from '../store/schema.js';
import { getAccountLinkRow } from './account-links.js';
import { markAccountOffline } from '../store/account-links.js';
import type { Actor, AppContext } from './context.js';
import { emitEvent } from './events.js';
import { getProspectRow } from './prospects.js';
import { openThread, recordMessage, type NewMessageInput, type Target } from './message-recording.js';
import { presentMessage, type Message } from './presenters.js';
import { getThreadRow, lockThread, resolveTarget, type TargetInput } from './threads.js';

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

/** Sends a DM from an account link (before anything is stored, so a failure leaves nothing behind). */
async function deliver(ctx: AppContext, account: AccountLinkRow, recipientPlatformId: string, content: string): Promise<SentDm> {
  if (account.status !== 'active') {
    throw new AppError(409, 'ACCOUNT_LINK_NOT_ACTIVE', `Account link '${account.id}' is ${account.status}`);
  }
  try {
    return await platformOf(ctx, account.platform).sendDm(accountOf(account), recipientPlatformId, content);
  } catch (error) {
    if (!(error instanceof PlatformError)) throw error;
    if (error.kind === 'auth_revoked') await markAccountOffline(ctx.db, account.id, ctx.clock.now());
    throw platformFailure(error);
  }
}

const apiMessage = (actor: Actor, account: AccountLinkRow, sent: SentDm, content: string, createdAt: Date): NewMessageInput => ({
  platformId: sent.platformMessageId,
  outbound: true,
  authorId: account.id,
  userId: actor.userId,
  content,
  origin: 'api',
  createdAt,
});

async function messageRow(db: Db, threadId: string, messageId: string, forUpdate = false): Promise<MessageRow> {
  let query = db.selectFrom('messages').selectAll().where('thread_id', '=', threadId).where('id', '=', messageId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw notFound('MESSAGE_NOT_FOUND', 'Message', messageId);
  return row;
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
    recordMessage(trx, await lockThread(trx, thread.id), { ...apiMessage(actor, account, sent, input.content, now), replyToMessageId: input.replyToMessageId }, now),
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
  const { message, thread } = await recordWithTarget(ctx, target, () => apiMessage(actor, target.account, sent, input.content, now));
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
  let select = ctx.db.selectFrom('messages').selectAll().where('thread_id', '=', thread.id);
  if (query.cursor) {
    const { timestamp, id } = query.cursor;
    select = select.where((eb) => eb(eb.refTuple('created_at', 'id'), order === 'desc' ? '<' : '>', eb.tuple(timestamp, id)));
  }
  const rows = await select.orderBy('created_at', order).orderBy('id', order).limit(query.limit + 1).execute();
  return { thread, rows };
}

/** A message of the team by its id, in a live thread (404 MESSAGE_NOT_FOUND otherwise), with that thread. */
export async function getMessageRow(ctx: AppContext, teamId: string, messageId: string): Promise<{ message: MessageRow; thread: ThreadRow }> {
  const message = await ctx.db.selectFrom('messages').selectAll().where('team_id', '=', teamId).where('id', '=', messageId).executeTakeFirst();
  const thread = message && (await ctx.db.selectFrom('threads').selectAll().where('id', '=', message.thread_id).where('deleted_at', 'is', null).executeTakeFirst());
  if (!message || !thread) throw notFound('MESSAGE_NOT_FOUND', 'Message', messageId);
  return { message, thread };
}

/** Edit, delete and reactions act on a message of a live thread; edit and delete need X Chat. */
async function changeableMessage(trx: Db, teamId: string, threadId: string, messageId: string, needsXChat: boolean) {
  const thread = await getThreadRow(trx, teamId, threadId, true);
  const message = await messageRow(trx, thread.id, messageId, true);
  if (needsXChat && thread.variant !== 'xChat') {
    throw new AppError(409, 'THREAD_NOT_XCHAT', 'Messages can be edited or deleted only in X Chat threads (both sides have sent a message)');
  }
  if (message.deleted_at) throw new AppError(409, 'MESSAGE_DELETED', `Message '${messageId}' has been deleted`);
  return { thread, message };
}

const notOwn = (messageId: string) =>
  new AppError(422, 'NOT_OWN_MESSAGE', `Message '${messageId}' was sent by the prospect; only our own messages can be changed for everyone`);

export async function editMessage(
  ctx: AppContext,
  teamId: string,
  threadId: string,
  messageId: string,
  content: string,
): Promise<{ success: true; messageId: string; content: string; editedAt: string }> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const { message } = await changeableMessage(trx, teamId, threadId, messageId, true);
    if (!message.outbound) throw notOwn(messageId);
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

export async function deleteMessage(
  ctx: AppContext,
  teamId: string,
  threadId: string,
  messageId: string,
  deleteForAll: boolean,
): Promise<{ success: true; messageId: string; deletedAt: string }> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const { message } = await changeableMessage(trx, teamId, threadId, messageId, true);
    if (deleteForAll && !message.outbound) throw notOwn(messageId);
    await trx
      .updateTable('messages')
      .set({ deleted_at: now, deletion_type: deleteForAll ? 'all' : 'self', deletion_origin: 'api' })
      .where('id', '=', messageId)
      .execute();
    await emitEvent(trx, teamId, 'message.deleted', { messageId, threadId }, now);
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
  attachment: null;
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
      attachment: null,
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

/** Adds or removes our account's reaction. Sandbox threads have no reactions (as on the vendor's API). */
export async function setReaction(
  ctx: AppContext,
  teamId: string,
  threadId: string,
  messageId: string,
  emoji: string,
  present: boolean,
): Promise<{ success: true; messageId: string }> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const { thread, message } = await changeableMessage(trx, teamId, threadId, messageId, false);
    if (thread.platform === 'sandbox') {
      throw new AppError(422, 'REACTIONS_NOT_SUPPORTED', 'Reactions are not supported on sandbox threads');
    }
    const account = await getAccountLinkRow(trx, teamId, thread.account_link_id);
    const ours = (r: Reaction) => r.emoji === emoji && r.senderPlatformId === account.platform_id;
    const existing = message.reactions.find(ours);
    if (present === Boolean(existing)) return { success: true as const, messageId };
    const reaction = existing ?? { emoji, senderPlatformId: account.platform_id, createdAt: iso(now) };
    const reactions = present ? [...message.reactions, reaction] : message.reactions.filter((r) => !ours(r));
    await trx.updateTable('messages').set({ reactions: JSON.stringify(reactions) }).where('id', '=', messageId).execute();
    await emitEvent(trx, teamId, present ? 'message.reactionAdded' : 'message.reactionRemoved', { messageId, threadId, reaction }, now);
    return { success: true as const, messageId };
  });
}

