import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStreams, type EventStreamOptions } from '../src/app/events/stream.js';
import { emitEvents } from '../src/app/events/events.js';
import { Maintenance } from '../src/app/workers/maintenance.js';
import { buildServer } from '../src/http/server.js';
import { openStore, type Db, type Store } from '../src/store/db.js';
import { postgresNotifications } from '../src/store/notifications.js';
import { newTeam, testContext, type TeamClient } from './helpers/app.js';
import { freshStore, type FreshStore } from './helpers/fresh-store.js';
import { ok } from './helpers/sandbox.js';
import { browser, ownerCredentials } from './helpers/session.js';
import { sharedStore } from './helpers/store.js';

interface Frame {
  id?: string;
  event?: string;
  data?: any;
  comment?: string;
}

/** A real HTTP client reading the stream as it comes. */
interface StreamClient {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  frames: Frame[];
  /** resolves when the server ended the connection */
  ended: Promise<void>;
  until(test: (frames: Frame[]) => boolean, what: string): Promise<Frame[]>;
  close(): void;
}

const events = (frames: Frame[]) => frames.filter((f) => f.event);
const seqs = (frames: Frame[]) => events(frames).map((f) => Number(f.id));

function parse(block: string): Frame {
  const frame: Frame = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) frame.comment = line.slice(1).trim();
    else if (line.startsWith('id: ')) frame.id = line.slice(4);
    else if (line.startsWith('event: ')) frame.event = line.slice(7);
    else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6));
  }
  return frame;
}

function openStream(base: string, token: string | null, { path = '/api/v1/events/stream', headers = {}, read = true } = {}): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const auth = token === null ? {} : { authorization: `Bearer ${token}` };
    const req = http.get(`${base}${path}`, { headers: { ...auth, ...headers } }, (res) => {
      let text = '';
      const frames: Frame[] = [];
      const waiters = new Set<() => void>();
      let endedResolve!: () => void;
      const ended = new Promise<void>((r) => (endedResolve = r));
      res.on('close', endedResolve);
      res.on('error', () => {});
      res.setEncoding('utf8');
      if (read) {
        res.on('data', (chunk: string) => {
          text += chunk;
          for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
            frames.push(parse(text.slice(0, end)));
            text = text.slice(end + 2);
          }
          for (const wake of waiters) wake();
        });
      } else res.pause();
      const client: StreamClient = {
        status: res.statusCode!,
        headers: res.headers,
        get body() {
          return text;
        },
        frames,
        ended,
        until: (test, what) =>
          new Promise((done, fail) => {
            const timer = setTimeout(() => fail(new Error(`timed out waiting for ${what}; got ${JSON.stringify(frames)}`)), 10_000);
            const check = () => {
              if (!test(frames)) return;
              clearTimeout(timer);
              waiters.delete(check);
              done(frames);
            };
            waiters.add(check);
            check();
          }),
        close: () => req.destroy(),
      };
      if (res.statusCode === 200) resolve(client);
      else res.on('end', () => resolve(client));
    });
    req.on('error', reject);
  });
}

async function emit(db: Db, teamId: string, count: number, data: Record<string, unknown> = {}): Promise<void> {
  await db.transaction().execute((trx) =>
    emitEvents(
      trx,
      teamId,
      Array.from({ length: count }, (_, i) => ({ type: 'tag.created' as const, data: { n: i, ...data } })),
      new Date(),
    ),
  );
}

async function listeningApp(store: Store, options: Partial<EventStreamOptions>): Promise<{ app: FastifyInstance; base: string }> {
  const ctx = { ...(await testContext()), db: store.db, eventStreams: new EventStreams(store.notifications, options) };
  const app = await buildServer(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

describe('GET /events/stream', () => {
  let app: FastifyInstance;
  let base: string;
  let db: Db;

  beforeAll(async () => {
    const store = await sharedStore();
    db = store.db;
    ({ app, base } = await listeningApp(store, { heartbeatMs: 200, maxBufferedBytes: 64 * 1024 }));
  });
  afterAll(async () => {
    await app.close();
  });

  it('sends only events written after connecting, in order, with the envelopes and seqs of GET /events', async () => {
    const team = await newTeam(app);
    await emit(db, team.teamId, 2);
    const stream = await openStream(base, team.token);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    // The auth hook ran: the rate limit headers are on the hijacked response.
    expect(stream.headers['x-ratelimit-limit']).toBeDefined();

    await ok(team.request('POST', '/api/v1/tags', { name: 'Hot' }));
    await emit(db, team.teamId, 3);
    const frames = await stream.until((f) => events(f).length === 4, 'four events');
    stream.close();
    expect(seqs(frames)).toEqual([3, 4, 5, 6]);
    const replay = await ok(team.request('GET', '/api/v1/events?afterSeq=2'));
    expect(events(frames).map((f) => f.data)).toEqual(replay.events);
    expect(events(frames).map((f) => f.event)).toEqual(replay.events.map((e: { type: string }) => e.type));
  });

  it('resumes after Last-Event-ID (or afterSeq) with exactly the missed events, then goes on live', async () => {
    const team = await newTeam(app);
    await emit(db, team.teamId, 5);
    const resumed = await openStream(base, team.token, { headers: { 'last-event-id': '2' }, path: '/api/v1/events/stream?afterSeq=4' });
    const fromQuery = await openStream(base, team.token, { path: '/api/v1/events/stream?afterSeq=4' });
    await resumed.until((f) => events(f).length === 3, 'the three missed events');
    await emit(db, team.teamId, 2);
    await resumed.until((f) => events(f).length === 5, 'two more');
    await fromQuery.until((f) => events(f).length === 3, 'after seq 4');
    resumed.close();
    fromQuery.close();
    // The header wins over the query: a reconnecting EventSource keeps its URL.
    expect(seqs(resumed.frames)).toEqual([3, 4, 5, 6, 7]);
    expect(seqs(fromQuery.frames)).toEqual([5, 6, 7]);
  });

  it('by default beats every 15 s, holds 20 streams a team and leases a slot for three heartbeats', async () => {
    // the options `inbox serve` runs with (src/cli/runtime.ts gives EventStreams none)
    expect((await testContext()).eventStreams!.options).toMatchObject({ heartbeatMs: 15_000, maxPerTeam: 20, leaseTtlMs: 45_000 });
  });

  it('sends a heartbeat comment at the interval', async () => {
    const team = await newTeam(app);
    const stream = await openStream(base, team.token);
    const frames = await stream.until((f) => f.filter((x) => x.comment === 'heartbeat').length >= 2, 'two heartbeats');
    stream.close();
    expect(events(frames)).toEqual([]);
  });

  it("never sends another team's events", async () => {
    const [a, b] = [await newTeam(app), await newTeam(app)];
    const stream = await openStream(base, b.token);
    await emit(db, a.teamId, 3);
    await emit(db, b.teamId, 1, { mine: true });
    const frames = await stream.until((f) => events(f).length === 1, "b's event");
    await new Promise((r) => setTimeout(r, 100));
    stream.close();
    expect(events(frames).map((f) => [f.data.teamId, f.data.data.mine])).toEqual([[b.teamId, true]]);
  });

  it('takes the session cookie of a signed-in member, as the page sends it', async () => {
    const team = await newTeam(app);
    const page = browser(app);
    await ok(page.request('POST', '/api/v1/auth/sign-in', await ownerCredentials(team.ownerMemberId)));
    const stream = await openStream(base, null, { headers: { cookie: `inbox_session=${page.cookie}` } });
    expect(stream.status).toBe(200);
    await emit(db, team.teamId, 1);
    const frames = await stream.until((f) => events(f).length === 1, 'an event');
    stream.close();
    expect(events(frames)[0]!.data.teamId).toBe(team.teamId);
  });

  it('ends a stream at a heartbeat once its credential no longer holds: its session signed out, its token revoked', async () => {
    const team = await newTeam(app);
    const page = browser(app);
    await ok(page.request('POST', '/api/v1/auth/sign-in', await ownerCredentials(team.ownerMemberId)));
    const bySession = await openStream(base, null, { headers: { cookie: `inbox_session=${page.cookie}` } });
    const byToken = await openStream(base, team.token);
    const heartbeats = (frames: Frame[]) => frames.filter((one) => one.comment === 'heartbeat').length;
    await bySession.until((f) => heartbeats(f) >= 1, 'a heartbeat');
    expect((await page.request('POST', '/api/v1/auth/sign-out')).statusCode).toBe(204);
    await bySession.ended;
    // The token's stream goes on, until the token is revoked.
    const beats = heartbeats(byToken.frames);
    await byToken.until((f) => heartbeats(f) > beats + 1, 'heartbeats after the sign-out');
    const [token] = (await team.request('GET', '/api/v1/tokens')).json() as Array<{ id: string }>;
    expect((await team.request('DELETE', `/api/v1/tokens/${token!.id}`)).statusCode).toBeLessThan(300);
    await byToken.ended;
  });

  it('refuses a bad Last-Event-ID and a missing token with the error envelope', async () => {
    const team = await newTeam(app);
    const bad = await openStream(base, team.token, { headers: { 'last-event-id': 'soon' } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe('VALIDATION_ERROR');
    const anonymous = await openStream(base, 'nope');
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body).error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('allows 20 open streams per team: the 21st is 429 TOO_MANY_STREAMS until one closes', async () => {
    const team = await newTeam(app);
    const open = [];
    for (let i = 0; i < 20; i++) open.push(await openStream(base, team.token));
    expect(open.every((s) => s.status === 200)).toBe(true);
    const refused = await openStream(base, team.token);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'TOO_MANY_STREAMS', status: 429 });
    // Another team is not affected.
    const other = await openStream(base, (await newTeam(app)).token);
    expect(other.status).toBe(200);
    other.close();

    // Closing a connection releases its slot.
    open.pop()!.close();
    let again = await openStream(base, team.token);
    for (let i = 0; again.status === 429 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await openStream(base, team.token);
    }
    expect(again.status).toBe(200);
    for (const s of [...open, again]) s.close();
  });

  it('counts the leases of streams other processes hold, and stops counting those of a dead process once they expire', async () => {
    const team = await newTeam(app);
    // What another process holding 20 of the team's streams leaves in the store.
    const leases = Array.from({ length: 20 }, (_, i) => ({ id: `elsewhere-${team.teamId}-${i}`, team_id: team.teamId, expires_at: new Date(Date.now() + 60_000) }));
    await db.insertInto('event_stream_leases').values(leases).execute();
    const refused = await openStream(base, team.token);
    expect(refused.status).toBe(429);
    // That process died: its leases ran out unrenewed.
    await db.updateTable('event_stream_leases').set({ expires_at: new Date(Date.now() - 1_000) }).where('team_id', '=', team.teamId).execute();
    const stream = await openStream(base, team.token);
    expect(stream.status).toBe(200);
    const left = await db.selectFrom('event_stream_leases').select('id').where('team_id', '=', team.teamId).execute();
    expect(left).toHaveLength(1);
    stream.close();

    // Housekeeping removes expired leases of teams that never open a stream again.
    const quiet = await newTeam(app);
    await db.insertInto('event_stream_leases').values({ id: `dead-${quiet.teamId}`, team_id: quiet.teamId, expires_at: new Date(Date.now() - 1_000) }).execute();
    await new Maintenance(await testContext()).runOnce();
    expect(await db.selectFrom('event_stream_leases').select('id').where('team_id', '=', quiet.teamId).execute()).toEqual([]);
  });

  it('renews its lease with each heartbeat, and ends a stream whose lease was lost', async () => {
    const team = await newTeam(app);
    const stream = await openStream(base, team.token);
    const expiry = async () => (await db.selectFrom('event_stream_leases').select('expires_at').where('team_id', '=', team.teamId).executeTakeFirst())?.expires_at.getTime();
    const first = (await expiry())!;
    await stream.until((f) => f.filter((one) => one.comment === 'heartbeat').length >= 2, 'two heartbeats');
    await expect.poll(expiry).toBeGreaterThan(first);
    await db.deleteFrom('event_stream_leases').where('team_id', '=', team.teamId).execute();
    await stream.ended;
  });

  it('disconnects a reader that does not read rather than buffering without limit', async () => {
    const team = await newTeam(app);
    const slow = await openStream(base, team.token, { read: false });
    const blob = 'x'.repeat(10_000);
    let ended = false;
    void slow.ended.then(() => (ended = true));
    for (let i = 0; i < 20 && !ended; i++) await emit(db, team.teamId, 100, { blob });
    await slow.ended;
    expect(ended).toBe(true);
    // Its slot is free again and a live reader works.
    const live = await openStream(base, team.token);
    expect(live.status).toBe(200);
    await emit(db, team.teamId, 1);
    await live.until((f) => events(f).length === 1, 'the next event');
    live.close();
  });
});

describe('GET /events/stream around its own server', () => {
  it('ends open streams when the server closes, so closing does not wait for them', async () => {
    const { app, base } = await listeningApp(await sharedStore(), {});
    const team = await newTeam(app);
    const stream = await openStream(base, team.token);
    expect(stream.status).toBe(200);
    await app.close();
    await stream.ended;
  });

  it('answers 503 STREAM_UNAVAILABLE when the listener cannot connect', async () => {
    const store = await sharedStore();
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const unreachable = { ...store, notifications: postgresNotifications('postgres://nobody@127.0.0.1:1/none') };
    const { app, base } = await listeningApp(unreachable, {});
    try {
      const team = await newTeam(app);
      const refused = await openStream(base, team.token);
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body).error).toMatchObject({ code: 'STREAM_UNAVAILABLE', status: 503 });
      // The slot was given back: 20 more refusals would otherwise turn into 429.
      for (let i = 0; i < 20; i++) expect((await openStream(base, team.token)).status).toBe(503);
    } finally {
      await app.close();
      await unreachable.notifications.close();
    }
  });
});

const server = process.env.DATABASE_URL;

describe.skipIf(!server)('GET /events/stream on PostgreSQL with several processes', () => {
  let store: FreshStore;
  let writer: Store;
  let app: FastifyInstance;
  let base: string;
  let team: TeamClient;

  beforeAll(async () => {
    store = await freshStore();
    writer = await openStore({ kind: 'postgres', url: store.url!, poolSize: 2 });
    ({ app, base } = await listeningApp(store, {}));
    const { createTeam } = await import('../src/app/team/teams.js');
    const { createToken } = await import('../src/app/team/tokens.js');
    const { team: created, owner } = await createTeam(store.db, 'PG stream team', new Date());
    const { token } = await createToken(store.db, { teamId: created.id, memberId: owner.id, name: 'test' }, new Date());
    team = { teamId: created.id, ownerMemberId: owner.id, token, request: () => Promise.reject(new Error('unused')) };
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await writer?.close();
    await store?.close();
  });

  it('holds the cap of 20 streams per team across two servers on the store', async () => {
    const other = await listeningApp(store, {});
    try {
      const open = [];
      for (let i = 0; i < 20; i++) open.push(await openStream(i % 2 ? other.base : base, team.token));
      expect(open.map((s) => s.status)).toEqual(Array(20).fill(200));
      for (const server of [base, other.base]) {
        const refused = await openStream(server, team.token);
        expect(refused.status).toBe(429);
        expect(JSON.parse(refused.body).error.code).toBe('TOO_MANY_STREAMS');
      }
      // A stream closed on the first server frees a slot the second one can take.
      open.shift()!.close();
      let again = await openStream(other.base, team.token);
      for (let i = 0; again.status === 429 && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 20));
        again = await openStream(other.base, team.token);
      }
      expect(again.status).toBe(200);
      for (const s of [...open, again]) s.close();
    } finally {
      await other.app.close();
    }
    // Closing a server gives its streams' slots back.
    await expect.poll(async () => (await store.db.selectFrom('event_stream_leases').select('id').where('team_id', '=', team.teamId).execute()).length).toBe(0);
  }, 30_000);

  it('an event written through another connection pool reaches the stream, also after the listener lost its connection', async () => {
    const stream = await openStream(base, team.token);
    await emit(writer.db, team.teamId, 2);
    await stream.until((f) => events(f).length === 2, 'events from the other pool');

    // Drop the listener's connection and write while it is away: the reconnect re-reads the log.
    const { sql } = await import('kysely');
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where query = 'listen inbox_events' and datname = current_database()`.execute(writer.db);
    await emit(writer.db, team.teamId, 1);
    await stream.until((f) => events(f).length === 3, 'the event written while the listener was away');
    await emit(writer.db, team.teamId, 1);
    const frames = await stream.until((f) => events(f).length === 4, 'an event after the reconnect');
    stream.close();
    expect(seqs(frames)).toEqual([1, 2, 3, 4]);
  }, 30_000);
});
