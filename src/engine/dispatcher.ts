import { setImmediate } from 'node:timers/promises';
import { PollingLoop } from '../lib/polling-loop.js';
import type { Random } from '../core/random.js';
import { sendBatch } from './dispatch.js';
import { applySequenceEdits, completeFinished, planLeads, updateAvailability, type AvailabilityChange } from './plan.js';
import type { EngineProspect } from '../core/campaign-sends.js';
import type { EngineContext } from './ports.js';
import type { Recording } from './record.js';

/** The database's next instant (engine/database-store.ts), for the runs in virtual time that drive a database engine themselves. */
export { nextEngineInstant } from './database-store.js';

export interface EngineOptions {
  /** how often to look for due work in real time */
  pollIntervalMs?: number;
  /** what a send records (record.ts): everything, unless the run is a forecast */
  recording?: Recording;
  /** once aborted, a pass ends after the batch in hand (a forecast nobody waits for any more) */
  stop?: AbortSignal;
  /** told how long each batch that did something took, reserve to record (the metrics' batch histogram) */
  observeBatch?: (seconds: number) => void;
}

/**
 * The sending engine: plans leads onto senders, sends what is due, pauses, resumes and completes campaigns.
 * Any number of engines, in any number of processes, can share one store: accounts are locked batch by batch
 * with FOR UPDATE SKIP LOCKED and every send is reserved in the account's send log under that lock.
 */
export class Dispatcher<P extends EngineProspect = EngineProspect> {
  readonly #ctx: EngineContext<P>;
  readonly #random: Random;
  readonly #loop: PollingLoop;
  readonly #recording: Recording;
  readonly #stop: AbortSignal | undefined;
  readonly #observeBatch: ((seconds: number) => void) | undefined;

  constructor(ctx: EngineContext<P>, random: Random, options: EngineOptions = {}) {
    this.#ctx = ctx;
    this.#random = random;
    this.#recording = options.recording ?? 'everything';
    this.#stop = options.stop;
    this.#observeBatch = options.observeBatch;
    this.#loop = new PollingLoop(async () => (await this.runOnce()) > 0, options.pollIntervalMs ?? 1_000, (error) =>
      ctx.logger.error({ err: error }, 'engine pass failed'),
    );
  }

  start(): void {
    this.#loop.start();
  }

  /** Stops once the batch in hand is recorded. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** One real-time pass at `now`: everything due by then goes out. Returns the sends. */
  async runOnce(now: Date = this.#ctx.clock.now()): Promise<number> {
    return (await this.#pass(now, now, true)).sent;
  }

  /**
   * One pass over a span of virtual time: every send due in (from .. until] goes out at its own instant, as
   * passes at each of those instants would have sent it. Only for virtual time, where the caller knows nothing
   * else happens in the span. Returns the instant reached (earlier than `until` when the plan was cut short).
   */
  async runUntil(from: Date, until: Date): Promise<Date> {
    return (await this.#pass(from, until, false)).reached;
  }

  /** The next instant after `now` at which this engine may have something to do (virtual time jumps there), or null. */
  nextInstant(now: Date): Promise<Date | null> {
    return this.#ctx.store.nextInstant(now);
  }

  /** Apply sequence edits, plan, pause or resume, send batch after batch, complete. */
  async #pass(from: Date, until: Date, realTime: boolean): Promise<{ sent: number; reached: Date }> {
    const { store } = this.#ctx;
    await applySequenceEdits(store, from);
    // A span of virtual time may run far past `from`: first every waiting lead gets its sender, as real-time
    // passes a second apart would have given them by then (one batch of them a pass).
    while ((await planLeads(store, from)) && until > from) await setImmediate();
    this.#logChanges(await updateAvailability(store, from));
    let sent = 0;
    let reached = from;
    // A hold running out may resume a paused campaign: a pass-level change, so the span stops short of it.
    const release = await store.nextHoldExpiry(from);
    let end = release && release <= until ? new Date(Math.max(from.getTime(), release.getTime() - 1)) : until;
    while (!this.#loop.stopping && !this.#stop?.aborted) {
      // In real time a batch sends when it starts, which a slow batch before it (a platform lookup) may have put
      // well past the pass's start: its slots, pace and stored times are taken then.
      const at = realTime ? new Date(Math.max(from.getTime(), this.#ctx.clock.now().getTime())) : from;
      const started = performance.now();
      const batch = await sendBatch(this.#ctx, this.#random, at, realTime ? at : end, this.#recording);
      if (batch.acted) this.#observeBatch?.((performance.now() - started) / 1000);
      // The embedded store runs its statements on this thread, and a batch over a span of virtual time may take
      // seconds: the process answers requests (and notices clients leaving) between batches. So does planning.
      await setImmediate();
      if (!batch.acted) break;
      if (batch.sent > 0) this.#log({ sent: batch.sent }, `engine batch sent ${batch.sent}`);
      sent += batch.sent;
      if (batch.reached > reached) reached = batch.reached;
      if (batch.until < end) end = batch.until;
    }
    // A failure may have held or revoked the last account of a campaign.
    this.#logChanges(await updateAvailability(store, reached));
    for (const campaignId of await completeFinished(store, from, reached)) this.#log({ campaignId }, 'engine completed a campaign');
    return { sent, reached };
  }

  /** What the engine did, at info, one line per batch or campaign change; a forecast's work is nobody's news. */
  #log(fields: Record<string, unknown>, message: string): void {
    if (this.#recording === 'everything') this.#ctx.logger.info(fields, message);
  }

  #logChanges(changes: readonly AvailabilityChange[]): void {
    for (const c of changes) {
      if (c.change === 'paused') this.#log({ campaignId: c.campaignId, pauseReason: c.reason }, `engine paused a campaign: ${c.reason}`);
      else this.#log({ campaignId: c.campaignId }, 'engine resumed a campaign');
    }
  }
}

/**
 * Runs the engine in virtual time from `from`, jumping from one instant at which something can happen to the
 * next, until nothing is left, the next instant lies beyond `until`, or `done` says to stop. Only for a store
 * nothing else writes to meanwhile (a simulation, a forecast, a benchmark). Returns the instant reached.
 */
export async function runInVirtualTime(
  engine: Dispatcher,
  from: Date,
  until: Date,
  options: { clock?: { set(at: Date): void }; done?: () => Promise<boolean> } = {},
): Promise<Date> {
  for (let now = from; ; ) {
    options.clock?.set(now);
    now = await engine.runUntil(now, until);
    if (options.done && (await options.done())) return now;
    const next = await engine.nextInstant(now);
    if (!next || next > until) return now;
    now = next;
  }
}
