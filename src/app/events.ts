import { sql } from 'kysely';
import { categoryOf, type EventType } from '../core/event-types.js';
import { newId } from '../core/ids.js';
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
  const { last_seq: seq } = await trx
    .insertInto('event_counters')
    .values({ team_id: teamId, last_seq: 1 })
    .onConflict((oc) => oc.column('team_id').doUpdateSet({ last_seq: sql`event_counters.last_seq + 1` }))
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  const id = newId();
  await trx
    .insertInto('events')
    .values({ id, team_id: teamId, seq, type, created_at: at, data: JSON.stringify(data) })
    .execute();
  const webhooks = await trx
    .selectFrom('webhooks')
    .select('id')
    .where('team_id', '=', teamId)
    .where('enabled', '=', true)
    // eb.or parenthesises the alternatives; a bare `a or b` would escape the team and enabled conditions.
    .where((eb) =>
      eb.or([
        sql<boolean>`event_types @> jsonb_build_array(${type}::text)`,
        sql<boolean>`event_types @> jsonb_build_array(${categoryOf(type)}::text)`,
        sql<boolean>`event_types @> '["*"]'::jsonb`,
      ]),
    )
    .execute();
  if (webhooks.length > 0) {
    await trx
      .insertInto('webhook_deliveries')
      .values(
        webhooks.map((w) => ({
          id: newId(),
          webhook_id: w.id,
          team_id: teamId,
          event_id: id,
          event_seq: seq,
          next_attempt_at: at,
          created_at: at,
        })),
      )
      .execute();
  }
  return { id, seq, teamId, type, timestamp: at.toISOString(), version: '1.0', data };
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
