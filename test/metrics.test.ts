import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../src/http/metrics.js';
import { buildServer } from '../src/http/server.js';
import { seededRandom } from '../src/core/random.js';
import { nextEngineInstant } from '../src/engine/dispatcher.js';
import { observeSends } from '../src/platforms/observed.js';
import { platformRegistry } from '../src/platforms/platform.js';
import { SandboxPlatform } from '../src/platforms/sandbox.js';
import { sendingEngine } from '../src/runtimes/engine.js';
import { newTeam, testContext } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { setUpCampaigns } from './helpers/engine.js';
import { freshStore } from './helpers/fresh-store.js';
import { fails, inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';

const TOKEN = 'metrics-token-for-tests';
let app: FastifyInstance;

/** A server composed as `inbox serve` composes it with INBOX_METRICS_TOKEN set (src/cli/runtime.ts). */
beforeAll(async () => {
  const ctx = await testContext({ env: { INBOX_METRICS_TOKEN: TOKEN } });
  const metrics = new Metrics(await sharedStore());
  app = await buildServer({ ...ctx, platforms: observeSends(ctx.platforms, metrics.countSend) }, { metrics });
  await app.ready();
});
afterAll(() => app.close());

const scrape = async () => {
  const response = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.body;
};

/** The value of one sample (name and labels exactly as Prometheus prints them), 0 when absent. */
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

describe('GET /metrics', () => {
  it('is absent without a metrics token, and refuses a wrong one in the envelope', async () => {
    const plain = await buildServer(await testContext());
    expect((await plain.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    await plain.close();
    await fails(app.inject({ method: 'GET', url: '/metrics' }), 401, 'UNAUTHORIZED');
    await fails(app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-for-tesTS' } }), 401, 'UNAUTHORIZED');
  });

  it('names every family, and a send moves its counter', async () => {
    const team = await newTeam(app);
    const account = await linkAccount(team);
    const first = await inbound(team, account.id, randomPlatformId(), 'Hello there');
    const before = await scrape();
    for (const family of [
      'inbox_http_request_duration_seconds',
      'inbox_sends_total',
      'inbox_campaign_leads',
      'inbox_background_jobs',
      'inbox_webhook_deliveries',
      'inbox_webhook_delivery_lag_seconds',
      'inbox_event_streams_open',
      'inbox_db_pool_connections',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(before, family).toContain(`# TYPE ${family} `);
    }
    const sent = 'inbox_sends_total{platform="sandbox",outcome="sent"}';
    await ok(team.request('POST', `/api/v1/threads/${first.threadId}/messages`, { content: 'Thanks, talk soon' }));
    const after = await scrape();
    expect(sample(after, sent)).toBe(sample(before, sent) + 1);
    // Requests are labelled by their route template, never by a URL with ids in it.
    expect(after).toContain('route="/api/v1/threads/:threadId/messages",status="200"');
    expect(after).not.toContain(first.threadId);
  });

  it("times the engine's batches", async () => {
    // On a store of its own: an engine serves every campaign of its store.
    const store = await freshStore();
    try {
      const clock = new TestClock(new Date('2026-06-01T00:00:00Z'));
      const ctx = { ...(await testContext({ clock })), db: store.db, platforms: platformRegistry([new SandboxPlatform(store.db, clock)]) };
      const metrics = new Metrics(store);
      await setUpCampaigns(ctx, { campaigns: [{ messagesPerHour: 25, leads: 1 }] });
      const engine = sendingEngine(ctx, seededRandom(1), { observeBatch: metrics.observeBatch });
      for (let next: Date | null = clock.now(), sent = 0; next && sent === 0; next = await nextEngineInstant(store.db, clock.now())) {
        clock.set(next);
        sent = await engine.runOnce(clock.now());
      }
      const text = await metrics.registry.metrics();
      expect(text).toContain('# TYPE inbox_engine_batch_duration_seconds histogram');
      expect(sample(text, 'inbox_engine_batch_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    } finally {
      await store.close();
    }
  });
});
