import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from './schema.js';

/** The channel emitEvents notifies, with the team's id as payload, when its transaction commits. */
export const EVENTS_CHANNEL = 'inbox_events';

/**
 * This process's listener for committed events. A notification only says "this team's log grew": readers
 * read the table. When the listener lost its connection it calls every subscriber once reconnected, since
 * notifications may have been missed meanwhile.
 */
export interface EventNotifications {
  /** Calls `onChange` as described above; resolves once listening, with the function that unsubscribes. */
  subscribe(teamId: string, onChange: () => void): Promise<() => void>;
  close(): Promise<void>;
}

/** The subscribers of each team, called on a notification (one team) or after a reconnect (all). */
class Subscribers {
  readonly #byTeam = new Map<string, Set<() => void>>();

  add(teamId: string, onChange: () => void): () => void {
    const set = this.#byTeam.get(teamId) ?? new Set();
    this.#byTeam.set(teamId, set.add(onChange));
    return () => {
      set.delete(onChange);
      if (set.size === 0 && this.#byTeam.get(teamId) === set) this.#byTeam.delete(teamId);
    };
  }

  notify(teamId: string): void {
    for (const onChange of this.#byTeam.get(teamId) ?? []) onChange();
  }

  notifyAll(): void {
    for (const set of this.#byTeam.values()) for (const onChange of set) onChange();
  }
}

/**
 * PGlite is one backend: LISTEN once on it (through the dialect's mutex, so never inside another caller's
 * transaction) and hear its own commits' notifications.
 */
export function pgliteNotifications(pglite: PGlite, db: Db): EventNotifications {
  const subscribers = new Subscribers();
  let listening: Promise<unknown> | undefined;
  const stop = pglite.onNotification((channel, payload) => {
    if (channel === EVENTS_CHANNEL) subscribers.notify(payload);
  });
  return {
    async subscribe(teamId, onChange) {
      listening ??= sql`listen ${sql.raw(EVENTS_CHANNEL)}`.execute(db).catch((error: unknown) => {
        listening = undefined;
        throw error;
      });
      await listening;
      return subscribers.add(teamId, onChange);
    },
    async close() {
      stop();
    },
  };
}

export interface PgNotificationOptions {
  /** how long to wait before reconnecting a dropped listener connection, doubled up to 30 s on failures */
  reconnectMs?: number;
}

/**
 * On PostgreSQL one dedicated connection per process LISTENs, opened with the first subscriber. When it
 * drops, it reconnects and then calls every subscriber.
 */
export function postgresNotifications(url: string, { reconnectMs = 1000 }: PgNotificationOptions = {}): EventNotifications {
  const subscribers = new Subscribers();
  let client: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = reconnectMs;
  let closed = false;
  // set when the connection dropped: the next one to open calls every subscriber
  let missed = false;

  const connect = (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    next.on('notification', (message) => {
      if (message.channel === EVENTS_CHANNEL && message.payload) subscribers.notify(message.payload);
    });
    next.on('error', () => lost(next));
    next.on('end', () => lost(next));
    connecting = (async () => {
      await next.connect();
      await next.query(`listen ${EVENTS_CHANNEL}`);
      if (closed) {
        await next.end();
        return;
      }
      client = next;
      delay = reconnectMs;
      if (missed) {
        missed = false;
        subscribers.notifyAll();
      }
    })().catch(async (error: unknown) => {
      connecting = undefined;
      await next.end().catch(() => {});
      throw error;
    });
    return connecting;
  };

  const lost = (which: pg.Client) => {
    if (client !== which || closed) return;
    client = undefined;
    connecting = undefined;
    missed = true;
    which.end().catch(() => {});
    scheduleReconnect();
  };

  const scheduleReconnect = () => {
    retry = setTimeout(() => {
      retry = undefined;
      (connecting ?? connect()).catch(() => {
        if (!closed && !connecting && !retry) {
          delay = Math.min(delay * 2, 30_000);
          scheduleReconnect();
        }
      });
    }, delay);
    retry.unref();
  };

  return {
    async subscribe(teamId, onChange) {
      if (!client) {
        // A subscriber does not wait for the reconnect's delay.
        clearTimeout(retry);
        retry = undefined;
        await (connecting ?? connect()).catch((error: unknown) => {
          if (missed && !retry && !closed) scheduleReconnect();
          throw error;
        });
      }
      return subscribers.add(teamId, onChange);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const open = client;
      client = undefined;
      await open?.end().catch(() => {});
    },
  };
}
