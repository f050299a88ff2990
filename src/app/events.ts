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

export const envelopeOf = (row: EventRow): EventEnvelope => ({
  id: row.id,
  seq: row.seq,
  teamId: row.team_id,
  type: row.type as EventType,
  timestamp: row.created_at.toISOString(),
  version: '1.0',
  data: row.data,
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
  await insertRows(
    trx,
    'events',
    envelopes.map((e) => ({ id: e.id, team_id: teamId, seq: e.seq, type: e.type, created_at: new Date(e.timestamp), data: JSON.stringify(e.data) })),
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
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('team_id', '=', teamId)
    .where('seq', '>', query.afterSeq ?? 0)
    .where('created_at', '>=', oldest)
    .orderBy('seq')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  return {
    events: page.map(envelopeOf),
    hasMore: rows.length > query.limit,
    lastSeq: page.at(-1)?.seq ?? null,
  };
}

/** Drops events past the retention period (their deliveries go with them). */
export async function pruneEvents(db: Db, now: Date): Promise<void> {
  const oldest = new Date(now.getTime() - EVENT_RETENTION_DAYS * 86_400_000);
  await db.deleteFrom('events').where('created_at', '<', oldest).execute();
}
