import { xCapWindows } from '../platforms/x.js';
import type { AppContext } from './context.js';
import { pruneEvents } from './events.js';
import { pruneRateLimitBuckets, rateLimitWindows } from './rate-limit.js';

/**
 * Periodic housekeeping: drops events past their retention (their deliveries go with them) and rate
 * limit counters (the API's, and the X accounts' send and read caps) no window still covers. Idempotent,
 * so every process sharing a store may run it.
 */
export class Maintenance {
  readonly #ctx: AppContext;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(ctx: AppContext, intervalMs = 600_000) {
    this.#ctx = ctx;
    this.#intervalMs = intervalMs;
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
  }

  /** Starts a pass unless the previous one is still running. */
  #tick(): void {
    this.#running ??= this.runOnce()
      .catch((error: unknown) => this.#ctx.logger.error({ err: error }, 'maintenance failed'))
      .finally(() => (this.#running = undefined));
  }
}
