import { sql } from 'kysely';
import { decodeGroup, encodeGroup, groupEvents, type GroupedEvent, type StoredGroup } from '../../core/event-groups.js';
import type { EventType } from '../../core/event-types.js';
import { newId } from '../../core/ids.js';
import { insertBuiltRows } from '../../store/bulk.js';
import type { Db } from '../../store/db.js';
import { EVENTS_CHANNEL } from '../../store/notifications.js';

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

/** The envelope of an event as its group gives it back. */
const envelopeOf = (teamId: string, { id, seq, type, timestamp, data }: GroupedEvent): EventEnvelope => ({
  id,
  seq,
  teamId,
  type: type as EventType,
  timestamp,
  version: '1.0',
  data,
});

/** The envelopes of a stored group's events. */
export const envelopesOf = (group: { team_id: string; data: StoredGroup }): EventEnvelope[] => decodeGroup(group.data).map((e) => envelopeOf(group.team_id, e));

/** An event as read from the log, with the group it is stored in (a delivery names its group). */
export interface StoredEvent {
  groupId: string;
  event: EventEnvelope;
}

/**
 * A team's events after `afterSeq`, oldest first, and only those at or after `since` when it is given. With a
 * `limit`, that many when there are (groups are read until enough events are found).
 */
export async function eventsAfter(db: Db, teamId: string, afterSeq: number, options: { limit?: number; since?: Date } = {}): Promise<EventEnvelope[]> {
  return (await storedEventsAfter(db, teamId, afterSeq, options)).map((e) => e.event);
}

/** eventsAfter, each event with its group. */
export async function storedEventsAfter(db: Db, teamId: string, afterSeq: number, { limit, since }: { limit?: number; since?: Date } = {}): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let cursor = afterSeq; ; ) {
    // Each group holds at least one event: as many groups as events are still wanted.
    const wanted = limit === undefined ? undefined : limit - events.length;
    let query = db.selectFrom('event_groups').select(['id', 'team_id', 'last_seq', 'data']).where('team_id', '=', teamId).where('last_seq', '>', cursor).orderBy('last_seq');
    if (since) query = query.where('created_at', '>=', since);
    if (wanted !== undefined) query = query.limit(wanted);
    const groups = await query.execute();
    for (const group of groups) {
      for (const event of envelopesOf(group)) if (event.seq > afterSeq && (!since || Date.parse(event.timestamp) >= since.getTime())) events.push({ groupId: group.id, event });
    }
    // Fewer groups than asked for: none left. (A group may hold events before `afterSeq` or `since`.)
    if (wanted === undefined || groups.length < wanted || events.length >= limit!) return events.slice(0, limit);
    cursor = groups.at(-1)!.last_seq;
  }
}

export interface NewEvent {
  type: EventType;
  data: Record<string, unknown>;
  /** when it happened, if not at the batch's `at` (the engine records a span of virtual time at once) */
  at?: Date;
}

/**
 * Records an event. Call it inside the transaction that makes the change: the event exists exactly when the
 * change does. The per-team counter row is locked until commit, so sequence numbers are gap-free and increase in
 * commit order. Its webhook deliveries are not written here: the dispatcher fans the log out
 * (app/events/webhook-fan-out.ts), so a team's number of webhooks costs a request nothing.
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
 * sequence numbers and notifies the team's streams, and the events are inserted set-based.
 */
export async function emitEvents(trx: Db, teamId: string, events: readonly NewEvent[], at: Date): Promise<EventEnvelope[]> {
  if (events.length === 0) return [];
  const n = events.length;
  const { last_seq: last } = await trx
    .insertInto('event_counters')
    .values({ team_id: teamId, last_seq: n })
    .onConflict((oc) => oc.column('team_id').doUpdateSet({ last_seq: sql`event_counters.last_seq + ${n}` }))
    // The same statement tells this team's live streams, at commit, to read the log (src/app/events/stream.ts).
    .returning(['last_seq', sql<void>`pg_notify(${EVENTS_CHANNEL}, ${teamId})`.as('notified')])
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
  const grouped = groupEvents(envelopes);
  await insertBuiltRows(trx, 'event_groups', grouped, (members) => ({
    id: newId(),
    team_id: teamId,
    first_seq: members[0]!.seq,
    last_seq: members.at(-1)!.seq,
    // The newest of its events' times: the group is pruned with the last of them.
    created_at: new Date(Math.max(...members.map((e) => Date.parse(e.timestamp)))),
    data: JSON.stringify(encodeGroup(members)),
  }));
  return envelopes;
}

export const EVENT_RETENTION_DAYS = 7;

/** The oldest instant whose events are still kept at `now`. */
const retainedSince = (now: Date) => new Date(now.getTime() - EVENT_RETENTION_DAYS * 86_400_000);

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
  const events = await eventsAfter(db, teamId, query.afterSeq ?? 0, { limit: query.limit + 1, since: retainedSince(now) });
  const page = events.slice(0, query.limit);
  return { events: page, hasMore: events.length > query.limit, lastSeq: page.at(-1)?.seq ?? null };
}

/** Drops events past the retention period (their deliveries go with them). */
export async function pruneEvents(db: Db, now: Date): Promise<void> {
  await db.deleteFrom('event_groups').where('created_at', '<', retainedSince(now)).execute();
}
