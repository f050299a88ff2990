import { createHash } from 'node:crypto';
import { AppError, validationError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { DAY_MS } from '../../core/pacing.js';
import { plainMedia, type MediaAttachment, type MediaKind } from '../../core/attachments.js';
import { accountCapabilities, describePlatform, mediaRefusal, threadRestrictions, type Capability } from '../../core/platform-capabilities.js';
import { accountOf, platformOf, PlatformError, type PlatformProfile } from '../../platforms/platform.js';
import type { Db } from '../../store/db.js';
import type { AccountLinkRow, MessageRow, ThreadRow } from '../../store/schema.js';
import type { SendIntentRow, SendKeyRow } from '../../store/schema-engine.js';
import { endLease, leaseFrom, markSent, release, reserve, take } from '../../store/send-intents.js';
import { getAccountLinkRow } from '../accounts/account-links.js';
import { getContact } from '../prospects/contacts.js';
import type { Actor, AppContext } from '../context.js';
import { openThread, recordMessage, type NewMessageInput, type Target } from './message-recording.js';
import { apiMessage, deliver, platformRefusal } from './messages.js';
import { getProspectRow } from '../prospects/prospects.js';
import { getThreadRow, lockThread } from './threads.js';

/**
 * One send to a thread, to a contact (from an account link) or to a platform user (API v2's POST /messages), at
 * most once per Idempotency-Key. A keyed send goes through the send-intent protocol (store/send-intents.ts, the
 * state machine and its invariants), its key kept in send_keys (migration 0024, scoped per team):
 *
 * 1. A request whose key the team has used is answered from it: with another body, IDEMPOTENCY_KEY_REUSED; sent,
 *    the original message (a replay); pending under a running lease, SEND_IN_PROGRESS, or SEND_UNCONFIRMED once
 *    the request that made the platform call ended without its answer; pending past its lease (that request
 *    crashed, or could not tell), it is reconciled now with the platform's delivered-message lookup: found, it
 *    is recorded and replayed; not found, it is released and sent anew; the lookup failing, SEND_UNCONFIRMED.
 * 2. Otherwise the send is resolved and checked (nothing reserved for a send that would be refused), then its
 *    intent and key are reserved in one transaction: of two requests with one key, the one whose insert loses
 *    answers from the winner's key (1).
 * 3. The platform call, outside any transaction. Refused by the platform (the recipient, a rate limit, the account
 *    signed out), nothing went out: the intent is released, the key with it, and the refusal goes back (a retry is
 *    a new attempt). Without the platform's answer (a transient failure, a timeout, anything else), the send stays
 *    pending and unconfirmed, to be reconciled after its lease (1).
 * 4. The record: the message (under the id the key named), the intent sent, in one transaction.
 * Without a key a send is v1's: resolved, checked, sent, recorded; a retry may send twice.
 */

export type SendTarget =
  | { type: 'thread'; threadId: string }
  | { type: 'contact'; accountLinkId: string; contactId: string }
  | { type: 'profile'; accountLinkId: string; platform: string; platformId: string };

/** A medium sent with the text, by the URL of its bytes. */
export interface SendMedia {
  kind: MediaKind;
  url: string;
  contentType?: string;
  filename?: string;
}

export interface SendInput {
  target: SendTarget;
  content: string;
  replyToMessageId?: string;
  attachments?: SendMedia[];
}

/** The most media one send request may name (a platform's `limits.mediaCount` is judged after). */
export const MAX_SEND_ATTACHMENTS = 10;

export interface SendOutcome {
  messageId: string;
  /** answered from its key: the original send's message */
  replayed: boolean;
}

/** Keys are kept this long after their send settled; a pending one stays until it is reconciled. */
export const SEND_KEY_RETENTION_MS = DAY_MS;

/** A send worked out: from which account, to whom, and the live thread it lands in if there is one. */
interface ResolvedSend {
  target: Target;
  thread: ThreadRow | null;
}

/** Whom a keyed send goes to, as its key keeps it (send_keys.recipient). */
type KeptRecipient = { prospectId: string; threadId: string | null } | { profile: PlatformProfile };

const recipientUnavailable = (reason: string, message: string) => new AppError(422, 'RECIPIENT_UNREACHABLE', message, { reason });
const notSupported = (capability: Capability, platform: string) =>
  new AppError(422, 'CAPABILITY_NOT_SUPPORTED', `Accounts on ${platform} cannot do ${capability}`, { capability });
const inProgress = (key: SendKeyRow) =>
  new AppError(409, 'SEND_IN_PROGRESS', 'A send with this Idempotency-Key is still in progress; retry later', { messageId: key.message_id });
const unconfirmed = (key: SendKeyRow) =>
  new AppError(502, 'SEND_UNCONFIRMED', 'The platform may or may not have delivered the send with this Idempotency-Key; retry with the same key later', {
    messageId: key.message_id,
  });

/** The live thread between an account link and a contact, if there is one. */
const liveThread = (db: Db, accountLinkId: string, prospectId: string) =>
  db
    .selectFrom('threads')
    .selectAll()
    .where('account_link_id', '=', accountLinkId)
    .where('prospect_id', '=', prospectId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst()
    .then((row) => row ?? null);

async function resolveProfileTarget(ctx: AppContext, teamId: string, account: AccountLinkRow, platform: string, platformId: string): Promise<ResolvedSend> {
  if (!describePlatform(platform)) throw new AppError(403, 'PLATFORM_NOT_AVAILABLE', `The ${platform} platform is not available to this team`, { platform });
  if (platform !== account.platform) {
    throw new AppError(422, 'PLATFORM_MISMATCH', `Account link '${account.id}' is on ${account.platform}, not ${platform}`, { platform, supported: [account.platform] });
  }
  const known = await ctx.db
    .selectFrom('profiles')
    .select('contact_id')
    .where('team_id', '=', teamId)
    .where('platform', '=', account.platform)
    .where('platform_id', '=', platformId)
    .executeTakeFirst();
  if (known) {
    const prospect = await getProspectRow(ctx.db, teamId, known.contact_id);
    return { target: { account, prospect, recipientPlatformId: platformId }, thread: await liveThread(ctx.db, account.id, prospect.id) };
  }
  let profile: PlatformProfile | null;
  try {
    profile = await platformOf(ctx, account.platform).profileById(platformId, accountOf(account));
  } catch (error) {
    throw error instanceof PlatformError ? await platformRefusal(ctx, account, error) : error;
  }
  if (!profile) throw recipientUnavailable('notFound', `No ${account.platform} user with platform ID '${platformId}'`);
  return { target: { account, profile, recipientPlatformId: platformId }, thread: null };
}

/** Reads only: the account, the recipient and the thread of a send. */
async function resolveSend(ctx: AppContext, teamId: string, target: SendTarget): Promise<ResolvedSend> {
  if (target.type === 'thread') {
    const thread = await getThreadRow(ctx.db, teamId, target.threadId);
    const [account, prospect] = await Promise.all([getAccountLinkRow(ctx.db, teamId, thread.account_link_id), getProspectRow(ctx.db, teamId, thread.prospect_id)]);
    return { target: { account, prospect, recipientPlatformId: prospect.platform_id }, thread };
  }
  const account = await getAccountLinkRow(ctx.db, teamId, target.accountLinkId);
  if (target.type === 'profile') return resolveProfileTarget(ctx, teamId, account, target.platform, target.platformId);
  const contact = await getContact(ctx.db, teamId, target.contactId);
  const profiles = contact.profiles.filter((p) => p.platform === account.platform);
  if (profiles.length === 0) throw recipientUnavailable('noProfile', `Contact '${contact.row.id}' has no ${account.platform} profile`);
  if (profiles.length > 1) {
    throw new AppError(422, 'PROFILE_AMBIGUOUS', `Contact '${contact.row.id}' has several ${account.platform} profiles`, { contactId: contact.row.id, platform: account.platform });
  }
  return { target: { account, prospect: contact.row, recipientPlatformId: profiles[0]!.platform_id }, thread: await liveThread(ctx.db, account.id, contact.row.id) };
}

/** What refuses a send before anything is reserved: the account, its platform's capabilities and limits, the recipient, the reply. */
async function checkSendable(ctx: AppContext, { target, thread }: ResolvedSend, input: SendInput): Promise<void> {
  const { account } = target;
  // This server has an adapter for the account's platform (else 503 PLATFORM_UNAVAILABLE).
  platformOf(ctx, account.platform);
  if (account.status !== 'active') {
    throw new AppError(409, 'ACCOUNT_LINK_NOT_ACTIVE', `Account link '${account.id}' is ${account.status}`, { accountLinkId: account.id, status: account.status });
  }
  const platform = describePlatform(account.platform)!;
  const capabilities = accountCapabilities(account.platform);
  if (!capabilities.includes('message:send')) throw notSupported('message:send', account.platform);
  if (input.replyToMessageId !== undefined && !capabilities.includes('message:reply')) throw notSupported('message:reply', account.platform);
  const refusal = mediaRefusal(account.platform, (input.attachments ?? []).map((media) => media.kind));
  if (refusal?.code === 'capabilityNotSupported') throw notSupported(refusal.capability, account.platform);
  if (refusal) throw new AppError(422, 'CONTENT_REJECTED', `The attachments are refused: ${refusal.detail}`, { detail: refusal.detail });
  const characters = [...input.content].length;
  if (platform.limits.characters !== null && characters > platform.limits.characters) {
    const detail = `${characters} characters, over ${platform.name}'s ${platform.limits.characters}`;
    throw new AppError(422, 'CONTENT_REJECTED', `The content is too long: ${detail}`, { detail });
  }
  const recipient = target.prospect ? { accountStatus: target.prospect.account_status, dmsOpen: target.prospect.dms_open } : target.profile;
  if (threadRestrictions(recipient).includes('message:send')) {
    if (thread) throw new AppError(422, 'THREAD_RESTRICTED', 'The platform does not let this conversation receive messages', { capability: 'message:send' });
    const reason = recipient.accountStatus === 'active' ? 'dmsClosed' : recipient.accountStatus;
    throw recipientUnavailable(reason, `The recipient cannot receive messages (${reason})`);
  }
  if (input.replyToMessageId !== undefined) {
    const replied = thread && (await ctx.db.selectFrom('messages').select('id').where('thread_id', '=', thread.id).where('id', '=', input.replyToMessageId).executeTakeFirst());
    if (!replied) {
      const message = 'is not a message of the thread this send lands in';
      throw validationError(`Invalid send: replyToMessageId: ${message}`, [{ field: 'body.replyToMessageId', message }]);
    }
  }
}

/** The media of a send as its message stores them. */
const sentMedia = (input: Pick<SendInput, 'attachments'>): MediaAttachment[] =>
  (input.attachments ?? []).map((media) => {
    const stored = plainMedia(media.kind, media.url, media.contentType ?? null);
    return media.filename === undefined ? stored : { ...stored, filename: media.filename };
  });

/** A failed delivery's error, naming the account when it is the account that failed. */
function deliveryFailure(error: AppError, account: AccountLinkRow): AppError {
  if (error.code !== 'ACCOUNT_LINK_NOT_ACTIVE' && error.code !== 'ACCOUNT_LINK_OFFLINE') return error;
  const status = error.code === 'ACCOUNT_LINK_OFFLINE' ? 'offline' : account.status;
  return new AppError(error.status, error.code, error.message, { accountLinkId: account.id, status });
}

/** Records a sent message in its thread (the one asked for, else the target's, created if new), all in `trx`. */
async function recordSent(trx: Db, target: Target, threadId: string | null, input: NewMessageInput, now: Date): Promise<string> {
  const thread = await lockThread(trx, threadId ?? (await openThread(trx, target, now)).id);
  return (await recordMessage(trx, thread, input, now)).id;
}

/** A send without a key: v1's, through the same checks as a keyed one. */
async function sendUnkeyed(ctx: AppContext, actor: Actor, resolved: ResolvedSend, input: SendInput): Promise<SendOutcome> {
  const { account, recipientPlatformId } = resolved.target;
  let platformMessageId: string;
  try {
    platformMessageId = (await deliver(ctx, account, recipientPlatformId, input.content)).platformMessageId;
  } catch (error) {
    if (error instanceof AppError) throw deliveryFailure(error, account);
    ctx.logger.error({ err: error, accountLinkId: account.id }, 'a send without an Idempotency-Key ended without the platform’s answer');
    throw new AppError(502, 'SEND_OUTCOME_UNKNOWN', 'The platform did not answer: the message may or may not have been sent (send with an Idempotency-Key to retry safely)');
  }
  const now = ctx.clock.now();
  const messageId = await ctx.db.transaction().execute((trx) =>
    recordSent(
      trx,
      resolved.target,
      resolved.thread?.id ?? null,
      { ...apiMessage(actor.userId, account, platformMessageId, input.content, now), replyToMessageId: input.replyToMessageId, attachments: sentMedia(input) },
      now,
    ),
  );
  return { messageId, replayed: false };
}

/** The request's hash: its canonical JSON (keys sorted), so that key order and spacing do not make another body. */
function requestHash(input: SendInput): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(input))).digest('hex');
}

type KeyedSend = { key: SendKeyRow; intent: SendIntentRow };

async function keyedSend(db: Db, teamId: string, key: string): Promise<KeyedSend | null> {
  const keyRow = await db.selectFrom('send_keys').selectAll().where('team_id', '=', teamId).where('key', '=', key).executeTakeFirst();
  const intent = keyRow && (await db.selectFrom('send_intents').selectAll().where('id', '=', keyRow.intent_id).executeTakeFirst());
  return intent ? { key: keyRow, intent } : null;
}

class KeyTaken extends Error {}

/** Step 2's reservation: the intent and its key, or null when another request took the key first. */
async function reserveKeyed(ctx: AppContext, actor: Actor, key: string, hash: string, resolved: ResolvedSend, input: SendInput): Promise<KeyedSend | null> {
  const now = ctx.clock.now();
  const { target } = resolved;
  const intent: SendIntentRow = {
    id: newId(),
    lead_id: null,
    step_id: null,
    sequence_version: null,
    account_link_id: target.account.id,
    campaign_id: null,
    kind: 'message',
    content: input.content,
    status: 'pending',
    platform_message_id: null,
    created_at: now,
    completed_at: null,
    claimed_until: leaseFrom(now),
    variation_picks: null,
  };
  const recipient: KeptRecipient = target.prospect ? { prospectId: target.prospect.id, threadId: resolved.thread?.id ?? null } : { profile: target.profile };
  const keyRow: SendKeyRow = {
    team_id: actor.teamId,
    key,
    request_hash: hash,
    intent_id: intent.id,
    message_id: newId(),
    user_id: actor.userId,
    recipient_platform_id: target.recipientPlatformId,
    recipient,
    reply_to_message_id: input.replyToMessageId ?? null,
    attachments: sentMedia(input),
    outcome_unknown: false,
    created_at: now,
  };
  try {
    await ctx.db.transaction().execute(async (trx) => {
      await reserve(trx, [intent]);
      const inserted = await trx
        .insertInto('send_keys')
        .values({ ...keyRow, recipient: JSON.stringify(recipient), attachments: JSON.stringify(keyRow.attachments) })
        .onConflict((oc) => oc.columns(['team_id', 'key']).doNothing())
        .returning('key')
        .executeTakeFirst();
      if (!inserted) throw new KeyTaken();
    });
  } catch (error) {
    if (error instanceof KeyTaken) return null;
    throw error;
  }
  return { key: keyRow, intent };
}

/**
 * Step 4 (and a reconciliation's record): the message under the key's id and the intent sent. A retry that
 * reconciled the send first (this call outlived its lease) recorded it already: its record stands.
 */
async function recordKeyed(ctx: AppContext, { key, intent }: KeyedSend, platformMessageId: string, sentAt: Date): Promise<string> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('send_intents').select('status').where('id', '=', intent.id).forUpdate().executeTakeFirst();
    if (current?.status === 'sent') {
      return (await trx.selectFrom('send_keys').select('message_id').where('intent_id', '=', intent.id).executeTakeFirstOrThrow()).message_id;
    }
    const account = await getAccountLinkRow(trx, key.team_id, intent.account_link_id);
    const kept = key.recipient as KeptRecipient;
    const target: Target =
      'profile' in kept
        ? { account, profile: kept.profile, recipientPlatformId: key.recipient_platform_id }
        : { account, prospect: await getProspectRow(trx, key.team_id, kept.prospectId), recipientPlatformId: key.recipient_platform_id };
    const threadId = 'profile' in kept ? null : kept.threadId;
    const input = {
      ...apiMessage(key.user_id, account, platformMessageId, intent.content!, sentAt),
      id: key.message_id,
      replyToMessageId: key.reply_to_message_id,
      attachments: key.attachments,
    };
    const messageId = await recordSent(trx, target, threadId, input, now);
    // An intent released meanwhile (a reconciliation that did not find the DM yet) has no row to settle.
    if (current) await markSent(trx, [{ intent, platformMessageId }]);
    // The thread had the DM already (read from the platform first): the stored message stands for it.
    if (messageId !== key.message_id) await trx.updateTable('send_keys').set({ message_id: messageId }).where('intent_id', '=', intent.id).execute();
    return messageId;
  });
}

/** The send's platform call ended without its answer, or its record failed: it waits, unconfirmed, for its reconciliation. */
async function leaveUnconfirmed(ctx: AppContext, { key, intent }: KeyedSend, error: unknown, what: string): Promise<never> {
  ctx.logger.error({ err: error, intentId: intent.id }, `${what}: the send is reconciled once its lease runs out`);
  await ctx.db.updateTable('send_keys').set({ outcome_unknown: true }).where('intent_id', '=', intent.id).execute();
  throw unconfirmed(key);
}

/** Steps 3 and 4 for a reserved send. */
async function sendReserved(ctx: AppContext, reserved: KeyedSend, resolved: ResolvedSend): Promise<SendOutcome> {
  const { account, recipientPlatformId } = resolved.target;
  const platform = platformOf(ctx, account.platform);
  let platformMessageId: string;
  try {
    platformMessageId = (await platform.sendDm(accountOf(account), recipientPlatformId, reserved.intent.content!)).platformMessageId;
  } catch (error) {
    // Only the platform's own refusal says that nothing went out: a transient failure (no answer in time, a
    // dropped connection, a 5xx) may come after the platform took the DM, like any other failure here.
    if (!(error instanceof PlatformError) || error.kind === 'transient') return leaveUnconfirmed(ctx, reserved, error, 'a keyed send ended without the platform’s answer');
    await release(ctx.db, reserved.intent);
    throw deliveryFailure(await platformRefusal(ctx, account, error), account);
  }
  try {
    return { messageId: await recordKeyed(ctx, reserved, platformMessageId, ctx.clock.now()), replayed: false };
  } catch (error) {
    return leaveUnconfirmed(ctx, reserved, error, 'a keyed send went out but could not be recorded');
  }
}

/**
 * Step 1's reconciliation of a send whose lease ran out, once this request has taken it: the outcome, or null when
 * the platform never got the send (released, with its key: the caller sends it anew).
 */
async function reconcile(ctx: AppContext, keyed: KeyedSend): Promise<SendOutcome | null> {
  const { key, intent } = keyed;
  let delivered: string | null;
  try {
    const account = await getAccountLinkRow(ctx.db, key.team_id, intent.account_link_id);
    delivered = await platformOf(ctx, account.platform).findDelivered(accountOf(account), key.recipient_platform_id, intent.content!, intent.created_at);
  } catch (error) {
    ctx.logger.warn({ err: error, intentId: intent.id }, 'could not look up an unconfirmed send on its platform');
    await endLease(ctx.db, intent.id, ctx.clock.now());
    throw unconfirmed(key);
  }
  if (delivered === null) {
    await release(ctx.db, intent);
    return null;
  }
  try {
    return { messageId: await recordKeyed(ctx, keyed, delivered, intent.created_at), replayed: true };
  } catch (error) {
    ctx.logger.error({ err: error, intentId: intent.id }, 'a reconciled send could not be recorded');
    await endLease(ctx.db, intent.id, ctx.clock.now());
    throw unconfirmed(key);
  }
}

/**
 * Step 1: a request whose key the team has used, answered from it; `send` when the send is to be made (anew),
 * `again` when another request moved it meanwhile (to be read again).
 */
async function answerFromKey(ctx: AppContext, keyed: KeyedSend, hash: string): Promise<SendOutcome | 'send' | 'again'> {
  const { key, intent } = keyed;
  if (key.request_hash !== hash) throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request body');
  // Sent: a replay. (An API send's intent is never failed: a refused send is released, and its key with it.)
  if (intent.status !== 'pending') return { messageId: key.message_id, replayed: true };
  const now = ctx.clock.now();
  if (intent.claimed_until > now) throw key.outcome_unknown ? unconfirmed(key) : inProgress(key);
  // Of the retries that find the lease run out, only the one that takes it reconciles; for the others it is
  // unconfirmed from that moment on.
  const taken = await ctx.db.transaction().execute(async (trx) => {
    if (!(await take(trx, intent.id, now))) return false;
    await trx.updateTable('send_keys').set({ outcome_unknown: true }).where('intent_id', '=', intent.id).execute();
    return true;
  });
  if (!taken) return 'again';
  return (await reconcile(ctx, keyed)) ?? 'send';
}

/** API v2's send: at most once per `idempotencyKey` (the team's), as the steps at the head of this module say. */
export async function sendOnce(ctx: AppContext, actor: Actor, input: SendInput, idempotencyKey?: string): Promise<SendOutcome> {
  if (idempotencyKey === undefined) {
    const resolved = await resolveSend(ctx, actor.teamId, input.target);
    await checkSendable(ctx, resolved, input);
    return sendUnkeyed(ctx, actor, resolved, input);
  }
  const hash = requestHash(input);
  // Each turn answers, or goes round after another request's move (its reservation won, it took the send to
  // reconcile, or it settled it), or this one's (it released a send the platform never got): the next turn reads
  // what that move left.
  for (;;) {
    const existing = await keyedSend(ctx.db, actor.teamId, idempotencyKey);
    const answer = existing ? await answerFromKey(ctx, existing, hash) : 'send';
    if (answer === 'again') continue;
    if (answer !== 'send') return answer;
    const resolved = await resolveSend(ctx, actor.teamId, input.target);
    await checkSendable(ctx, resolved, input);
    const reserved = await reserveKeyed(ctx, actor, idempotencyKey, hash, resolved, input);
    if (reserved) return sendReserved(ctx, reserved, resolved);
  }
}

/** A sent message and the thread it landed in, as they are now (a deleted thread included: the send happened). */
export async function sentMessage(db: Db, teamId: string, messageId: string): Promise<{ message: MessageRow; thread: ThreadRow }> {
  const message = await db.selectFrom('messages').selectAll().where('team_id', '=', teamId).where('id', '=', messageId).executeTakeFirstOrThrow();
  const thread = await db.selectFrom('threads').selectAll().where('id', '=', message.thread_id).executeTakeFirstOrThrow();
  return { message, thread };
}

/** Drops the keys (and their intents) of sends settled more than SEND_KEY_RETENTION_MS ago: a retry with one sends anew. */
export async function pruneSendKeys(db: Db, now: Date): Promise<number> {
  const before = new Date(now.getTime() - SEND_KEY_RETENTION_MS);
  const result = await db
    .deleteFrom('send_intents')
    .where('id', 'in', (eb) => eb.selectFrom('send_keys').select('intent_id').where('created_at', '<', before))
    .where('status', '<>', 'pending')
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
