import { sql } from 'kysely';
import { AppError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Db } from '../../store/db.js';
import type { EventNotifications } from '../../store/notifications.js';
import { eventsAfter, type EventEnvelope } from './events.js';

export interface EventStreamOptions {
  /** between heartbeat comments */
  heartbeatMs: number;
  /** open streams per team, across every process on the store */
  maxPerTeam: number;
  /**
   * how long a stream's lease lasts unrenewed (three heartbeats unless given): a process that dies frees its
   * streams' slots after this
   */
  leaseTtlMs: number;
  /** bytes a reader may leave unread in this process before its stream is ended */
  maxBufferedBytes: number;
}

export const DEFAULT_STREAM_OPTIONS: EventStreamOptions = { heartbeatMs: 15_000, maxPerTeam: 20, leaseTtlMs: 45_000, maxBufferedBytes: 1 << 20 };

/** A stream's slot in its team's cap: a row in event_stream_leases (migration 0018). */
export interface StreamLease {
  /** extends the lease; false when it was lost (it expired and another claim removed it) */
  renew(): Promise<boolean>;
  /** gives the slot back (once, however often it is called) */
  release(): Promise<void>;
}

/** Where a stream writes: `write` answers how many bytes the reader has not taken yet. */
export interface StreamSink {
  write(chunk: string): number;
  /** ends the connection (the reader was too slow, the log could not be read or the server closes) */
  destroy(): void;
  /** asked at each heartbeat: false once the reader's credential no longer holds (signed out, revoked, removed) */
  stillAllowed?(): Promise<boolean>;
}

/** Events read from the log per query; a stream far behind catches up in pages of this size. */
const PAGE = 500;

/** The Server-Sent Events frame of one event: its seq is the id a reconnecting client resumes after. */
export const eventFrame = (event: EventEnvelope) => `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

export const HEARTBEAT = ': heartbeat\n\n';

/**
 * The live streams of this process, their slots leased in the store. Each reads its team's log after the last
 * seq it sent, whenever the listener says the log grew: the table decides what is sent, so no seq is skipped or
 * sent twice whatever notifications are lost or repeated.
 */
export class EventStreams {
  readonly options: EventStreamOptions;

  constructor(
    private readonly notifications: EventNotifications,
    options: Partial<EventStreamOptions> = {},
  ) {
    const heartbeatMs = options.heartbeatMs ?? DEFAULT_STREAM_OPTIONS.heartbeatMs;
    this.options = { ...DEFAULT_STREAM_OPTIONS, leaseTtlMs: 3 * heartbeatMs, ...options };
  }

  /**
   * Claims one of the team's stream slots, or refuses with 429 TOO_MANY_STREAMS. Claims for a team take turns
   * (an advisory lock), so two processes cannot both take the last slot; times are the database's, the one
   * clock every process shares.
   */
  async reserve(db: Db, teamId: string): Promise<StreamLease> {
    const id = newId();
    const ttl = sql<Date>`now() + ${this.options.leaseTtlMs} * interval '1 millisecond'`;
    const claimed = await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`event_stream_leases:${teamId}`}, 0))`.execute(trx);
      await trx.deleteFrom('event_stream_leases').where('team_id', '=', teamId).where('expires_at', '<=', sql<Date>`now()`).execute();
      const { open } = await trx
        .selectFrom('event_stream_leases')
        .select((eb) => eb.fn.countAll<string>().as('open'))
        .where('team_id', '=', teamId)
        .executeTakeFirstOrThrow();
      if (Number(open) >= this.options.maxPerTeam) return false;
      await trx.insertInto('event_stream_leases').values({ id, team_id: teamId, expires_at: ttl }).execute();
      return true;
    });
    if (!claimed) {
      throw new AppError(429, 'TOO_MANY_STREAMS', `At most ${this.options.maxPerTeam} event streams may be open per team; close one first`);
    }
    let released: Promise<void> | undefined;
    return {
      renew: async () => {
        if (released) return false;
        const row = await db.updateTable('event_stream_leases').set({ expires_at: ttl }).where('id', '=', id).returning('id').executeTakeFirst();
        return row !== undefined;
      },
      release: () =>
        (released ??= db
          .deleteFrom('event_stream_leases')
          .where('id', '=', id)
          .execute()
          // Unreleased, the lease still expires.
          .then(() => undefined, () => undefined)),
    };
  }

  /**
   * Listens for the team's events after `afterSeq` (or after its current last seq): resolves once listening,
   * so nothing committed after that is missed. `begin` starts writing them (and heartbeats, each renewing
   * `lease`) to `sink`; `stop` ends it all.
   */
  async start(db: Db, teamId: string, afterSeq: number | undefined, sink: StreamSink, lease: StreamLease): Promise<{ begin(): void; stop(): void }> {
    let begun = false;
    let stopped = false;
    let dirty = true;
    let reading = false;
    let lastSeq = afterSeq ?? -1;
    let heartbeat: NodeJS.Timeout | undefined;
    let unsubscribe: (() => void) | undefined;

    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(heartbeat);
      unsubscribe?.();
    };
    const write = (chunk: string) => {
      if (stopped) return;
      if (sink.write(chunk) > this.options.maxBufferedBytes) {
        stop();
        sink.destroy();
      }
    };
    // One reader at a time; a notification during a read makes it read again.
    const readLog = async () => {
      reading = true;
      try {
        while (dirty && !stopped) {
          dirty = false;
          const events = await eventsAfter(db, teamId, lastSeq, { limit: PAGE });
          for (const event of events) write(eventFrame(event));
          if (events.length > 0) lastSeq = events.at(-1)!.seq;
          if (events.length === PAGE) dirty = true;
        }
      } finally {
        reading = false;
      }
    };
    const changed = () => {
      dirty = true;
      if (reading || !begun) return;
      readLog().catch(() => {
        // The client reconnects with Last-Event-ID and misses nothing.
        stop();
        sink.destroy();
      });
    };

    unsubscribe = await this.notifications.subscribe(teamId, changed).catch(() => {
      throw new AppError(503, 'STREAM_UNAVAILABLE', 'The event stream cannot listen for events right now; try again shortly');
    });
    try {
      if (lastSeq < 0) lastSeq = await currentLastSeq(db, teamId);
    } catch (error) {
      stop();
      throw error;
    }
    return {
      begin: () => {
        if (begun || stopped) return;
        begun = true;
        heartbeat = setInterval(() => {
          write(HEARTBEAT);
          // A stream whose slot another claim took must not count twice: it ends, and the client reconnects. So
          // does one whose reader may no longer read the team's events.
          Promise.all([lease.renew(), sink.stillAllowed?.() ?? true]).then(
            ([held, allowed]) => {
              if ((held && allowed) || stopped) return;
              stop();
              sink.destroy();
            },
            // A failed renewal or check is tried again at the next heartbeat, well before the lease expires.
            () => undefined,
          );
        }, this.options.heartbeatMs);
        changed();
      },
      stop,
    };
  }
}

/** The team's last committed seq (0 before its first event). */
async function currentLastSeq(db: Db, teamId: string): Promise<number> {
  const row = await db.selectFrom('event_counters').select('last_seq').where('team_id', '=', teamId).executeTakeFirst();
  return row?.last_seq ?? 0;
}

/** Deletes every team's expired leases: a claim deletes only its own team's, and some teams never claim again. */
export async function pruneStreamLeases(db: Db): Promise<void> {
  await db.deleteFrom('event_stream_leases').where('expires_at', '<=', sql<Date>`now()`).execute();
}
