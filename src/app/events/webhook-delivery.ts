import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Agent, fetch } from 'undici';
import { isPrivateAddress, isPrivateHostname } from '../../core/network.js';
import { failingSlots, failingTooLong, nextRetryAt } from '../../core/webhook-retry.js';
import { inboxSignature } from '../../core/webhook-signature.js';
import { v2Event } from '../../core/v2-events.js';
import type { Db } from '../../store/db.js';
import type { AppContext } from '../context.js';
import { PollingLoop } from '../../lib/polling-loop.js';
import { emitEvent, envelopesOf, type EventEnvelope } from './events.js';
import { catchUpWebhook, fanOutAll, fanOutPass } from './webhook-fan-out.js';
import { presentWebhook, signingSecret, type PayloadVersion } from './webhooks.js';

export interface DispatcherOptions {
  /** deliveries in flight at once, across endpoints (each endpoint has at most one) */
  concurrency?: number;
  requestTimeoutMs?: number;
  /** how often to look for due deliveries when nothing wakes the dispatcher earlier */
  pollIntervalMs?: number;
  /** the jitter source for retry delays, returning [0, 1) */
  random?: () => number;
  /** how host names are resolved (the system resolver unless a test plays an attacker's DNS server) */
  resolve?: Resolver;
}

/** Every address a host name resolves to, as `dns.lookup` with `all: true` gives them. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

class PrivateAddressError extends Error {}

/**
 * The lookup every delivery connects through: it resolves once and connects to what it checked, so a name that
 * answers a public address to a check and a private one to the connection (DNS rebinding) cannot reach inside.
 * A name with any private address is refused whole.
 */
function checkedLookup(resolve: Resolver, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (found) => {
        const addresses = options.family ? found.filter((a) => a.family === options.family) : found;
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
        if (!allowPrivate && addresses.some((a) => isPrivateAddress(a.address))) {
          return callback(new PrivateAddressError(`refused: ${hostname} resolves to a private address`), '', 0);
        }
        if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

/** A delivery claimed for one attempt, with what the attempt needs. */
interface Claim {
  id: string;
  webhookId: string;
  /** attempts including this one; also fences the result against a later claim of the same row */
  attempts: number;
  firstAttemptAt: Date;
  attemptAt: Date;
  url: string;
  /** the signing secret as stored (sealed, or in clear) */
  secret: string;
  payloadVersion: PayloadVersion;
  /** the endpoint's last attempt failed: it may hold only a share of the dispatcher's slots */
  failing: boolean;
  event: EventEnvelope;
}

interface Outcome {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
}

/** How long a claim stays ours beyond the request timeout; an expired claim (a crashed worker) is retried. */
const LEASE_MARGIN_MS = 30_000;

/**
 * The due heads of endpoints' queues: each endpoint's earliest pending delivery, if the time for it has come,
 * among healthy endpoints or among failing ones. A later delivery never overtakes its head, so each endpoint
 * sees its events in seq order. Locked (SKIP LOCKED: another process's claim is passed over).
 */
async function dueHeads(trx: Db, now: Date, limit: number, failing: boolean): Promise<string[]> {
  if (limit <= 0) return [];
  const due = await trx
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('webhooks as w')
        .innerJoinLateral(
          (lateral) =>
            lateral
              .selectFrom('webhook_deliveries as d')
              .select('d.id')
              .whereRef('d.webhook_id', '=', 'w.id')
              .where('d.status', '=', 'pending')
              .orderBy('d.event_seq')
              .limit(1)
              .as('head'),
          (join) => join.onTrue(),
        )
        .select('head.id')
        .where('w.enabled', '=', true)
        .where('w.failing_since', failing ? 'is not' : 'is', null),
    )
    // On the row itself, so Postgres re-checks them when another process has just claimed or finished it.
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  return due.map((d) => d.id);
}

/**
 * Claims due heads: up to `healthy` of endpoints that deliver and up to `failing` of endpoints whose last
 * attempt failed, so that dead endpoints (each attempt waiting out its timeout) never take every slot. The
 * claim is a lease: next_attempt_at moves past the request's end, so no one else (another process included)
 * takes the row or the ones behind it, and no transaction stays open during HTTP.
 */
async function claimDue(db: Db, now: Date, slots: { healthy: number; failing: number }, leaseMs: number): Promise<Claim[]> {
  return db.transaction().execute(async (trx) => {
    const ids = [...(await dueHeads(trx, now, slots.healthy, false)), ...(await dueHeads(trx, now, slots.failing, true))];
    if (ids.length === 0) return [];
    await trx
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        next_attempt_at: new Date(now.getTime() + leaseMs),
        last_attempt_at: now,
        first_attempt_at: eb.fn.coalesce('first_attempt_at', eb.val(now)),
      }))
      .where('id', 'in', ids)
      .execute();
    const rows = await trx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('event_groups as g', 'g.id', 'd.group_id')
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .select(['d.id', 'd.webhook_id', 'd.attempts', 'd.first_attempt_at', 'd.event_seq', 'g.team_id', 'g.data', 'w.url', 'w.secret', 'w.payload_version', 'w.failing_since'])
      .where('d.id', 'in', ids)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      webhookId: r.webhook_id,
      attempts: r.attempts,
      firstAttemptAt: r.first_attempt_at ?? now,
      attemptAt: now,
      url: r.url,
      secret: r.secret,
      payloadVersion: r.payload_version,
      failing: r.failing_since !== null,
      event: envelopesOf(r).find((e) => e.seq === r.event_seq)!,
    }));
  });
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  // fetch wraps network errors ("fetch failed"); the cause says what happened.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message || cause?.code || (error instanceof Error ? error.message : String(error));
}

/**
 * What a delivery POSTs: v1's envelope with the Standard Webhooks headers, or v2's event envelope (the one v2's
 * GET /events shows) signed in X-Inbox-Signature.
 */
function signedPayload(claim: Claim, secret: string, sentAt: Date): { body: string; headers: Record<string, string> } {
  if (claim.payloadVersion === '2') {
    // Only events v2 has a name for are queued to a v2 endpoint (webhook-fan-out.ts), so the event has its v2 form.
    const body = JSON.stringify(v2Event(claim.event)!);
    return { body, headers: { 'x-inbox-signature': inboxSignature(secret, sentAt, body) } };
  }
  const body = JSON.stringify(claim.event);
  return {
    body,
    headers: {
      'webhook-id': claim.event.id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(claim.event.id, sentAt, body),
    },
  };
}

/**
 * Delivers the webhook outbox: each pass first fans new events out to the webhooks (a bounded pass of
 * webhook-fan-out.ts), then sends signed POSTs of each event envelope (signedPayload), in seq order per endpoint,
 * endpoints in parallel up to a bound, failures retried with backoff for six hours.
 * Any number of dispatchers, in any number of processes, can share one store.
 */
export class WebhookDispatcher {
  readonly #ctx: AppContext;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #random: () => number;
  readonly #agent: Agent;
  readonly #inFlight = new Set<Promise<void>>();
  /** of those in flight, the attempts to failing endpoints */
  #failingInFlight = 0;
  readonly #loop: PollingLoop;

  constructor(ctx: AppContext, options: DispatcherOptions = {}) {
    this.#ctx = ctx;
    this.#concurrency = options.concurrency ?? 16;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#random = options.random ?? Math.random;
    this.#agent = new Agent({ connect: { lookup: checkedLookup(options.resolve ?? systemResolver, ctx.config.webhookAllowPrivate) } });
    // Each pass fans out a bounded share of new events and claims what is due; a finished attempt wakes the loop,
    // as its endpoint's next delivery may be due, and so does a fan-out that left work for the next pass.
    this.#loop = new PollingLoop(
      async () => {
        const { more } = await fanOutPass(this.#ctx.db, this.#ctx.clock.now());
        await this.#dispatchDue();
        return more;
      },
      options.pollIntervalMs ?? 1_000,
      (error) => this.#ctx.logger.error({ err: error }, 'webhook dispatch failed'),
    );
  }

  start(): void {
    this.#loop.start();
  }

  /** Stops claiming work and waits for the attempts in flight to finish and be recorded. */
  async stop(): Promise<void> {
    await this.#loop.stop();
    await Promise.all(this.#inFlight);
    if (!this.#agent.closed) await this.#agent.close();
  }

  /**
   * Fans out every new event, claims what is due now and attempts it; resolves with the number of attempts once
   * they are recorded.
   */
  async runOnce(): Promise<number> {
    await fanOutAll(this.#ctx.db, this.#ctx.clock.now());
    const started = await this.#dispatchDue();
    await Promise.all(started);
    return started.length;
  }

  async #dispatchDue(): Promise<Promise<void>[]> {
    const free = this.#concurrency - this.#inFlight.size;
    if (free <= 0) return [];
    const failing = Math.min(free, failingSlots(this.#concurrency) - this.#failingInFlight);
    const claims = await claimDue(this.#ctx.db, this.#ctx.clock.now(), { healthy: free - Math.max(failing, 0), failing }, this.#timeoutMs + LEASE_MARGIN_MS);
    return claims.map((claim) => {
      if (claim.failing) this.#failingInFlight++;
      const attempt = this.#attempt(claim)
        .then((outcome) => this.#record(claim, outcome))
        .catch((error: unknown) => this.#ctx.logger.error({ err: error, deliveryId: claim.id }, 'recording a webhook attempt failed'))
        .finally(() => {
          if (claim.failing) this.#failingInFlight--;
          this.#inFlight.delete(attempt);
          this.#loop.wake();
        });
      this.#inFlight.add(attempt);
      return attempt;
    });
  }

  async #attempt(claim: Claim): Promise<Outcome> {
    const sentAt = this.#ctx.clock.now();
    try {
      const url = new URL(claim.url);
      // An address literal is connected to without a lookup: it is checked here (names in checkedLookup).
      if (!this.#ctx.config.webhookAllowPrivate && isPrivateHostname(url.hostname)) {
        return { delivered: false, statusCode: null, error: `refused: ${url.hostname} resolves to a private address` };
      }
      const { body, headers } = signedPayload(claim, signingSecret(this.#ctx.config.secretKey, claim.webhookId, claim.secret), sentAt);
      const response = await fetch(url, {
        dispatcher: this.#agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'inbox-webhooks/1.0', ...headers },
        body,
        // A redirect could lead anywhere, private networks included: it counts as a failure.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await response.body?.cancel();
      const delivered = response.status >= 200 && response.status < 300;
      return { delivered, statusCode: response.status, error: delivered ? null : `HTTP ${response.status}` };
    } catch (error) {
      return { delivered: false, statusCode: null, error: describeFailure(error, this.#timeoutMs) };
    }
  }

  async #record(claim: Claim, outcome: Outcome): Promise<void> {
    const now = this.#ctx.clock.now();
    const retryAt = outcome.delivered ? null : nextRetryAt(claim.attempts, claim.firstAttemptAt, now, this.#random);
    const status = outcome.delivered ? 'delivered' : retryAt ? 'pending' : 'failed';
    if (status === 'failed') {
      this.#ctx.logger.warn({ deliveryId: claim.id, eventId: claim.event.id, error: outcome.error }, 'webhook delivery failed for good');
    }
    await this.#ctx.db
      .updateTable('webhook_deliveries')
      .set({
        status,
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        ...(retryAt ? { next_attempt_at: retryAt } : { completed_at: now }),
      })
      .where('id', '=', claim.id)
      .where('attempts', '=', claim.attempts)
      .where('status', '=', 'pending')
      .execute();
    await this.#recordHealth(claim, outcome.delivered, now, outcome.error);
  }

  /** The endpoint's failing streak: ended by a delivery, begun by a failure, and after days of it the webhook is switched off. */
  async #recordHealth(claim: Claim, delivered: boolean, now: Date, error: string | null): Promise<void> {
    const webhooks = this.#ctx.db.updateTable('webhooks').where('id', '=', claim.webhookId);
    if (delivered) {
      if (claim.failing) await webhooks.set({ failing_since: null }).where('failing_since', 'is not', null).execute();
      return;
    }
    const row = await webhooks
      .set((eb) => ({ failing_since: eb.fn.coalesce('failing_since', eb.val(claim.attemptAt)) }))
      .returning(['failing_since', 'enabled'])
      .executeTakeFirst();
    if (!row?.enabled || !row.failing_since || !failingTooLong(row.failing_since, now)) return;
    const reason = `every delivery has failed since ${row.failing_since.toISOString()} (last: ${error ?? 'unknown error'})`;
    // Switched off and announced together, so the team's other webhooks, streams and pages learn why; the events
    // emitted while it was on are queued first (they wait in its queue if it is enabled again).
    const disabled = await this.#ctx.db.transaction().execute(async (trx) => {
      await catchUpWebhook(trx, claim.event.teamId, claim.webhookId, now);
      const off = await trx
        .updateTable('webhooks')
        .set({ enabled: false, disabled_at: now, disabled_reason: reason })
        .where('id', '=', claim.webhookId)
        .where('enabled', '=', true)
        .returningAll()
        .executeTakeFirst();
      if (off) await emitEvent(trx, off.team_id, 'webhook.disabled', { webhook: presentWebhook(off) }, now);
      return off;
    });
    if (disabled) this.#ctx.logger.warn({ webhookId: claim.webhookId, reason }, 'webhook switched off after failing for days');
  }
}
