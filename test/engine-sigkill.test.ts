import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../src/app/context.js';
import { openRuntime } from '../src/cli/runtime.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { scaledClock, type Clock } from '../src/core/clock.js';
import { DAY_MS, HOUR_MS, PACING_JITTER, respectsCaps } from '../src/core/pacing.js';
import { seededRandom } from '../src/core/random.js';
import { leadWaits } from '../src/engine/lead-waits.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { openStore, type Db } from '../src/store/db.js';
import { setUpCampaigns } from './helpers/engine.js';
import { compiledCli } from './helpers/compiled.js';
import { expectLeadCountsAgree, freshStore } from './helpers/fresh-store.js';
import { delay, message } from './helpers/simulation.js';

/**
 * Real server processes SIGKILLed several times while a campaign (a message, a delay, a second message) sends, and
 * started again; then, on the sandbox platform's own record of when it got each DM: no lead got a step twice, no
 * follow-up came sooner than the delay after the message before it, no account sent closer than its spacing or
 * more than its caps in any sliding hour, and no DM sent after a kill is stamped before it (a send the kill left
 * pending is sent again at a slot of its own, not at the old one). The embedded store: its one process (`inbox
 * worker`, the engine runtime `inbox serve` also runs), killed at random moments. PostgreSQL: three `inbox worker` processes, all killed while a send is in flight, or one killed
 * at a random moment while the others go on.
 *
 * An hour of sending takes seconds: the processes and the test run on the test clock (INBOX_TEST_CLOCK_*,
 * src/config.ts), many times real time, one clock for the engine and the sandbox platform that stamps the DMs.
 * The limits are the product's, set through the use cases; the run lasts past an hour so that the hourly cap binds.
 * Leases shrink with the clock (five minutes are two seconds at 150 times), so PostgreSQL's workers, which wait
 * for each other's leases, run slower than the embedded store's one process, which ends them when it starts.
 */
const PGLITE_SPEED = 300;
const POSTGRES_SPEED = 150;
const DELAY_SECONDS = 300;
const HOURLY_LIMIT = 6;
const MESSAGES_PER_HOUR = 25;
const LEADS = 8;
const root = path.resolve(import.meta.dirname, '..');
const server = process.env.DATABASE_URL;

const origin = new Date();
/** The clock of a run at `speed`, and the variables that put a process on it. */
const testClock = (speed: number) => ({
  clock: scaledClock({ origin, speed }) as Clock,
  clockEnv: { INBOX_TEST_CLOCK_ORIGIN: origin.toISOString(), INBOX_TEST_CLOCK_SPEED: String(speed) },
});
const seed = Date.now();
const random = seededRandom(seed);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

type Worker = ChildProcess & { log: () => string };

/** `inbox worker` (the sources as compiled for this run), on the test clock; resolves once it says it runs. */
async function startWorker(env: Record<string, string>): Promise<Worker> {
  const child = spawn(process.execPath, [...compiledCli(), 'worker'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
  });
  children.add(child);
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (stderr.includes('Inbox engine running')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`inbox worker exited with ${code}: ${stderr}`)));
  });
  return Object.assign(child, { log: () => stderr });
}

async function kill(child: ChildProcess, signal: 'SIGKILL' | 'SIGTERM'): Promise<number | null> {
  child.removeAllListeners('exit');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const code = await exited;
  children.delete(child);
  return code;
}

/** The campaign: a message, a delay, a second message, from two accounts with a tight hourly limit. */
async function setUp(ctx: AppContext) {
  const setup = await setUpCampaigns(ctx, {
    accounts: [{ hourlyLimit: HOURLY_LIMIT }, { hourlyLimit: HOURLY_LIMIT }],
    campaigns: [{ messagesPerHour: MESSAGES_PER_HOUR, leads: LEADS, steps: [message('One'), delay(DELAY_SECONDS), message('Two')] }],
  });
  return setup;
}

/** The campaign's sends reserved and not recorded. */
const inFlight = async (db: Db, campaignId: string) =>
  (await db.selectFrom('send_intents').select('id').where('campaign_id', '=', campaignId).where('status', '=', 'pending').execute()).length;

/** The DMs on the platform now, by id: what a kill left, before anything restarts. */
const dmIds = async (db: Db) => new Set((await db.selectFrom('sandbox_dm_events').select('id').execute()).map((d) => d.id));

interface Kill {
  /** the test clock once the killed processes were gone */
  at: Date;
  /** the sends the kill left in flight (reserved, not recorded) */
  inFlight?: number;
  /** the DMs on the platform then, when every process was killed (undefined when others went on sending) */
  dms?: Set<string>;
}

/** Everything the platform and the store say once the campaign has completed. */
async function expectDelaysAndCapsHeld(db: Db, setup: Awaited<ReturnType<typeof setUp>>, kills: Kill[]): Promise<void> {
  const context = `seed ${seed}, kills at ${kills.map((k) => `${k.at.toISOString()} (${k.inFlight ?? '?'} in flight)`).join(', ')}`;
  const dms = await db
    .selectFrom('sandbox_dm_events as d')
    .innerJoin('account_links as a', 'a.platform_id', 'd.sender_id')
    .select(['d.id', 'd.recipient_id', 'd.text', 'd.created_at', 'a.id as account_id', 'a.hourly_limit', 'a.daily_limit'])
    .where('a.team_id', '=', setup.teamId)
    .orderBy('d.created_at')
    .execute();
  // Each lead got each step once.
  for (const lead of setup.leadIds[0]!) {
    const own = dms.filter((d) => d.recipient_id === lead);
    expect(own.map((d) => d.text), `${lead}, ${context}`).toEqual(['One', 'Two']);
    expect(own[1]!.created_at.getTime() - own[0]!.created_at.getTime(), `the follow-up to ${lead}, ${context}`).toBeGreaterThanOrEqual(DELAY_SECONDS * 1000);
  }
  for (const accountId of setup.accountIds) {
    const sends = dms.filter((d) => d.account_id === accountId);
    const at = sends.map((d) => d.created_at);
    const { hourly_limit: hourly, daily_limit: daily } = sends[0]!;
    const caps = [{ windowMs: HOUR_MS, limit: hourly }, { windowMs: DAY_MS, limit: daily }, { windowMs: HOUR_MS, limit: MESSAGES_PER_HOUR }];
    expect(respectsCaps(at, caps), `account ${accountId}: ${at.map((t) => t.toISOString()).join(', ')}; ${context}`).toBe(true);
    const gaps = at.slice(1).map((t, i) => t.getTime() - at[i]!.getTime());
    expect(Math.min(...gaps), `account ${accountId}, ${context}`).toBeGreaterThanOrEqual((3_600_000 / hourly) * (1 - PACING_JITTER));
  }
  // Each account sent more than its hourly limit, so the sliding hour was a bound the run had to keep.
  for (const accountId of setup.accountIds) expect(dms.filter((d) => d.account_id === accountId).length).toBeGreaterThan(HOURLY_LIMIT);
  // No DM sent after a kill of every process is stamped before the kill.
  for (const k of kills.filter((k) => k.dms)) {
    const later = dms.filter((d) => !k.dms!.has(d.id));
    for (const dm of later) expect(dm.created_at.getTime(), `${dm.id} after the kill at ${k.at.toISOString()}, ${context}`).toBeGreaterThanOrEqual(k.at.getTime());
  }
  // The store records each DM at the platform's time, and nothing is left in flight.
  const messages = await db.selectFrom('messages').select(['platform_id', 'created_at']).where('team_id', '=', setup.teamId).where('outbound', '=', true).orderBy('platform_id').execute();
  expect(messages).toEqual(dms.map((d) => ({ platform_id: d.id, created_at: d.created_at })).sort((a, b) => (a.platform_id < b.platform_id ? -1 : 1)));
  expect(await db.selectFrom('send_intents').select('id').where('campaign_id', '=', setup.campaignIds[0]!).where('status', '=', 'pending').execute()).toEqual([]);
  await expectLeadCountsAgree(db);
}

describe('the test clock', () => {
  it('is SPEED times real time from its origin, the same in any process, and only an explicit test configuration', () => {
    const { clock, clockEnv } = testClock(POSTGRES_SPEED);
    expect(loadConfig({}).testClock).toBeUndefined();
    expect(loadConfig(clockEnv).testClock).toEqual({ origin, speed: POSTGRES_SPEED });
    const before = Date.now();
    const now = clock.now().getTime();
    const other = scaledClock({ origin: new Date(origin.getTime()), speed: POSTGRES_SPEED }).now().getTime();
    expect(now).toBeGreaterThanOrEqual(origin.getTime() + (before - origin.getTime()) * POSTGRES_SPEED);
    expect(other).toBeGreaterThanOrEqual(now);
    expect(() => loadConfig({ INBOX_TEST_CLOCK_SPEED: '10' })).toThrow(ConfigError);
    expect(() => loadConfig({ INBOX_TEST_CLOCK_SPEED: 'fast', INBOX_TEST_CLOCK_ORIGIN: origin.toISOString() })).toThrow(/INBOX_TEST_CLOCK_SPEED/);
    const x = { INBOX_X_CLIENT_ID: 'id', INBOX_X_CLIENT_SECRET: 'secret', INBOX_X_REDIRECT_URL: 'https://example.com/callback' };
    expect(() => loadConfig({ ...clockEnv, ...x })).toThrow(/cannot be used with an X client/);
  });
});

describe.skipIf(server)('SIGKILLs of the engine on the embedded store', () => {
  it('an `inbox worker` on a data directory, killed and started again, keeps every delay and cap on the platform’s clock and sends each step once', async () => {
    const { clock, clockEnv } = testClock(PGLITE_SPEED);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-sigkill-'));
    const env = { INBOX_DATA_DIR: dir, ...clockEnv };
    try {
      const runtime = await openRuntime(loadConfig({ ...env, LOG_LEVEL: 'silent' }));
      const setup = await setUp(runtime.ctx).finally(() => runtime.close());
      const kills: Kill[] = [];
      let sending = await startWorker(env);
      const logs = [sending.log];
      // The sends recorded so far, as the workers' logs tell them (`engine batch sent N`).
      const sent = () => logs.reduce((n, log) => n + [...log().matchAll(/engine batch sent (\d+)/g)].reduce((m, match) => m + Number(match[1]), 0), 0);
      for (let round = 1; round <= 3; round++) {
        // Spread over the campaign: a random moment within the two seconds (about one account's spacing) after a
        // few more sends are out.
        while (sent() < 4 * round) await sleep(20);
        await sleep(random.next() * 2_000);
        await kill(sending, 'SIGKILL');
        const at = clock.now();
        // The platform as the kill left it (the data directory is free: its holder is dead).
        const store = await openStore({ kind: 'pglite', dataDir: dir });
        try {
          kills.push({ at, dms: await dmIds(store.db), inFlight: await inFlight(store.db, setup.campaignIds[0]!) });
        } finally {
          await store.close();
        }
        sending = await startWorker(env);
        logs.push(sending.log);
      }
      // The store is the worker's while it runs: its log says when the campaign is through.
      while (!sending.log().includes('engine completed a campaign')) await sleep(100);
      expect(await kill(sending, 'SIGTERM')).toBe(0);
      // Every kill came before the campaign was through.
      expect(kills.at(-1)!.dms!.size).toBeLessThan(2 * LEADS);

      const store = await openStore({ kind: 'pglite', dataDir: dir });
      try {
        await expectDelaysAndCapsHeld(store.db, setup, kills);
      } finally {
        await store.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe.skipIf(!server)('SIGKILLs of `inbox worker` processes sharing PostgreSQL', () => {
  it('workers killed in the middle of a send, all or one, and started again keep every delay and cap on the platform’s clock and send each step once', async () => {
    const { clock, clockEnv } = testClock(POSTGRES_SPEED);
    const store = await freshStore();
    try {
      const ctx: AppContext = { db: store.db, clock, config: loadConfig({}), logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db, clock), leadWaits };
      const setup = await setUp(ctx);
      const env = { DATABASE_URL: store.url!, ...clockEnv };
      const sendsInFlight = () => inFlight(store.db, setup.campaignIds[0]!);
      const kills: Kill[] = [];
      let leftInFlight = 0;
      const workers = await Promise.all([1, 2, 3].map(() => startWorker(env)));
      for (const everyone of [true, false, true]) {
        if (everyone) {
          // The moment a send is in flight (reserved, not yet recorded), or after ten seconds at the latest.
          const deadline = Date.now() + 10_000;
          while ((await sendsInFlight()) === 0 && Date.now() < deadline) await sleep(2);
          await Promise.all(workers.map((w) => kill(w, 'SIGKILL')));
          const at = clock.now();
          const left = await sendsInFlight();
          leftInFlight += left;
          kills.push({ at, dms: await dmIds(store.db), inFlight: left });
          workers.splice(0, 3, ...(await Promise.all([1, 2, 3].map(() => startWorker(env)))));
        } else {
          await sleep(1_000 + random.next() * 3_000);
          const victim = random.int(workers.length);
          await kill(workers[victim]!, 'SIGKILL');
          kills.push({ at: clock.now() });
          workers[victim] = await startWorker(env);
        }
      }
      const done = async () => (await store.db.selectFrom('campaigns').select('status').where('id', '=', setup.campaignIds[0]!).executeTakeFirstOrThrow()).status === 'completed';
      while (!(await done())) await sleep(250);
      expect(await Promise.all(workers.map((w) => kill(w, 'SIGTERM')))).toEqual([0, 0, 0]);
      // The kills hit sends in flight, which the others (or the restarted) reconciled once their leases ran out.
      expect(leftInFlight).toBeGreaterThan(0);
      expect(kills.at(-1)!.dms!.size).toBeLessThan(2 * LEADS);
      await expectDelaysAndCapsHeld(store.db, setup, kills);
    } finally {
      await store.close();
    }
  }, 180_000);
});
