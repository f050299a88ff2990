import { sql, type ExpressionBuilder, type Insertable } from 'kysely';
import { categoryOf } from '../../core/event-types.js';
import { groupBy } from '../../core/group.js';
import { newId } from '../../core/ids.js';
import { v2TypeOf } from '../../core/v2-events.js';
import { insertRows } from '../../store/bulk.js';
import type { Db } from '../../store/db.js';
import type { Database, WebhookDeliveriesTable } from '../../store/schema.js';
import { storedEventsAfter, type EventEnvelope } from './events.js';

/**
 * The fan-out: the event log is the truth, and a request only appends to it (app/events/events.ts); the webhook
 * dispatcher turns new events into one delivery per (webhook, event) here, outside any request. Each webhook
 * keeps the team's seq it has been fanned out to (`fanned_out_seq`, migration 0033), moved in the transaction
 * that writes its deliveries, under the webhook's row lock: so with any number of processes each event is queued
 * once per webhook, in seq order (webhook_deliveries' unique (webhook_id, event_seq) is the backstop). A webhook
 * starts at its team's seq when it is created or enabled again, so it never gets an event from before.
 *
 * Seqs are handed out under the team's counter row lock until commit (emitEvents), so every snapshot sees a
 * prefix of a team's events: the counter's committed value says how far the log is complete.
 *
 * A webhook's queue reaches at most QUEUE_AHEAD seqs past its oldest undelivered delivery: nothing behind a
 * pending head can go out before it (order is kept per endpoint), so a dead endpoint's queue stops growing and
 * costs nothing more, and the fan-out takes the rest from the log as the head is delivered or given up on.
 */

/** Webhooks claimed a pass, the ones furthest behind first. */
const WEBHOOKS_A_PASS = 200;
/** Deliveries a pass writes at most (and at least one event for each team it claimed): PGlite's statements stay short. */
const DELIVERIES_A_PASS = 1_000;
/** How far past its oldest undelivered delivery (in its team's seqs) a webhook's queue reaches at most. */
export const QUEUE_AHEAD = 100;

/** A webhook as the fan-out sees it, held locked by the transaction that fans out to it. */
interface Subscriber {
  id: string;
  team_id: string;
  event_types: string[];
  payload_version: '1' | '2';
  fanned_out_seq: number;
  /** the seq of its oldest pending delivery, if any */
  head_seq: number | null;
}

/**
 * The type an event is delivered as to this endpoint, or null when it does not want it: a v1 endpoint filters on
 * exact types, categories or "*"; a v2 one on v2's names or "*", and is sent nothing v2 has no name for.
 */
function deliveredAs(webhook: Subscriber): (e: EventEnvelope) => string | null {
  const wanted = new Set(webhook.event_types);
  if (webhook.payload_version === '2') {
    return (e) => {
      const type = v2TypeOf(e);
      return type !== null && (wanted.has('*') || wanted.has(type)) ? type : null;
    };
  }
  return (e) => (wanted.has('*') || wanted.has(e.type) || wanted.has(categoryOf(e.type)) ? e.type : null);
}

/** Where a webhook was left: its cursor, its head, and whether its queue is full (it waits for its head to go). */
interface FannedOut {
  webhook: Subscriber;
  full: boolean;
}

/**
 * Queues the deliveries of up to `eventLimit` of a team's events after the webhooks' cursors and at most
 * `teamSeq` (a committed value of the team's counter), each webhook's no further than QUEUE_AHEAD seqs from its
 * head (its oldest pending delivery, or the first one queued now), and moves their cursors past them. The
 * webhooks must be locked by `trx`: a webhook deleted meanwhile has either waited for this transaction (and takes
 * these deliveries with it) or was gone before the lock. Resolves with the deliveries written, whether the event
 * limit cut the read short of `teamSeq`, and where each webhook was left.
 */
async function fanOutTeam(
  trx: Db,
  teamId: string,
  webhooks: readonly Subscriber[],
  teamSeq: number,
  eventLimit: number,
  now: Date,
): Promise<{ written: number; cut: boolean; left: FannedOut[] }> {
  const from = Math.min(...webhooks.map((w) => w.fanned_out_seq));
  const read = (await storedEventsAfter(trx, teamId, from, { limit: eventLimit })).filter((e) => e.event.seq <= teamSeq);
  // Fewer than asked for: the log is read to teamSeq (events pruned past their retention are simply not there).
  const cut = read.length === eventLimit && read.at(-1)!.event.seq < teamSeq;
  const through = cut ? read.at(-1)!.event.seq : teamSeq;
  const deliveries: Array<Insertable<WebhookDeliveriesTable>> = [];
  const left = webhooks.map((webhook): FannedOut => {
    const typeOf = deliveredAs(webhook);
    let head = webhook.head_seq;
    const reach = () => (head === null ? Infinity : head + QUEUE_AHEAD - 1);
    for (const { groupId, event } of read) {
      if (event.seq <= webhook.fanned_out_seq) continue;
      if (event.seq > reach()) break;
      const type = typeOf(event);
      if (type === null) continue;
      deliveries.push({ id: newId(), webhook_id: webhook.id, team_id: teamId, group_id: groupId, event_id: event.id, event_seq: event.seq, event_type: type, next_attempt_at: now, created_at: now });
      head ??= event.seq;
    }
    const cursor = Math.max(webhook.fanned_out_seq, Math.min(reach(), through));
    return { webhook: { ...webhook, fanned_out_seq: cursor, head_seq: head }, full: cursor === reach() };
  });
  await insertRows(trx, 'webhook_deliveries', deliveries, 'on conflict (webhook_id, event_seq) do nothing');
  const moved = left.filter((l, i) => l.webhook.fanned_out_seq > webhooks[i]!.fanned_out_seq).map((l) => l.webhook);
  if (moved.length > 0) {
    await sql`
      update webhooks w set fanned_out_seq = greatest(w.fanned_out_seq, c.seq)
      from unnest(${moved.map((w) => w.id)}::text[], ${moved.map((w) => w.fanned_out_seq)}::bigint[]) as c(id, seq)
      where w.id = c.id`.execute(trx);
  }
  return { written: deliveries.length, cut, left };
}

/**
 * The oldest pending delivery's seq of the webhook `w` as `h.head_seq` (webhook_deliveries_pending finds it): a
 * lateral join, so that a claim computes it once for its select list and its WHERE. An aggregate: always one row.
 */
const pendingHead = (eb: ExpressionBuilder<Database & { w: Database['webhooks'] }, 'w'>) =>
  eb
    .selectFrom('webhook_deliveries as d')
    .select((d) => d.fn.min<number | null>('d.event_seq').as('head_seq'))
    .whereRef('d.webhook_id', '=', 'w.id')
    .where('d.status', '=', 'pending')
    .as('h');

const subscriberColumns = ['w.id', 'w.team_id', 'w.event_types', 'w.payload_version', 'w.fanned_out_seq', 'h.head_seq'] as const;

/**
 * One bounded pass of the fan-out over every team: claims the enabled webhooks behind their team's log and with
 * room in their queues (SKIP LOCKED: another process's pass takes the others) and queues their next deliveries. Resolves with how many it
 * wrote and whether work is left for another pass.
 */
export async function fanOutPass(db: Db, now: Date): Promise<{ written: number; more: boolean }> {
  return db.transaction().execute(async (trx) => {
    const behind = await trx
      .selectFrom('webhooks as w')
      .innerJoin('event_counters as c', 'c.team_id', 'w.team_id')
      .crossJoinLateral(pendingHead)
      .select([...subscriberColumns, 'c.last_seq as team_seq'])
      .where('w.enabled', '=', true)
      .whereRef('w.fanned_out_seq', '<', 'c.last_seq')
      // Room in its queue: no pending head, or one less than QUEUE_AHEAD seqs behind the cursor.
      .where(sql<boolean>`coalesce(w.fanned_out_seq < h.head_seq + ${QUEUE_AHEAD} - 1, true)`)
      .orderBy(sql`c.last_seq - w.fanned_out_seq`, 'desc')
      .limit(WEBHOOKS_A_PASS)
      .forNoKeyUpdate('w')
      .skipLocked()
      .execute();
    const teams = groupBy([...new Set(behind.map((w) => w.team_id))], behind, (w) => w.team_id);
    let written = 0;
    let more = behind.length === WEBHOOKS_A_PASS;
    for (const [teamId, webhooks] of teams) {
      const eventLimit = Math.max(1, Math.floor(DELIVERIES_A_PASS / teams.size / webhooks.length));
      const team = await fanOutTeam(trx, teamId, webhooks, webhooks[0]!.team_seq, eventLimit, now);
      written += team.written;
      more ||= team.cut;
    }
    return { written, more };
  });
}

/** Fans out until every enabled webhook has caught up with its team's log or filled its queue; resolves with the deliveries written. */
export async function fanOutAll(db: Db, now: Date): Promise<number> {
  let written = 0;
  for (let pass = { more: true, written: 0 }; pass.more; ) {
    pass = await fanOutPass(db, now);
    written += pass.written;
  }
  return written;
}

/**
 * Brings one webhook up to its team's log inside `trx` (as far as its queue reaches), before a change that would
 * otherwise decide for events already emitted (being disabled: they were emitted while it was enabled; new event
 * types: they were emitted under the old ones). Events past its queue's reach are left to the log: a webhook that
 * far behind has an endpoint that has not answered for a while. Locks the webhook until `trx` ends, waiting for a
 * pass that holds it. Nothing for a disabled webhook, whose cursor waits where it was disabled.
 */
export async function catchUpWebhook(trx: Db, teamId: string, webhookId: string, now: Date): Promise<void> {
  const webhook = await trx
    .selectFrom('webhooks as w')
    .leftJoin('event_counters as c', 'c.team_id', 'w.team_id')
    .crossJoinLateral(pendingHead)
    .select([...subscriberColumns, 'w.enabled', 'c.last_seq as team_seq'])
    .where('w.id', '=', webhookId)
    .where('w.team_id', '=', teamId)
    .forNoKeyUpdate('w')
    .executeTakeFirst();
  if (!webhook?.enabled || webhook.team_seq === null) return;
  for (let subscriber: Subscriber = webhook; subscriber.fanned_out_seq < webhook.team_seq; ) {
    const { cut, left } = await fanOutTeam(trx, webhook.team_id, [subscriber], webhook.team_seq, DELIVERIES_A_PASS, now);
    if (!cut || left[0]!.full) return;
    subscriber = left[0]!.webhook;
  }
}

/** The team's seq now: where a webhook created or enabled now starts. */
export const teamSeqNow = (teamId: string) => sql<number>`coalesce((select last_seq from event_counters where team_id = ${teamId}), 0)`;
