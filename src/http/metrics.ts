import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SendObserver } from '../platforms/observed.js';
import type { Db, Store } from '../store/db.js';
import { AppError } from '../core/errors.js';

/**
 * This process's Prometheus metrics (prom-client). Counters and histograms are the process's own (HTTP requests,
 * sends); gauges read from the store at each scrape (leads, jobs, webhook deliveries, event streams) are the same
 * for every process sharing it, so a query over several processes takes one of them, not their sum.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status'>;
  private readonly sends: Counter<'platform' | 'outcome'>;
  private readonly batches: Histogram;

  constructor(store: Pick<Store, 'db' | 'poolStats'>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Histogram({
      name: 'inbox_http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status code, with their duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.sends = new Counter({
      name: 'inbox_sends_total',
      help: 'DMs handed to a platform, by platform and outcome (sent or the kind of failure)',
      labelNames: ['platform', 'outcome'],
      registers,
    });
    this.batches = new Histogram({
      name: 'inbox_engine_batch_duration_seconds',
      help: "The sending engine's batches in this process that did something (reserve, platform calls, record), with their duration",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const fromStore = (name: string, help: string, labelNames: string[], read: (db: Db) => Promise<Array<[Record<string, string>, number]>>) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          this.reset();
          for (const [labels, value] of await read(store.db)) this.set(labels, value);
        },
      });
    fromStore('inbox_campaign_leads', 'Leads of active campaigns still to be messaged: due (their next step is due now) or waiting (due later)', ['phase'], async (db) => {
      const row = await db
        .selectFrom('campaign_leads as l')
        .innerJoin('campaigns as c', 'c.id', 'l.campaign_id')
        .where('c.status', '=', 'active')
        .where('l.state', 'in', ['pending', 'active'])
        .select([
          sql<number>`count(*) filter (where l.next_step_at is null or l.next_step_at <= now())`.as('due'),
          sql<number>`count(*) filter (where l.next_step_at > now())`.as('waiting'),
        ])
        .executeTakeFirstOrThrow();
      return [[{ phase: 'due' }, Number(row.due)], [{ phase: 'waiting' }, Number(row.waiting)]];
    });
    fromStore('inbox_background_jobs', 'Background jobs (imports, list syncs) by status', ['status'], async (db) => {
      const rows = await db.selectFrom('jobs').select(['status', sql<number>`count(*)`.as('n')]).groupBy('status').execute();
      return rows.map((r) => [{ status: r.status }, Number(r.n)]);
    });
    fromStore('inbox_webhook_deliveries', 'Webhook deliveries by status (pending, delivered, failed)', ['status'], async (db) => {
      const rows = await db.selectFrom('webhook_deliveries').select(['status', sql<number>`count(*)`.as('n')]).groupBy('status').execute();
      return rows.map((r) => [{ status: r.status }, Number(r.n)]);
    });
    fromStore('inbox_webhook_delivery_lag_seconds', 'How long the oldest due webhook delivery has been waiting (0 when none is due)', [], async (db) => {
      const row = await db
        .selectFrom('webhook_deliveries')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', sql<Date>`now()`)
        .select(sql<number>`coalesce(extract(epoch from now() - min(next_attempt_at)), 0)`.as('lag'))
        .executeTakeFirstOrThrow();
      return [[{}, Number(row.lag)]];
    });
    fromStore('inbox_event_streams_open', 'Open live event streams (GET /events/stream), by their leases', [], async (db) => {
      const row = await db
        .selectFrom('event_stream_leases')
        .where('expires_at', '>', sql<Date>`now()`)
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirstOrThrow();
      return [[{}, Number(row.n)]];
    });
    new Gauge({
      name: 'inbox_db_pool_connections',
      help: "This process's database connections: total, idle, and requests waiting for one",
      labelNames: ['state'],
      registers,
      collect() {
        const stats = store.poolStats();
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }

  /** For the engine (EngineOptions.observeBatch): times each batch that did something. */
  readonly observeBatch = (seconds: number): void => this.batches.observe(seconds);

  /** For observeSends: counts each DM send as it ends. */
  readonly countSend: SendObserver = (platform, outcome) => this.sends.inc({ platform, outcome });

  /**
   * Times every request, labelled by its route template (not its URL, so ids do not make new series), and serves
   * GET /metrics to a client presenting `token` as a bearer token.
   */
  install(app: FastifyInstance, token: string): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.requests.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
    const expected = Buffer.from(`Bearer ${token}`);
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new AppError(401, 'UNAUTHORIZED', 'GET /metrics takes the metrics token (INBOX_METRICS_TOKEN) as a bearer token');
      }
      return reply.type(this.registry.contentType).send(await this.registry.metrics());
    });
  }
}
