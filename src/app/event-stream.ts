import { AppError } from '../core/errors.js';
import type { Db } from '../store/db.js';
import type { EventNotifications } from '../store/notifications.js';
import { eventsAfter, type EventEnvelope } from './events.js';

export interface EventStreamOptions {
  /** between heartbeat comments */
  heartbeatMs: number;
  /** open streams per team in this process */
  maxPerTeam: number;
  /** bytes a reader may leave unread in this process before its stream is ended */
  maxBufferedBytes: number;
}

export const DEFAULT_STREAM_OPTIONS: EventStreamOptions = { heartbeatMs: 15_000, maxPerTeam: 20, maxBufferedBytes: 1 << 20 };

/** Where a stream writes: `write` answers how many bytes the reader has not taken yet. */
export interface StreamSink {
  write(chunk: string): number;
  /** ends the connection (the reader was too slow, the log could not be read or the server closes) */
  destroy(): void;
}

/** Events read from the log per query; a stream far behind catches up in pages of this size. */
const PAGE = 500;

/** The Server-Sent Events frame of one event: its seq is the id a reconnecting client resumes after. */
export const eventFrame = (event: EventEnvelope) => `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

export const HEARTBEAT = ': heartbeat\n\n';

/**
 * The live streams of this process. Each reads its team's log after the last seq it sent, whenever the
 * listener says the log grew: the table decides what is sent, so no seq is skipped or sent twice whatever
 * notifications are lost or repeated.
 */
export class EventStreams {
  readonly #open = new Map<string, number>();
  readonly options: EventStreamOptions;

  constructor(
    private readonly notifications: EventNotifications,
    options: Partial<EventStreamOptions> = {},
  ) {
    this.options = { ...DEFAULT_STREAM_OPTIONS, ...options };
  }

  /**
   * Takes one of the team's stream slots, or refuses with 429 TOO_MANY_STREAMS. The slot is released by
   * the returned function (once, however often it is called).
   */
  reserve(teamId: string): () => void {
    const open = this.#open.get(teamId) ?? 0;
    if (open >= this.options.maxPerTeam) {
      throw new AppError(429, 'TOO_MANY_STREAMS', `At most ${this.options.maxPerTeam} event streams may be open per team; close one first`);
    }
    this.#open.set(teamId, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(teamId) ?? 1) - 1;
      if (left === 0) this.#open.delete(teamId);
      else this.#open.set(teamId, left);
    };
  }

  /**
   * Listens for the team's events after `afterSeq` (or after its current last seq): resolves once listening,
   * so nothing committed after that is missed. `begin` starts writing them (and heartbeats) to `sink`;
   * `stop` ends it all.
   */
  async start(db: Db, teamId: string, afterSeq: number | undefined, sink: StreamSink): Promise<{ begin(): void; stop(): void }> {
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
        heartbeat = setInterval(() => write(HEARTBEAT), this.options.heartbeatMs);
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
