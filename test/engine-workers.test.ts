import { sql } from 'kysely';
import { spawn } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../src/app/context.js';
import { eventsAfter } from '../src/app/events/events.js';
import { ensureThread } from '../src/app/inbox/message-recording.js';
import { DAY_MS, HOUR_MS, respectsCaps } from '../src/core/pacing.js';
import { seededRandom } from '../src/core/random.js';
import { loadConfig } from '../src/config.js';
import { nextEngineInstant } from '../src/engine/dispatcher.js';
import { sendingEngine } from '../src/runtimes/engine.js';
import { platformRegistry, type DmResult, type OutgoingDm, type PlatformAccount } from '../src/platforms/platform.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { SandboxPlatform } from '../src/platforms/sandbox.js';
import { openStore, type Store } from '../src/store/db.js';
import { TestClock } from './helpers/clock.js';
import { setUpCampaigns } from './helpers/engine.js';
import { freshStore, type FreshStore } from './helpers/fresh-store.js';
import { delay, message } from './helpers/simulation.js';
import { leadWaits } from '../src/engine/lead-waits.js';
import { compiledCli } from './helpers/compiled.js';

/**
 * Many engines sharing one PostgreSQL store: leads claimed with SKIP LOCKED, caps checked under the account's row
 * lock. Needs a server (CI's PostgreSQL pass); the embedded store serves one process only.
 */
const server = process.env.DATABASE_URL;
const root = path.resolve(import.meta.dirname, '..');

let store: FreshStore;
const extra: Store[] = [];

beforeAll(async () => {
  if (server) store = await freshStore();
}, 60_000);

afterAll(async () => {
  for (const s of extra) await s.close();
  await store?.close();
});

const contextOn = (db: Store['db'], clock: TestClock): AppContext => ({
  db,
  clock,
  config: loadConfig({}),
  logger: pino({ level: 'silent' }),
  platforms: createPlatformRegistry(db, clock),
  leadWaits,
});

const sendsOf = (accountId: string) =>
  store.db.selectFrom('messages').select(['campaign_id', 'created_at']).where('author_id', '=', accountId).orderBy('created_at').execute();

describe.skipIf(!server)('engines sharing a PostgreSQL store', () => {
  it('three engines on their own connections, racing at every instant, send each step once within every cap', async () => {
    const clock = new TestClock(new Date('2026-07-01T00:00:00Z'));
    const contexts = [contextOn(store.db, clock)];
    for (let i = 0; i < 2; i++) {
      const own = await openStore({ kind: 'postgres', url: store.url!, poolSize: 3 });
      extra.push(own);
      contexts.push(contextOn(own.db, clock));
    }
    const engines = contexts.map((c) => sendingEngine(c, seededRandom('shared')));
    const { accountIds, campaignIds, leadIds } = await setUpCampaigns(contexts[0]!, {
      accounts: [{ hourlyLimit: 6, dailyLimit: 20 }, { hourlyLimit: 6, dailyLimit: 20 }],
      campaigns: [
        { messagesPerHour: 5, leads: 12, steps: [message('One'), delay(60), message('Two')] },
        { messagesPerHour: 4, leads: 12, steps: [message('One'), delay(60), message('Two')] },
      ],
    });
    const until = clock.now().getTime() + 30 * DAY_MS;
    for (;;) {
      await Promise.all(engines.map((engine) => engine.runOnce(clock.now())));
      const next = await nextEngineInstant(store.db, clock.now());
      if (!next || next.getTime() > until) break;
      clock.set(next);
    }
    const dms = await store.db
      .selectFrom('sandbox_dm_events')
      .select((eb) => ['recipient_id', eb.fn.countAll<number>().as('n')])
      .where('recipient_id', 'in', leadIds.flat())
      .groupBy('recipient_id')
      .execute();
    expect(dms).toHaveLength(24);
    expect(dms.every((d) => Number(d.n) === 2)).toBe(true);
    for (const accountId of accountIds) {
      const sends = await sendsOf(accountId);
      const at = sends.map((s) => s.created_at);
      expect(respectsCaps(at, [{ windowMs: HOUR_MS, limit: 6 }, { windowMs: DAY_MS, limit: 20 }])).toBe(true);
      campaignIds.forEach((id, i) => {
        const own = sends.filter((s) => s.campaign_id === id).map((s) => s.created_at);
        expect(respectsCaps(own, [{ windowMs: HOUR_MS, limit: [5, 4][i]! }])).toBe(true);
      });
    }
  }, 180_000);

  it('three `inbox worker` processes share the work, send each lead once, keep the account spacing and stop on SIGTERM', async () => {
    const ctx = contextOn(store.db, new TestClock(new Date()));
    const { accountIds, campaignIds, leadIds } = await setUpCampaigns(ctx, {
      accounts: [{}, {}],
      campaigns: [
        { messagesPerHour: 25, leads: 8 },
        { messagesPerHour: 25, leads: 8 },
      ],
    });
    // Fast enough for a test in real time: an account may send every 0.8 s (3600 / 3600 x 0.8).
    await store.db.updateTable('account_links').set({ hourly_limit: 3600, daily_limit: 100_000 }).where('id', 'in', accountIds).execute();
    await store.db.updateTable('campaigns').set({ messages_per_hour: 3600 }).where('id', 'in', campaignIds).execute();
    const workers = [1, 2, 3].map(() => {
      const child = spawn(process.execPath, [compiledCli(), 'worker'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', DATABASE_URL: store.url! },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      return { child, exited, stderr: () => stderr };
    });
    try {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const open = await store.db.selectFrom('campaigns').select('id').where('id', 'in', campaignIds).where('status', '!=', 'completed').execute();
        if (open.length === 0) break;
        if (Date.now() > deadline) throw new Error(`workers did not finish: ${workers.map((w) => w.stderr()).join('\n')}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      for (const w of workers) w.child.kill('SIGTERM');
    }
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0]);
    const dms = await store.db.selectFrom('sandbox_dm_events').select('recipient_id').where('recipient_id', 'in', leadIds.flat()).execute();
    expect(dms.map((d) => d.recipient_id).sort()).toEqual(leadIds.flat().sort());
    for (const accountId of accountIds) {
      const at = (await sendsOf(accountId)).map((s) => s.created_at.getTime());
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(800);
    }
  }, 180_000);

  it('a batch that finds its new thread stored meanwhile by another transaction records again into it', async () => {
    const clock = new TestClock(new Date('2026-08-01T00:00:00Z'));
    const platform = new SandboxAfterSend(store.db, clock);
    const ctx: AppContext = { ...contextOn(store.db, clock), platforms: platformRegistry([platform]) };
    const { teamId, accountIds, leadIds } = await setUpCampaigns(ctx, {});
    const account = await store.db.selectFrom('account_links').selectAll().where('id', '=', accountIds[0]!).executeTakeFirstOrThrow();
    const prospect = await store.db.selectFrom('prospects').selectAll().where('team_id', '=', teamId).where('platform_id', '=', leadIds[0]![0]!).executeTakeFirstOrThrow();
    // An inbound message from the lead, say, between the DM going out and the batch recording it: its
    // transaction stores the thread and is still open when the batch, which did not see it, inserts its own.
    const other = await openStore({ kind: 'postgres', url: store.url!, poolSize: 1 });
    extra.push(other);
    let finish!: () => void;
    let inbound!: Promise<void>;
    platform.afterSend = () =>
      new Promise<void>((stored) => {
        inbound = other.db.transaction().execute(async (trx) => {
          await ensureThread(trx, account, prospect, clock.now());
          stored();
          await new Promise<void>((resolve) => (finish = resolve));
        });
      });
    const engine = sendingEngine(ctx, seededRandom(1));
    const sending = (async () => {
      while ((await engine.runOnce(clock.now())) === 0) clock.set((await nextEngineInstant(store.db, clock.now()))!);
    })();
    const blocked = async () => Number((await sql<{ n: string }>`select count(*) as n from pg_locks where not granted`.execute(store.db)).rows[0]!.n) > 0;
    while (!(await blocked())) await new Promise((resolve) => setTimeout(resolve, 20));
    finish();
    await inbound;
    await sending;
    const threads = await store.db.selectFrom('threads').selectAll().where('prospect_id', '=', prospect.id).execute();
    expect(threads).toHaveLength(1);
    const events = (await eventsAfter(store.db, teamId, 0)).filter((e) => ['thread.created', 'message.created', 'target.contacted'].includes(e.type));
    expect(events.map((e) => e.type)).toEqual(['thread.created', 'message.created', 'target.contacted']);
    const message = await store.db.selectFrom('messages').selectAll().where('thread_id', '=', threads[0]!.id).executeTakeFirstOrThrow();
    expect(message.content).toBe('Hello');
    expect(threads[0]).toMatchObject({ has_outbound: true, last_message_id: message.id });
  }, 60_000);
});

/** The sandbox, running a hook once after it delivers a batch of DMs. */
class SandboxAfterSend extends SandboxPlatform {
  afterSend: (() => Promise<void>) | undefined;

  override async sendDmBatch(account: PlatformAccount, dms: readonly OutgoingDm[]): Promise<DmResult[]> {
    const results = await super.sendDmBatch(account, dms);
    const hook = this.afterSend;
    this.afterSend = undefined;
    await hook?.();
    return results;
  }
}
