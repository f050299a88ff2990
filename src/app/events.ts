import { sql } from 'kysely';
import { categoryOf, type EventType } from '../core/event-types.js';
import { newId } from '../core/ids.js';
import { insertRows } from '../store/bulk.js';
import type { Db } from '../store/db.js';
import type { EventRow } from '../store/schema.js';

/** The webhook envelope, which is also what GET /events replays. */
export interface EventEnvelope {
  id: string;
  seq: number;
  teamId: string;
  type: EventType;
  timestamp: string;
  version: '1.0';
  data: Record<string, unknown>;
}

/** An event as stored, with the prospect its payload shows when that is stored apart (see storedPayloads). */
export type StoredEvent = EventRow & { prospect_snapshot: Record<string, unknown> | null };

/** Events with their prospect snapshots, for replay and delivery (`e` is the event, `p` its snapshot). */
export const selectStoredEvents = (db: Db) =>
  db.selectFrom('events as e').leftJoin('event_prospects as p', 'p.id', 'e.prospect_snapshot_id').selectAll('e').select('p.data as prospect_snapshot');

type Payload = Record<string, unknown>;
const isObject = (value: unknown): value is Payload => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The payload with its prospect slots (beside the thread and inside it) set to `prospect`, keys in place. */
function withProspect(data: Payload, prospect: Payload | null): Payload {
  const out = { ...data };
  if ('prospect' in out) out.prospect = prospect;
  if (isObject(out.thread) && 'prospect' in out.thread) out.thread = { ...out.thread, prospect };
  return out;
}

/** The prospects a payload shows, beside its thread and inside it. */
const prospectSlots = (data: Payload): Payload[] =>
  [data.prospect, isObject(data.thread) ? data.thread.prospect : undefined].filter(isObject);

export const envelopeOf = (row: StoredEvent): EventEnvelope => ({
  id: row.id,
  seq: row.seq,
  teamId: row.team_id,
  type: row.type as EventType,
  timestamp: row.created_at.toISOString(),
  version: '1.0',
  data: row.prospect_snapshot ? withProspect(row.data, row.prospect_snapshot) : row.data,
});

export interface NewEvent {
  type: EventType;
  data: Record<string, unknown>;
  /** when it happened, if not at the batch's `at` (the engine records a span of virtual time at once) */
  at?: Date;
}

/**
 * Records an event and queues its webhook deliveries. Call it inside the transaction that makes the
 * change: the event exists exactly when the change does. The per-team counter row is locked until
 * commit, so sequence numbers are gap-free and increase in commit order.
 */
export async function emitEvent(
  trx: Db,
  teamId: string,
  type: EventType,
  data: Record<string, unknown>,
  at: Date,
): Promise<EventEnvelope> {
  return (await emitEvents(trx, teamId, [{ type, data }], at))[0]!;
}

/**
 * emitEvent for many events at once (bulk lead adds): one counter update reserves their consecutive
 * sequence numbers, and the events and their deliveries are inserted set-based.
 */
export async function emitEvents(trx: Db, teamId: string, events: readonly NewEvent[], at: Date): Promise<EventEnvelope[]> {
  if (events.length === 0) return [];
  const n = events.length;
  const { last_seq: last } = await trx
    .insertInto('event_counters')
    .values({ team_id: teamId, last_seq: n })
    .onConflict((oc) => oc.column('team_id').doUpdateSet({ last_seq: sql`event_counters.last_seq + ${n}` }))
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  const envelopes: EventEnvelope[] = events.map((e, i) => ({
    id: newId(),
    seq: last - n + 1 + i,
    teamId,
    type: e.type,
    timestamp: (e.at ?? at).toISOString(),
    version: '1.0',
    data: e.data,
  }));
  const { payloads, snapshots } = storedPayloads(envelopes, teamId);
  await insertRows(trx, 'event_prospects', snapshots);
  await insertRows(
    trx,
    'events',
    envelopes.map((e, i) => ({ id: e.id, team_id: teamId, seq: e.seq, type: e.type, created_at: new Date(e.timestamp), ...payloads[i]! })),
  );
  const webhooks = await trx.selectFrom('webhooks').select(['id', 'event_types']).where('team_id', '=', teamId).where('enabled', '=', true).execute();
  const deliveries = webhooks.flatMap((w) => {
    const wanted = new Set(w.event_types as string[]);
    return envelopes
      .filter((e) => wanted.has('*') || wanted.has(e.type) || wanted.has(categoryOf(e.type)))
      .map((e) => ({ id: newId(), webhook_id: w.id, team_id: teamId, event_id: e.id, event_seq: e.seq, next_attempt_at: at, created_at: at }));
  });
  await insertRows(trx, 'webhook_deliveries', deliveries);
  return envelopes;
}

/**
 * The events' payloads as stored. A prospect shown more than once across them (a send's thread.created,
 * message.created and target.contacted show it five times, about 1 KB each; callers pass the one presented
 * object for every slot) is stored once as a snapshot, and its slots in each payload are left null;
 * envelopeOf puts it back. An event whose slots show different prospect objects keeps them inline, and a
 * prospect shown once is written only inside its payload.
 */
function storedPayloads(envelopes: readonly EventEnvelope[], teamId: string) {
  const shown = envelopes.map((e) => {
    const slots = prospectSlots(e.data);
    return slots.length > 0 && slots.every((s) => s === slots[0]) ? { prospect: slots[0]!, copies: slots.length } : null;
  });
  const copies = new Map<Payload, number>();
  for (const s of shown) if (s) copies.set(s.prospect, (copies.get(s.prospect) ?? 0) + s.copies);
  const snapshots = new Map<Payload, { id: string; team_id: string; created_at: Date; data: string }>();
  const payloads = envelopes.map((e, i) => {
    const prospect = shown[i]?.prospect;
    if (prospect === undefined || copies.get(prospect)! < 2) return { data: JSON.stringify(e.data), prospect_snapshot_id: null };
    const at = new Date(e.timestamp);
    let snapshot = snapshots.get(prospect);
    if (!snapshot) snapshots.set(prospect, (snapshot = { id: newId(), team_id: teamId, created_at: at, data: JSON.stringify(prospect) }));
    // The newest of its events' times: it is pruned with the last of them.
    if (at > snapshot.created_at) snapshot.created_at = at;
    return { data: JSON.stringify(withProspect(e.data, null)), prospect_snapshot_id: snapshot.id };
  });
  return { payloads, snapshots: [...snapshots.values()] };
}

export const EVENT_RETENTION_DAYS = 7;

export interface EventPage {
  events: EventEnvelope[];
  hasMore: boolean;
  lastSeq: number | null;
}

/** Replays a team's retained events after `afterSeq`, oldest first. */
export async function listEvents(
  db: Db,
  teamId: string,
  query: { afterSeq?: number; limit: number },
  now: Date,
): Promise<EventPage> {
  const oldest = new Date(now.getTime() - EVENT_RETENTION_DAYS * 86_400_000);
  const rows = await selectStoredEvents(db)
    .where('e.team_id', '=', teamId)
    .where('e.seq', '>', query.afterSeq ?? 0)
    .where('e.created_at', '>=', oldest)
    .orderBy('e.seq')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  return {
    events: page.map(envelopeOf),
    hasMore: rows.length > query.limit,
    lastSeq: page.at(-1)?.seq ?? null,
  };
}

/** Drops events past the retention period (their deliveries and prospect snapshots go with them). */
export async function pruneEvents(db: Db, now: Date): Promise<void> {
  const oldest = new Date(now.getTime() - EVENT_RETENTION_DAYS * 86_400_000);
  await db.deleteFrom('events').where('created_at', '<', oldest).execute();
  await db.deleteFrom('event_prospects').where('created_at', '<', oldest).execute();
}
