import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { emitEvent, emitEvents } from '../src/app/events/events.js';
import { Maintenance } from '../src/app/workers/maintenance.js';
import { consumeRateLimit, rateLimitWindows } from '../src/store/rate-limit.js';
import { WebhookDispatcher, type DispatcherOptions } from '../src/app/events/webhook-delivery.js';
import { fanOutAll, fanOutPass, QUEUE_AHEAD } from '../src/app/events/webhook-fan-out.js';
import { openStore } from '../src/store/db.js';
import type { FreshStore } from './helpers/fresh-store.js';
import { sealWebhookSecrets } from '../src/app/events/webhooks.js';
import { buildServer } from '../src/http/server.js';
import { newTeam, testContext, type TeamClient } from './helpers/app.js';
import { expectContract } from './helpers/contract.js';
import { TestClock } from './helpers/clock.js';
import { startReceiver, type Answer, type ReceivedRequest, type Receiver } from './helpers/receiver.js';
import { sharedStore } from './helpers/store.js';

const api = '/api/v1/webhooks';

// Only this file creates webhooks. Each test removes its own, so no queue outlives it and a later
// test's dispatcher (which serves every team) finds only that test's work.
const teamIds: string[] = [];
async function team(app?: FastifyInstance): Promise<TeamClient> {
  const client = await newTeam(app);
  teamIds.push(client.teamId);
  return client;
}
afterEach(async () => {
  const { db } = await sharedStore();
  await db.deleteFrom('webhooks').where('team_id', 'in', teamIds.splice(0)).execute();
});

async function receiver(answer?: (request: ReceivedRequest, index: number) => Answer): Promise<Receiver> {
  const r = await startReceiver(answer);
  onTestFinished(() => r.close());
  return r;
}

/** A server and a dispatcher on a clock the test moves; retry jitter is fixed at none. */
async function rig(options: DispatcherOptions = {}, env?: Record<string, string>) {
  const clock = new TestClock();
  const ctx = await testContext({ clock, env });
  const app = await buildServer(ctx);
  onTestFinished(() => app.close());
  const dispatcher = new WebhookDispatcher(ctx, { random: () => 0.5, requestTimeoutMs: 2_000, ...options });
  return { clock, ctx, app, dispatcher, team: await team(app) };
}

/** Runs the dispatcher until nothing is due; returns the number of attempts. */
async function drain(dispatcher: WebhookDispatcher): Promise<number> {
  let total = 0;
  for (let n = await dispatcher.runOnce(); n > 0; n = await dispatcher.runOnce()) total += n;
  return total;
}

/** The dispatcher's fan-out alone: the deliveries of every event so far are queued, none attempted. */
async function fanOut(): Promise<void> {
  await fanOutAll((await sharedStore()).db, new Date());
}

async function createWebhook(client: TeamClient, body: Record<string, unknown>) {
  const response = await client.request('POST', api, body);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { id: string; secret: string };
}

/** tag.created, then tag.updated for each further name: seq 1, 2, ... in a fresh team. */
async function tagEvents(client: TeamClient, count: number): Promise<void> {
  const tag = (await client.request('POST', '/api/v1/tags', { name: 'tag 1' })).json();
  for (let i = 2; i <= count; i++) await client.request('PATCH', `/api/v1/tags/${tag.id}`, { name: `tag ${i}` });
}

async function deliveries(client: TeamClient, webhookId: string, query = '') {
  const response = await client.request('GET', `${api}/${webhookId}/deliveries${query}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as {
    deliveries: Array<{ seq: number; eventType: string; status: string; attempts: number; nextAttemptAt: string | null } & Record<string, unknown>>;
    hasMore: boolean;
    lastSeq: number | null;
  };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('webhook management', () => {
  it('creates, lists, gets, updates and deletes; the secret is shown once', async () => {
    const client = await team();
    const created = await client.request('POST', api, { url: 'https://example.com/hooks', eventTypes: ['thread', 'tag.created'], description: 'CRM sync' });
    expect(created.statusCode).toBe(200);
    const webhook = created.json();
    expect(webhook).toEqual({
      id: expect.stringMatching(/^[0-9a-z]+$/),
      url: 'https://example.com/hooks',
      description: 'CRM sync',
      eventTypes: ['thread', 'tag.created'],
      enabled: true,
      failingSince: null,
      disabledReason: null,
      disabledAt: null,
      createdAt: expect.any(String),
      updatedAt: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const { secret, ...shown } = webhook;
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);

    expect((await client.request('GET', api)).json()).toEqual([shown]);
    expect((await client.request('GET', `${api}/${webhook.id}`)).json()).toEqual(shown);

    const patched = await client.request('PATCH', `${api}/${webhook.id}`, {
      url: 'http://example.org/other',
      eventTypes: ['*', '*'],
      enabled: false,
      description: null,
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ url: 'http://example.org/other', eventTypes: ['*'], enabled: false, description: null });
    expect(patched.json().updatedAt).toEqual(expect.any(String));
    expect(patched.json()).not.toHaveProperty('secret');

    const deleted = await client.request('DELETE', `${api}/${webhook.id}`);
    expect(deleted.statusCode).toBe(200);
    expect(deleted.body).toBe('');
    const gone = await client.request('GET', `${api}/${webhook.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('WEBHOOK_NOT_FOUND');
    expect((await client.request('DELETE', `${api}/${webhook.id}`)).statusCode).toBe(404);
  });

  it('validates the URL and event types with 400 VALIDATION_ERROR', async () => {
    const client = await team();
    const good = { url: 'https://example.com/x', eventTypes: ['*'] };
    const bad = [
      {},
      { url: 'https://example.com/x' },
      { ...good, url: 'not a url' },
      { ...good, url: 'ftp://example.com/x' },
      { ...good, url: 'javascript:alert(1)' },
      { ...good, url: 5 },
      { ...good, url: `https://example.com/${'x'.repeat(2100)}` },
      { ...good, eventTypes: [] },
      { ...good, eventTypes: 'thread' },
      { ...good, eventTypes: ['thread.exploded'] },
      { ...good, eventTypes: ['threads'] },
      { ...good, enabled: 'yes' },
    ];
    for (const body of bad) {
      const response = await client.request('POST', api, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_ERROR');
    }
    expect((await client.request('GET', api)).json()).toEqual([]);

    const { id } = await createWebhook(client, good);
    for (const body of [{ url: 'gopher://x' }, { eventTypes: ['nope'] }, { eventTypes: [] }]) {
      const response = await client.request('PATCH', `${api}/${id}`, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_ERROR');
    }
    expect((await client.request('GET', `${api}/NOT-AN-ID`)).statusCode).toBe(400);
    expect((await client.request('GET', `${api}/${id}/deliveries?limit=0`)).statusCode).toBe(400);
    expect((await client.request('GET', `${api}/${id}`)).json()).toMatchObject(good);
  });

  it('refuses loopback and private targets unless they are allowed', async () => {
    const ctx = await testContext({ env: { INBOX_WEBHOOK_ALLOW_PRIVATE: '0' } });
    const app = await buildServer(ctx);
    onTestFinished(() => app.close());
    const client = await team(app);
    const privateUrls = [
      'http://127.0.0.1:8080/hook',
      'http://127.9.9.9/',
      'http://localhost:3000/',
      'http://api.localhost/',
      'http://LOCALHOST./',
      'http://10.1.2.3/',
      'http://172.16.0.1/',
      'http://172.31.255.255/',
      'https://192.168.1.10/',
      'http://169.254.169.254/latest/meta-data',
      'http://0.0.0.0/',
      'http://2130706433/',
      'http://[::1]/',
      'http://[::]/',
      'http://[fd12:3456::1]/',
      'http://[fe80::1]/',
      'http://[::ffff:127.0.0.1]/',
      // carrier-grade NAT (the cloud metadata address 100.100.100.200), benchmarking, IETF, reserved,
      // multicast and broadcast ranges, documentation, and v6 forms that embed a private v4 address
      'http://100.100.100.200/latest/meta-data',
      'http://[::ffff:100.100.100.200]/',
      'http://100.64.0.1/',
      'http://198.18.0.1/',
      'http://192.0.0.8/',
      'http://240.0.0.1/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
      'http://[2001:db8::1]/',
      'http://[::127.0.0.1]/',
      'http://[64:ff9b::7f00:1]/',
      'http://[2002:7f00:1::1]/',
      'http://[ff02::1]/',
    ];
    for (const url of privateUrls) {
      const response = await client.request('POST', api, { url, eventTypes: ['*'] });
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_ERROR');
    }
    for (const url of ['https://example.com/', 'http://172.32.0.1/', 'http://8.8.8.8/', 'http://[2606:4700::1111]/']) {
      expect((await client.request('POST', api, { url, eventTypes: ['*'] })).statusCode, url).toBe(200);
    }
    const { id } = await createWebhook(client, { url: 'https://example.com/a', eventTypes: ['*'] });
    expect((await client.request('PATCH', `${api}/${id}`, { url: 'http://10.0.0.1/' })).statusCode).toBe(400);

    // The default test context allows them (the receivers in these tests listen on 127.0.0.1).
    const allowed = await team();
    expect((await allowed.request('POST', api, { url: 'http://127.0.0.1:9/', eventTypes: ['*'] })).statusCode).toBe(200);
  });

  it('queues deliveries by exact type, category or "*", and none for disabled webhooks', async () => {
    const client = await team();
    const hook = async (eventTypes: string[], enabled = true) =>
      (await createWebhook(client, { url: 'http://127.0.0.1:9/', eventTypes, enabled })).id;
    const exact = await hook(['tag.created']);
    const category = await hook(['tag']);
    const other = await hook(['status', 'thread.created']);
    const all = await hook(['*']);
    const disabled = await hook(['*'], false);

    const tag = (await client.request('POST', '/api/v1/tags', { name: 'A' })).json();
    await client.request('PATCH', `/api/v1/tags/${tag.id}`, { name: 'B' });
    await client.request('POST', '/api/v1/statuses', { name: 'Won' });
    await fanOut();

    const types = async (id: string) => (await deliveries(client, id)).deliveries.map((d) => d.eventType);
    expect(await types(exact)).toEqual(['tag.created']);
    expect(await types(category)).toEqual(['tag.updated', 'tag.created']);
    expect(await types(other)).toEqual(['status.created']);
    expect(await types(all)).toEqual(['status.created', 'tag.updated', 'tag.created']);
    expect(await types(disabled)).toEqual([]);

    const first = await deliveries(client, all, '?limit=2');
    expect(first.deliveries.map((d) => d.seq)).toEqual([3, 2]);
    expect(first).toMatchObject({ hasMore: true, lastSeq: 2 });
    const second = await deliveries(client, all, `?limit=2&beforeSeq=${first.lastSeq}`);
    expect(second).toMatchObject({ hasMore: false, lastSeq: 1 });
    expect(second.deliveries[0]).toMatchObject({ seq: 1, eventType: 'tag.created', status: 'pending', attempts: 0, lastStatusCode: null, lastError: null });
    expect((await deliveries(client, all, '?status=delivered')).deliveries).toEqual([]);
  });

  it('deletes webhooks while events are being emitted for them without a server error (bench:api found a 500)', async () => {
    const client = await team();
    for (let round = 0; round < 5; round++) {
      const hooks = [];
      for (let i = 0; i < 10; i++) hooks.push(await createWebhook(client, { url: `https://hooks.example.com/${i}`, eventTypes: ['*'] }));
      // The dispatcher's fan-out runs among them, queueing deliveries for the webhooks being deleted.
      const [answers] = await Promise.all([
        Promise.all([
          ...Array.from({ length: 40 }, (_, i) => client.request('POST', '/api/v1/tags', { name: `racing ${round} ${i}` })),
          ...hooks.map((h) => client.request('DELETE', `${api}/${h.id}`)),
        ]),
        ...Array.from({ length: 5 }, fanOut),
      ]);
      expect(answers.map((a) => a.statusCode).filter((code) => code >= 500)).toEqual([]);
    }
    const { db } = await sharedStore();
    const orphans = await db.selectFrom('webhook_deliveries').select('id').where('team_id', '=', client.teamId).execute();
    expect(orphans).toEqual([]);
  });

  it('keeps each team’s webhooks and events to itself', async () => {
    const [a, b] = [await team(), await team()];
    const { id } = await createWebhook(a, { url: 'http://127.0.0.1:9/', eventTypes: ['*'] });
    expect((await b.request('GET', api)).json()).toEqual([]);
    for (const [method, url, body] of [
      ['GET', `${api}/${id}`],
      ['PATCH', `${api}/${id}`, { enabled: false }],
      ['GET', `${api}/${id}/deliveries`],
      ['DELETE', `${api}/${id}`],
    ] as const) {
      const response = await b.request(method, url, body);
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      expect(response.json().error.code).toBe('WEBHOOK_NOT_FOUND');
    }
    await b.request('POST', '/api/v1/tags', { name: 'B only' });
    expect((await deliveries(a, id)).deliveries).toEqual([]);
    expect((await a.request('GET', `${api}/${id}`)).json().enabled).toBe(true);
  });
});

describe('webhook fan-out', () => {
  /** Each webhook's queued deliveries as [seq, type], oldest first. */
  async function queued(webhookIds: string[]): Promise<Map<string, Array<[number, string]>>> {
    const { db } = await sharedStore();
    const rows = await db.selectFrom('webhook_deliveries').select(['webhook_id', 'event_seq', 'event_type']).where('webhook_id', 'in', webhookIds).orderBy('event_seq').execute();
    return new Map(webhookIds.map((id) => [id, rows.filter((r) => r.webhook_id === id).map((r) => [r.event_seq, r.event_type] as [number, string])]));
  }

  it('writes no delivery in the transaction that emits an event, however many webhooks the team has; the fan-out queues one per webhook, once', async () => {
    const client = await team();
    const hooks = [];
    for (let i = 0; i < 60; i++) hooks.push((await createWebhook(client, { url: `https://hooks.example.com/${i}`, eventTypes: ['*'] })).id);
    const { db } = await sharedStore();
    const { events } = await client.request('POST', '/api/v1/tags', { name: 'Sixty' }).then(() => client.request('GET', '/api/v1/events')).then((r) => r.json());
    expect(events.map((e: { type: string }) => e.type)).toEqual(['tag.created']);
    expect(await db.selectFrom('webhook_deliveries').select('id').where('team_id', '=', client.teamId).execute()).toEqual([]);

    await fanOut();
    await fanOut();
    const all = await queued(hooks);
    for (const id of hooks) expect(all.get(id)).toEqual([[1, 'tag.created']]);
  });

  it('gives a webhook only the events after it was created, and decides the ones before a change of its types under the old ones', async () => {
    const client = await team();
    const first = (await createWebhook(client, { url: 'https://hooks.example.com/first', eventTypes: ['tag'] })).id;
    await tagEvents(client, 1);
    const second = (await createWebhook(client, { url: 'https://hooks.example.com/second', eventTypes: ['*'] })).id;
    await client.request('POST', '/api/v1/statuses', { name: 'Won' });
    // Types changed before the dispatcher saw the events: tag.created was emitted while it wanted tags.
    await client.request('PATCH', `${api}/${first}`, { eventTypes: ['status'] });
    await client.request('POST', '/api/v1/tags', { name: 'after the change' });
    await client.request('POST', '/api/v1/statuses', { name: 'Lost' });
    await fanOut();
    const all = await queued([first, second]);
    expect(all.get(first)).toEqual([
      [1, 'tag.created'],
      [4, 'status.created'],
    ]);
    expect(all.get(second)).toEqual([
      [2, 'status.created'],
      [3, 'tag.created'],
      [4, 'status.created'],
    ]);
    // A deleted webhook is given nothing more, and takes its queue with it.
    await client.request('DELETE', `${api}/${second}`);
    await tagEvents(client, 1);
    await fanOut();
    expect((await queued([second])).get(second)).toEqual([]);
  });

  it('is bounded a pass and keeps each webhook’s queue in seq order, a prefix of the log after every pass', async () => {
    const client = await team();
    const hooks = [];
    for (let i = 0; i < 60; i++) hooks.push((await createWebhook(client, { url: `https://hooks.example.com/${i}`, eventTypes: ['*'] })).id);
    await tagEvents(client, 40);
    const { db } = await sharedStore();
    let passes = 0;
    for (let more = true; more; passes++) {
      const pass = await fanOutPass(db, new Date());
      more = pass.more;
      expect(pass.written).toBeLessThanOrEqual(1_000);
      const seqs = [...(await queued(hooks)).values()].map((q) => q.map(([seq]) => seq));
      for (const q of seqs) expect(q).toEqual(seqs[0]!.map((_, i) => i + 1));
    }
    expect(passes).toBe(3);
    for (const q of (await queued(hooks)).values()) expect(q).toHaveLength(40);
  });

  it('queues a webhook at most QUEUE_AHEAD events past its oldest undelivered one, and the next ones as it is delivered', async () => {
    const { clock, ctx, dispatcher, team: client } = await rig();
    const r = await receiver();
    const { id } = await createWebhook(client, { url: r.url, eventTypes: ['*'] });
    // One that wants none of these events has nothing pending: nothing holds it back.
    const rareReceiver = await receiver();
    const rare = await createWebhook(client, { url: rareReceiver.url, eventTypes: ['status'] });
    const emitted = QUEUE_AHEAD + 50;
    const fanOut = () => fanOutAll(ctx.db, clock.now());
    const cursorOf = async (webhookId: string) => (await ctx.db.selectFrom('webhooks').select('fanned_out_seq').where('id', '=', webhookId).executeTakeFirstOrThrow()).fanned_out_seq;
    await tagEvents(client, emitted);
    const seqs = async () => (await queued([id])).get(id)!.map(([seq]) => seq);
    const from = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);
    // Nothing behind seq 1 can be delivered before it: the queue stops there, and passes find nothing to do.
    await fanOut();
    expect(await seqs()).toEqual(from(1, QUEUE_AHEAD));
    expect(await cursorOf(rare.id)).toBe(emitted);
    expect(await fanOutPass(ctx.db, clock.now())).toEqual({ written: 0, more: false });
    // Each delivered head makes room for one more.
    expect(await dispatcher.runOnce()).toBe(1);
    expect(await dispatcher.runOnce()).toBe(1);
    expect(r.seqs()).toEqual([1, 2]);
    expect(await seqs()).toEqual(from(1, QUEUE_AHEAD + 1));
    // Disabling queues what was emitted while it was on as far as its queue reaches; the rest stays in the log.
    await client.request('PATCH', `${api}/${id}`, { enabled: false });
    expect(await seqs()).toEqual(from(1, QUEUE_AHEAD + 2));
    const newest = await deliveries(client, id, '?limit=100');
    const older = await deliveries(client, id, `?limit=100&beforeSeq=${newest.lastSeq}`);
    expect([...newest.deliveries, ...older.deliveries].map((d) => d.seq)).toEqual(from(1, QUEUE_AHEAD + 2).reverse());
    // Enabled again, it goes on with its queue and then with the events from then on.
    await client.request('PATCH', `${api}/${id}`, { enabled: true });
    await client.request('POST', '/api/v1/statuses', { name: 'after' });
    expect(await drain(dispatcher)).toBe(QUEUE_AHEAD + 2);
    expect(r.seqs()).toEqual([...from(1, QUEUE_AHEAD + 2), emitted + 1]);
    expect(rareReceiver.seqs()).toEqual([emitted + 1]);
  });

  it('queues each (webhook, event) exactly once when processes on their own connections fan out at once while events are emitted', async () => {
    const shared = (await sharedStore()) as FreshStore;
    // On PostgreSQL, two more processes' worth of connections; the embedded store serves one process only.
    const others = shared.url ? await Promise.all([1, 2].map(() => openStore({ kind: 'postgres', url: shared.url!, poolSize: 2 }))) : [];
    onTestFinished(() => Promise.all(others.map((o) => o.close())).then(() => undefined));
    const dbs = [shared.db, ...others.map((o) => o.db)];
    const clients = [await team(), await team(), await team()];
    const hooks = new Map<string, string[]>();
    for (const client of clients) {
      const ids = [];
      for (let i = 0; i < 15; i++) ids.push((await createWebhook(client, { url: `https://hooks.example.com/${i}`, eventTypes: ['*'] })).id);
      hooks.set(client.teamId, ids);
    }
    let attempted = 0;
    const fanningOut = async (db: (typeof dbs)[number], rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        const { written } = await fanOutPass(db, new Date());
        attempted += written;
      }
    };
    await Promise.all([
      ...clients.map((client) => tagEvents(client, 30)),
      ...dbs.map((db) => fanningOut(db, 20)),
    ]);
    for (const db of dbs) {
      const written = await fanOutAll(db, new Date());
      attempted += written;
    }
    const all = await queued([...hooks.values()].flat());
    for (const ids of hooks.values()) for (const id of ids) expect(all.get(id)!.map(([seq]) => seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // No pass tried to queue a delivery another had queued (the unique constraint would have hidden it).
    expect(attempted).toBe(3 * 15 * 30);
  });
});

describe('webhook delivery', () => {
  it('POSTs the event envelope signed per Standard Webhooks', async () => {
    const { dispatcher, team: client } = await rig();
    const r = await receiver();
    const { id, secret } = await createWebhook(client, { url: r.url, eventTypes: ['tag'] });
    await tagEvents(client, 1);

    expect(await drain(dispatcher)).toBe(1);
    const [event] = (await client.request('GET', '/api/v1/events')).json().events;
    expect(r.received).toHaveLength(1);
    const { headers, body } = r.received[0]!;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['webhook-id']).toBe(event.id);
    const verified = new Webhook(secret).verify(body, headers as Record<string, string>);
    expect(verified).toEqual(event);
    expect(event).toMatchObject({ seq: 1, teamId: client.teamId, type: 'tag.created', version: '1.0' });
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(body, headers as Record<string, string>)).toThrow();

    const [delivery] = (await deliveries(client, id)).deliveries;
    expect(delivery).toMatchObject({ eventId: event.id, status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    expect(delivery!.completedAt).toEqual(expect.any(String));
  });

  it('keeps seq order per endpoint while an endpoint fails, then catches up', async () => {
    const { clock, dispatcher, team: client } = await rig();
    const r = await receiver((_request, index) => (index < 2 ? 500 : 204));
    const { id } = await createWebhook(client, { url: r.url, eventTypes: ['*'] });
    await tagEvents(client, 3);

    expect(await drain(dispatcher)).toBe(1);
    // seq 1 waits 5 s for its retry, and seqs 2 and 3 wait behind it.
    expect(await drain(dispatcher)).toBe(0);
    clock.advance(4_999);
    expect(await drain(dispatcher)).toBe(0);
    clock.advance(1);
    expect(await drain(dispatcher)).toBe(1);
    const waiting = await deliveries(client, id);
    expect(waiting.deliveries.map((d) => [d.seq, d.status, d.attempts])).toEqual([
      [3, 'pending', 0],
      [2, 'pending', 0],
      [1, 'pending', 2],
    ]);
    expect(waiting.deliveries[2]).toMatchObject({ lastStatusCode: 500, lastError: 'HTTP 500' });
    expect(Date.parse(waiting.deliveries[2]!.nextAttemptAt!)).toBe(clock.now().getTime() + 30_000);

    clock.advance(30_000);
    expect(await drain(dispatcher)).toBe(3);
    expect(r.seqs()).toEqual([1, 1, 1, 2, 3]);
    expect((await deliveries(client, id)).deliveries.map((d) => [d.seq, d.status, d.lastStatusCode])).toEqual([
      [3, 'delivered', 204],
      [2, 'delivered', 204],
      [1, 'delivered', 204],
    ]);
  });

  it('backs off for six hours after the first attempt, then marks the delivery failed and moves on', async () => {
    const { clock, dispatcher, team: client } = await rig();
    const r = await receiver(() => 503);
    const { id } = await createWebhook(client, { url: r.url, eventTypes: ['tag'] });
    await tagEvents(client, 2);
    const start = clock.now().getTime();

    const attemptTimes: number[] = [];
    for (;;) {
      expect(await dispatcher.runOnce()).toBe(1);
      attemptTimes.push(clock.now().getTime() - start);
      const head = (await deliveries(client, id)).deliveries.find((d) => d.seq === 1)!;
      if (head.status !== 'pending') break;
      clock.set(new Date(head.nextAttemptAt!));
    }
    const s = 1_000;
    const gaps = attemptTimes.slice(1).map((t, i) => t - attemptTimes[i]!);
    expect(gaps).toEqual([5 * s, 30 * s, 120 * s, 600 * s, 1_800 * s, 3_600 * s, 3_600 * s, 3_600 * s, 3_600 * s, 3_600 * s, 1_045 * s]);
    expect(attemptTimes.at(-1)).toBe(6 * 3_600 * s);

    const [second, first] = (await deliveries(client, id)).deliveries;
    expect(first).toMatchObject({ seq: 1, status: 'failed', attempts: 12, lastStatusCode: 503, lastError: 'HTTP 503', nextAttemptAt: null });
    expect(first!.completedAt).toBe(clock.now().toISOString());
    expect(second).toMatchObject({ seq: 2, status: 'pending', attempts: 0 });
    expect(await dispatcher.runOnce()).toBe(1);
    expect(r.seqs().at(-1)).toBe(2);
    expect((await deliveries(client, id, '?status=failed')).deliveries.map((d) => d.seq)).toEqual([1]);
  });

  it('does not let a hanging endpoint hold up other endpoints or the API', async () => {
    const { dispatcher, team: client } = await rig({ requestTimeoutMs: 60_000, pollIntervalMs: 20 });
    const slow = await receiver(() => 'hang');
    const fast = await receiver();
    const dead = await startReceiver();
    await dead.close();
    const slowHook = await createWebhook(client, { url: slow.url, eventTypes: ['*'] });
    await createWebhook(client, { url: fast.url, eventTypes: ['*'] });
    const deadHook = await createWebhook(client, { url: dead.url, eventTypes: ['*'] });

    dispatcher.start();
    onTestFinished(() => dispatcher.stop());
    await tagEvents(client, 4);
    const deadAttempted = async () => (await deliveries(client, deadHook.id)).deliveries.at(-1)!.lastError !== null;
    await until(async () => fast.received.length === 4 && (await deadAttempted()));
    expect(fast.seqs()).toEqual([1, 2, 3, 4]);
    expect(slow.seqs()).toEqual([1]);

    const api0 = Date.now();
    expect((await client.request('GET', `${api}/${slowHook.id}/deliveries`)).statusCode).toBe(200);
    expect(Date.now() - api0).toBeLessThan(1_000);
    const deadHead = (await deliveries(client, deadHook.id)).deliveries.at(-1);
    expect(deadHead).toMatchObject({ seq: 1, status: 'pending', attempts: 1, lastStatusCode: null, lastError: expect.stringContaining('ECONNREFUSED') });

    // Closing the hanging endpoint fails its attempt; stop() waits for that to be recorded.
    await slow.close();
    await dispatcher.stop();
    expect((await deliveries(client, slowHook.id)).deliveries.at(-1)).toMatchObject({ seq: 1, status: 'pending', attempts: 1, lastError: expect.any(String) });
  });

  it('times out a slow endpoint and retries it later', async () => {
    const { dispatcher, team: client } = await rig({ requestTimeoutMs: 200 });
    const r = await receiver((_request, index) => (index === 0 ? 'hang' : 200));
    const { id } = await createWebhook(client, { url: r.url, eventTypes: ['*'] });
    await tagEvents(client, 1);
    expect(await dispatcher.runOnce()).toBe(1);
    expect((await deliveries(client, id)).deliveries[0]).toMatchObject({ status: 'pending', attempts: 1, lastError: 'timed out after 200 ms' });
  });

  it('shares the queue between dispatchers without delivering an event twice', async () => {
    const { ctx, dispatcher, team: client } = await rig();
    const other = new WebhookDispatcher(ctx, { random: () => 0.5 });
    const receivers = [await receiver(), await receiver()];
    for (const r of receivers) await createWebhook(client, { url: r.url, eventTypes: ['*'] });
    await tagEvents(client, 5);
    for (;;) {
      const [a, b] = await Promise.all([dispatcher.runOnce(), other.runOnce()]);
      if (a + b === 0) break;
    }
    for (const r of receivers) expect(r.seqs()).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses at delivery time a host that resolves to a private address', async () => {
    const allowed = await rig();
    const r = await receiver();
    const { id } = await createWebhook(allowed.team, { url: r.url.replace('127.0.0.1', 'localhost'), eventTypes: ['*'] });
    await tagEvents(allowed.team, 1);
    const strict = new WebhookDispatcher(await testContext({ clock: allowed.clock, env: { INBOX_WEBHOOK_ALLOW_PRIVATE: '0' } }));
    expect(await strict.runOnce()).toBe(1);
    expect(r.received).toEqual([]);
    expect((await deliveries(allowed.team, id)).deliveries[0]).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'refused: localhost resolves to a private address',
    });
  });

  it('resolves a name once an attempt and refuses it when the answer is private, so a rebinding name reaches nothing', async () => {
    const allowed = await rig();
    const r = await receiver();
    const port = new URL(r.url).port;
    const { id } = await createWebhook(allowed.team, { url: `http://rebind.example:${port}/hook`, eventTypes: ['*'] });
    await tagEvents(allowed.team, 1);
    // An attacker's DNS server answering 127.0.0.1, where the receiver listens. (No test here may connect to
    // a public address, so the public first answer of a real rebinding is left out: what matters is that the
    // answer checked is the one connected to, which the next test shows.)
    let lookups = 0;
    const rebinding = async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const strictContext = await testContext({ clock: allowed.clock, env: { INBOX_WEBHOOK_ALLOW_PRIVATE: '0' } });
    const strict = new WebhookDispatcher(strictContext, { resolve: rebinding, requestTimeoutMs: 2_000 });
    onTestFinished(() => strict.stop());
    expect(await strict.runOnce()).toBe(1);
    allowed.clock.advance(60 * 60_000);
    expect(await strict.runOnce()).toBe(1);
    expect(r.received).toEqual([]);
    expect(lookups).toBe(2);
    expect((await deliveries(allowed.team, id)).deliveries[0]).toMatchObject({
      status: 'pending',
      attempts: 2,
      lastStatusCode: null,
      lastError: 'refused: rebind.example resolves to a private address',
    });
  });

  it('connects to the very address the resolver gave (no second lookup)', async () => {
    const { team: client } = await rig();
    const r = await receiver();
    const port = new URL(r.url).port;
    await createWebhook(client, { url: `http://hooks.example:${port}/hook`, eventTypes: ['*'] });
    await tagEvents(client, 1);
    const dispatcher = new WebhookDispatcher(await testContext({}), { resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    onTestFinished(() => dispatcher.stop());
    expect(await drain(dispatcher)).toBeGreaterThanOrEqual(1);
    expect(r.seqs()).toContain(1);
  });

  it('pauses a disabled webhook’s queue and resumes it when enabled again', async () => {
    const { dispatcher, team: client } = await rig();
    const r = await receiver();
    const { id } = await createWebhook(client, { url: r.url, eventTypes: ['*'] });
    await tagEvents(client, 1);
    await client.request('PATCH', `${api}/${id}`, { enabled: false });
    await client.request('POST', '/api/v1/statuses', { name: 'while disabled' });
    expect(await drain(dispatcher)).toBe(0);
    await client.request('PATCH', `${api}/${id}`, { enabled: true });
    expect(await drain(dispatcher)).toBe(1);
    expect(r.seqs()).toEqual([1]);
  });
});

describe('webhook endpoints that fail', () => {
  it('hold at most a quarter of the dispatcher\'s slots, so endpoints that answer are not starved by dead ones', async () => {
    const { clock, dispatcher, team: client } = await rig({ concurrency: 4, requestTimeoutMs: 60_000, pollIntervalMs: 20 });
    // Six endpoints that fail once (500) and then hang until closed, as a dead host that times out does.
    const dead = await Promise.all(Array.from({ length: 6 }, () => receiver((_request, index) => (index === 0 ? 500 : 'hang'))));
    const deadHooks = [];
    for (const r of dead) deadHooks.push(await createWebhook(client, { url: r.url, eventTypes: ['tag'] }));
    await tagEvents(client, 1);
    expect(await drain(dispatcher)).toBe(6);
    const shown = (await client.request('GET', `${api}/${deadHooks[0]!.id}`)).json();
    expect(shown.failingSince).toBe(clock.now().toISOString());

    // Their retries come due before the live endpoint's first event: they used to take every slot for a minute.
    const live = await receiver();
    await createWebhook(client, { url: live.url, eventTypes: ['tag'] });
    clock.advance(6_000);
    const tag = (await client.request('GET', '/api/v1/tags')).json()[0];
    await client.request('PATCH', `/api/v1/tags/${tag.id}`, { name: 'renamed' });
    dispatcher.start();
    onTestFinished(() => dispatcher.stop());
    await until(() => live.received.length === 1);
    expect(live.seqs()).toEqual([2]);
    // One failing endpoint's retry is in flight (a quarter of four slots), the others wait their turn.
    expect(dead.reduce((n, r) => n + r.received.length, 0)).toBe(7);
    for (const r of dead) await r.close();
    await dispatcher.stop();
  });

  it('are switched off after three days of failures, with the reason on the webhook; enabling starts afresh', async () => {
    const { clock, dispatcher, team: client } = await rig();
    let answer = 503;
    const r = await receiver(() => answer);
    const { id } = await createWebhook(client, { url: r.url, eventTypes: ['tag'] });
    await tagEvents(client, 1);
    const firstFailure = clock.now().toISOString();
    expect(await dispatcher.runOnce()).toBe(1);
    expect((await client.request('GET', `${api}/${id}`)).json()).toMatchObject({ enabled: true, failingSince: firstFailure, disabledReason: null });

    clock.advance(3 * 24 * 3_600_000);
    expect(await dispatcher.runOnce()).toBe(1);
    const off = (await client.request('GET', `${api}/${id}`)).json();
    expect(off).toMatchObject({ enabled: false, failingSince: firstFailure, disabledAt: clock.now().toISOString() });
    expect(off.disabledReason).toBe(`every delivery has failed since ${firstFailure} (last: HTTP 503)`);
    // ... and says so in the event log, once, with the webhook as it now is (so the team's other hooks and pages learn why).
    const announced = (await client.request('GET', '/api/v1/events?limit=100')).json().events.filter((e: { type: string }) => e.type === 'webhook.disabled');
    expect(announced.map((e: { data: unknown }) => e.data)).toEqual([{ webhook: off }]);
    expectContract('GET', '/events', (await client.request('GET', '/api/v1/events?limit=100')).json());
    // Switched off, it gets no new deliveries.
    await client.request('POST', '/api/v1/tags', { name: 'while off' });
    expect((await deliveries(client, id)).deliveries.map((d) => d.status)).toEqual(['failed']);

    const on = (await client.request('PATCH', `${api}/${id}`, { enabled: true })).json();
    expect(on).toMatchObject({ enabled: true, failingSince: null, disabledReason: null, disabledAt: null });
    answer = 500;
    await client.request('POST', '/api/v1/tags', { name: 'failing again' });
    expect(await dispatcher.runOnce()).toBe(1);
    expect((await client.request('GET', `${api}/${id}`)).json().failingSince).toBe(clock.now().toISOString());
    // One delivered attempt ends the streak.
    answer = 200;
    clock.advance(5_000);
    expect(await dispatcher.runOnce()).toBe(1);
    expect((await client.request('GET', `${api}/${id}`)).json()).toMatchObject({ enabled: true, failingSince: null });
  });
});

describe('webhook signing secrets', () => {
  const KEY = Buffer.alloc(32, 9).toString('base64');

  it('are sealed at rest with INBOX_SECRET_KEY, sign deliveries as shown, and cannot be used without the key', async () => {
    const { dispatcher, team: client } = await rig({}, { INBOX_SECRET_KEY: KEY });
    const r = await receiver();
    const { id, secret } = await createWebhook(client, { url: r.url, eventTypes: ['tag'] });
    const { db } = await sharedStore();
    const stored = (await db.selectFrom('webhooks').select('secret').where('id', '=', id).executeTakeFirstOrThrow()).secret;
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain(secret.slice('whsec_'.length, 20));
    await tagEvents(client, 1);
    expect(await drain(dispatcher)).toBe(1);
    expect(() => new Webhook(secret).verify(r.received[0]!.body, r.received[0]!.headers as Record<string, string>)).not.toThrow();

    // A server started without the key cannot sign with a sealed secret: the attempt fails, saying why.
    const keyless = new WebhookDispatcher(await testContext({ clock: new TestClock() }), { random: () => 0.5 });
    await client.request('POST', '/api/v1/tags', { name: 'second' });
    expect(await keyless.runOnce()).toBe(1);
    expect((await deliveries(client, id)).deliveries[0]).toMatchObject({ status: 'pending', lastError: 'the signing secret is sealed and INBOX_SECRET_KEY is not set' });
    expect(r.received).toHaveLength(1);
  });

  it('stored in clear (created without a key) are sealed at the next start with one, and keep signing the same', async () => {
    const { clock, team: client } = await rig();
    const r = await receiver();
    const { id, secret } = await createWebhook(client, { url: r.url, eventTypes: ['tag'] });
    const { db } = await sharedStore();
    const storedSecret = async () => (await db.selectFrom('webhooks').select('secret').where('id', '=', id).executeTakeFirstOrThrow()).secret;
    expect(await storedSecret()).toBe(secret);
    expect(await sealWebhookSecrets(db, Buffer.from(KEY, 'base64'))).toBeGreaterThanOrEqual(1);
    expect(await storedSecret()).toMatch(/^v1\./);
    expect(await sealWebhookSecrets(db, Buffer.from(KEY, 'base64'))).toBe(0);

    const keyed = new WebhookDispatcher(await testContext({ clock, env: { INBOX_SECRET_KEY: KEY } }), { random: () => 0.5 });
    await tagEvents(client, 1);
    expect(await drain(keyed)).toBe(1);
    expect(() => new Webhook(secret).verify(r.received[0]!.body, r.received[0]!.headers as Record<string, string>)).not.toThrow();
  });
});

describe('stored payloads', () => {
  it('stores the events that show one prospect as one row, each shared object once, and replays and delivers every payload exactly as emitted', async () => {
    const { dispatcher, ctx, clock, team: client } = await rig();
    const r = await receiver();
    await createWebhook(client, { url: r.url, eventTypes: ['*'] });
    const prospect = { platformId: '7001', displayName: 'Ada', context: { tags: [], notes: null } };
    const other = { ...prospect, displayName: 'Ada L.' };
    const message = { id: 'm1', content: 'Hello there' };
    const thread = (shown: object, lastMessage: object | null) => ({ id: 't1', lastMessage, prospect: shown, status: 'active' });
    const sent = thread(prospect, { id: 'm1' });
    const emitted = [
      { type: 'thread.created', data: { thread: thread(prospect, null), prospect } },
      { type: 'message.created', data: { message, thread: sent } },
      { type: 'target.contacted', data: { campaign: { id: 'c1' }, thread: sent, prospect, message, step: { rank: 1 } } },
      // The two slots disagree (an automation ran in between, say): a group of its own, kept inline.
      { type: 'target.followUpSent', data: { thread: thread(other, null), prospect } },
      // Another prospect: another group.
      { type: 'prospect.created', data: { prospect: { ...prospect, platformId: '7002' } } },
    ] as const;
    await ctx.db.transaction().execute((trx) => emitEvents(trx, client.teamId, emitted.map((e) => ({ type: e.type, data: e.data })), clock.now()));

    const groups = await ctx.db.selectFrom('event_groups').select(['first_seq', 'last_seq', 'data']).where('team_id', '=', client.teamId).orderBy('last_seq').execute();
    expect(groups.map((g) => [g.first_seq, g.last_seq])).toEqual([
      [1, 3],
      [4, 4],
      [5, 5],
    ]);
    const firstGroup = JSON.stringify(groups[0]!.data);
    for (const once of ['"displayName":"Ada"', '"content":"Hello there"', '"lastMessage":{"id":"m1"}']) expect(firstGroup.split(once)).toHaveLength(2);

    const replayed = (await client.request('GET', '/api/v1/events')).json().events as Array<{ data: unknown }>;
    expect(await drain(dispatcher)).toBe(emitted.length);
    const delivered = r.received.map((request) => JSON.parse(request.body) as { data: unknown });
    for (const events of [replayed, delivered]) {
      // Compared as text: the keys come back in their places too.
      expect(events.map((e) => JSON.stringify(e.data))).toEqual(emitted.map((e) => JSON.stringify(e.data)));
    }
    // A replay may start and stop inside a group.
    const page = (await client.request('GET', '/api/v1/events?afterSeq=1&limit=1')).json();
    expect(page).toMatchObject({ hasMore: true, lastSeq: 2 });
    expect(page.events.map((e: { seq: number }) => e.seq)).toEqual([2]);
    const rest = (await client.request('GET', '/api/v1/events?afterSeq=2&limit=3')).json();
    expect(rest).toMatchObject({ hasMore: false, lastSeq: 5 });
    expect(rest.events.map((e: { seq: number }) => e.seq)).toEqual([3, 4, 5]);
  });
});

describe('maintenance', () => {
  it('prunes events past the 7-day retention with their deliveries, and stale rate-limit counters', async () => {
    // Far in the past, so that pruning cannot touch what other tests sharing the store create.
    const clock = new TestClock(new Date('2000-01-10T00:00:00.000Z'));
    const ctx = await testContext({ clock });
    const client = await team();
    const { id } = await createWebhook(client, { url: 'http://127.0.0.1:9/', eventTypes: ['*'] });
    for (const at of ['2000-01-02T23:59:59.999Z', '2000-01-03T00:00:00.000Z']) {
      const prospect = { platformId: at };
      await ctx.db.transaction().execute((trx) => emitEvent(trx, client.teamId, 'thread.created', { thread: { prospect }, prospect }, new Date(at)));
    }
    const windows = rateLimitWindows(ctx.config);
    const stale = new Date('2000-01-01T00:00:00.000Z');
    await consumeRateLimit(ctx.db, client.teamId, windows, stale);
    await consumeRateLimit(ctx.db, client.teamId, windows, clock.now());
    await fanOut();

    await new Maintenance(ctx).runOnce();
    const groups = await ctx.db.selectFrom('event_groups').select('last_seq').where('team_id', '=', client.teamId).execute();
    expect(groups.map((g) => g.last_seq)).toEqual([2]);
    expect((await deliveries(client, id)).deliveries.map((d) => d.seq)).toEqual([2]);
    const buckets = await ctx.db.selectFrom('rate_limit_buckets').select(['window_seconds', 'bucket']).where('team_id', '=', client.teamId).execute();
    const has = (at: Date) => windows.map((w) => buckets.some((b) => b.window_seconds === w.seconds && b.bucket === Math.floor(at.getTime() / 1000 / w.seconds)));
    expect(has(stale)).toEqual([false, false, false]);
    expect(has(clock.now())).toEqual([true, true, true]);
  });
});
