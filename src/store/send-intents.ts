import { sql } from 'kysely';
import type { AccountState } from '../core/send-plan.js';
import { insertRows, updateRows } from './bulk.js';
import { isAnyOf, type Db } from './db.js';
import type { CampaignIntentRow, SendIntentRow } from './schema-engine.js';

/**
 * The send-intent protocol: how a send never goes out twice, whatever crashes, across any number of workers and
 * servers. A send intent is one row per send: a message or a like of a campaign lead's step (the engine's), or a
 * message the API was asked to send under an Idempotency-Key (app/sends.ts, with its key in send_keys):
 *
 *   (none) --reserve--> pending --markSent--> sent           the platform took it (or had it already)
 *                          |    --markFailed--> failed       the recipient refused it
 *                          |    --release--> (deleted)       not attempted, or the account or platform failed
 *                          +--renew / take--> pending        past its lease: leased again, to be reconciled:
 *                                                            found on the platform, sent; not found, released
 *
 * Invariants:
 * 1. An intent is committed (reserve) before its platform call. A campaign's is unique per lead, step and
 *    sequence version; an API send's per team and idempotency key (its send_keys row).
 * 2. A pending intent is the lease on what it sends: until it is settled, no batch takes its lead (`untaken`), and
 *    no request with its key sends (the request answers that the send is in progress, or unconfirmed).
 * 3. A pending intent whose lease ran out (a crash between the reservation and the record, or a platform call
 *    that ended without an answer) is leased again and reconciled with the platform's delivered-message lookup
 *    (Platform.findDelivered) before anything else is sent for it: a campaign's by the engine (`findUnsettled`,
 *    `renew`, under its account's lock), before any other send to its lead; an API send's by the next request with
 *    its key (`take`). One the platform never got is released: the resend is a new intent, reserved when it goes
 *    out (so a lead's pace, caps and next delay count from the real send, not the old slot).
 * 4. Every pending, sent or failed campaign intent is a send in its account's log (`sendLogsOf`): the pace and the
 *    account's limits count it, so a refused send keeps its slot. A released intent is deleted and frees it. An API
 *    send is no campaign's and no slot in that log (account limits are for campaigns, as v1's sends never counted).
 * 5. sent and failed are final.
 */

/** How long a reserved send stays its worker's; past it, another worker may take the lead (and reconcile). */
export const LEASE_MS = 5 * 60_000;

export const leaseFrom = (from: Date): Date => new Date(from.getTime() + LEASE_MS);

/** Campaign intents a crash left pending whose lease has run out: `select i.*` to be narrowed by the caller. */
export const unsettledIntents = (from: Date) =>
  sql`select i.* from send_intents i where i.status = 'pending' and i.claimed_until <= ${from} and i.campaign_id is not null`;

/** A lead (`l`) no worker has in hand: none of its sends is in flight or waiting to be reconciled. */
export const untaken = sql`not exists (select 1 from send_intents i where i.lead_id = l.id and i.status = 'pending')`;

/** When the leases of the pending campaign intents run out (a virtual-time run jumps there): `select claimed_until`. */
export const leaseEnds = sql`select claimed_until from send_intents where status = 'pending' and campaign_id is not null`;

/**
 * Ends the leases of all pending intents now, so that they are reconciled at once (by the engine, or by a keyed
 * API send's next retry). Only for a process that
 * knows no one else can be sending: one that holds an embedded data directory's lock, at its start (the pending
 * intents are a crashed predecessor's, and waiting out their leases would stall their leads). Returns how many.
 */
export async function endLeases(db: Db, now: Date): Promise<number> {
  const result = await db.updateTable('send_intents').set({ claimed_until: now }).where('status', '=', 'pending').where('claimed_until', '>', now).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The unsettled campaign intents of these accounts, oldest first. */
export async function findUnsettled(trx: Db, accountIds: readonly string[], from: Date): Promise<CampaignIntentRow[]> {
  const { rows } = await sql<CampaignIntentRow>`${unsettledIntents(from)} and i.account_link_id in (${sql.join(accountIds)}) order by i.created_at, i.id`.execute(trx);
  return rows;
}

/** Reserves sends: their intents, pending and leased, each also its slot in the account's send log. */
export async function reserve(trx: Db, intents: readonly SendIntentRow[]): Promise<void> {
  await insertRows(
    trx,
    'send_intents',
    intents.map((intent) => ({ ...intent, variation_picks: intent.variation_picks && JSON.stringify(intent.variation_picks) })),
  );
}

/** Leases unsettled intents again, for the batch that reconciles them (their accounts are locked). */
export async function renew(trx: Db, intents: readonly SendIntentRow[], until: Date): Promise<void> {
  if (intents.length > 0) await trx.updateTable('send_intents').set({ claimed_until: until }).where(isAnyOf('id', intents.map((i) => i.id))).execute();
}

/**
 * Leases one intent again if it is still pending and its lease has run out at `now`, for a caller that holds no
 * lock on its account (an API retry): true when this caller won it, and is to reconcile it.
 */
export async function take(db: Db, intentId: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('send_intents')
    .set({ claimed_until: leaseFrom(now) })
    .where('id', '=', intentId)
    .where('status', '=', 'pending')
    .where('claimed_until', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Ends one pending intent's lease now: its reconciler could not conclude, and the next one may try at once. */
export async function endLease(db: Db, intentId: string, now: Date): Promise<void> {
  await db.updateTable('send_intents').set({ claimed_until: now }).where('id', '=', intentId).where('status', '=', 'pending').execute();
}

const SENT_COLUMNS = { id: 'text', status: 'text', platform_message_id: 'text', completed_at: 'timestamptz' };

/** The sends went out (each at its intent's instant), with the platform's message ids (none for a like). */
export async function markSent(trx: Db, sent: ReadonlyArray<{ intent: Pick<SendIntentRow, 'id' | 'created_at'>; platformMessageId: string | null }>): Promise<void> {
  await updateRows(
    trx,
    'send_intents',
    SENT_COLUMNS,
    sent.map(({ intent, platformMessageId }) => ({ id: intent.id, status: 'sent', platform_message_id: platformMessageId, completed_at: intent.created_at })),
  );
}

/** The recipient refused the send: settled, keeping its slot in the send log so the account's pace stands. */
export async function markFailed(trx: Db, intent: SendIntentRow): Promise<void> {
  await trx.updateTable('send_intents').set({ status: 'failed', completed_at: intent.created_at }).where('id', '=', intent.id).execute();
}

/** The send did not go out and did not count: the intent goes, and its slot with it. */
export async function release(trx: Db, intent: Pick<SendIntentRow, 'id'>): Promise<void> {
  await trx.deleteFrom('send_intents').where('id', '=', intent.id).execute();
}

/**
 * The accounts' campaign sends since `since`, oldest first (invariant 4). Aggregated per account, since as tens of
 * thousands of rows (a day of 100 busy accounts) they cost PGlite twice as much (bench:engine).
 */
export async function sendLogsOf(trx: Db, accountIds: readonly string[], since: Date): Promise<Map<string, AccountState['sends']>> {
  const { rows } = await sql<{ account_link_id: string; campaign_ids: string[]; sent_at_ms: Array<number | string> }>`
    select account_link_id, array_agg(campaign_id order by created_at) as campaign_ids,
           array_agg((extract(epoch from created_at) * 1000)::int8 order by created_at) as sent_at_ms
    from send_intents
    where account_link_id in (${sql.join(accountIds)}) and created_at > ${since} and campaign_id is not null
    group by account_link_id`.execute(trx);
  return new Map(rows.map((r) => [r.account_link_id, r.campaign_ids.map((campaignId, i) => ({ campaignId, at: new Date(Number(r.sent_at_ms[i])) }))]));
}

/** Which of these leads have had a message sent (a lead's first message is no follow-up). */
export async function messagedLeads(trx: Db, leadIds: readonly string[]): Promise<Set<string>> {
  if (leadIds.length === 0) return new Set();
  const rows = await trx
    .selectFrom('send_intents')
    .select('lead_id')
    .where(isAnyOf('lead_id', leadIds))
    .where('kind', '=', 'message')
    .where('status', '=', 'sent')
    .execute();
  return new Set(rows.map((r) => r.lead_id!));
}
