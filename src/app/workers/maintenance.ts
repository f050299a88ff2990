import { sql } from 'kysely';
import { xCapWindows } from '../../platforms/x.js';
import type { Db } from '../../store/db.js';
import type { AppContext } from '../context.js';
import { pruneStreamLeases } from '../events/stream.js';
import { pruneEvents } from '../events/events.js';
import { pruneRateLimitBuckets, rateLimitWindows } from '../../store/rate-limit.js';
import { pruneSendKeys } from '../inbox/sends.js';
import { pruneSignIns } from '../team/sessions.js';

/**
 * Tables whose dead rows pass autovacuum's default threshold (50 + 20% of the live ones), vacuumed and
 * analysed one by one. The embedded store needs it: PGlite runs no autovacuum, so the tables the engine
 * rewrites (leads, threads, intents) would otherwise grow dead rows without end and every scan slow down.
 */
export async function vacuumBloated(db: Db): Promise<string[]> {
  const { rows } = await sql<{ relname: string }>`
    select relname from pg_stat_user_tables
    where schemaname = 'public' and n_dead_tup > 50 + 0.2 * n_live_tup
    order by n_dead_tup desc`.execute(db);
  for (const { relname } of rows) await sql`vacuum (analyze) ${sql.table(relname)}`.execute(db);
  return rows.map((r) => r.relname);
}

/**
 * Periodic housekeeping: drops events past their retention (their deliveries go with them), rate limit
 * counters (the API's, and the X accounts' send and read caps) no window still covers, expired sessions, invite
 * links and event stream leases, idempotency keys of sends settled over a day ago, and on the
 * embedded store vacuums what autovacuum would have. Idempotent, so every process sharing a store may run it.
 */
export class Maintenance {
  readonly #ctx: AppContext;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  readonly #vacuum: boolean;

  /** `vacuum`: for a store without autovacuum (PGlite). */
  constructor(ctx: AppContext, options: { intervalMs?: number; vacuum?: boolean } = {}) {
    this.#ctx = ctx;
    this.#intervalMs = options.intervalMs ?? 600_000;
    this.#vacuum = options.vacuum ?? false;
  }

  start(): void {
    if (this.#timer) return;
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
  }

  /** Stops the schedule and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async runOnce(): Promise<void> {
    const now = this.#ctx.clock.now();
    await pruneEvents(this.#ctx.db, now);
    const xWindows = Object.values(xCapWindows(this.#ctx.config.x)).flat();
    await pruneRateLimitBuckets(this.#ctx.db, [...rateLimitWindows(this.#ctx.config), ...xWindows], now);
    await pruneSignIns(this.#ctx.db, now);
    await pruneStreamLeases(this.#ctx.db);
    await pruneSendKeys(this.#ctx.db, now);
    if (this.#vacuum) await vacuumBloated(this.#ctx.db);
  }

  /** Starts a pass unless the previous one is still running. */
  #tick(): void {
    this.#running ??= this.runOnce()
      .catch((error: unknown) => this.#ctx.logger.error({ err: error }, 'maintenance failed'))
      .finally(() => (this.#running = undefined));
  }
}
