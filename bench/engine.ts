// The sending engine in virtual time, per store engine (PGlite; DATABASE_URL adds PostgreSQL):
// - a campaign of BENCH_LEADS leads over BENCH_ACCOUNTS sandbox accounts (message, delay, message) run to its end:
//   sends per second of wall time and peak RSS;
// - the cost of one scheduler pass with 10,000 and with BENCH_PENDING_BIG pending leads, none due (a pass should
//   cost what is due, not what exists);
// - beside them, the raw rate of single-row inserts into a table shaped like campaign_leads, measured before and
//   after the campaign's run (the baseline a regular table, a temporary one beside it).
// - a forecast (GET .../forecast) of a campaign of BENCH_FORECAST_LEADS leads (20,000 and 100,000) over 10 accounts
//   about to start: wall time and peak RSS above the process's before it, on the engine's memory store, and, as the
//   baseline, on the scratch database forecasts used to run on (at the first size only: it takes minutes at the
//   second); both must answer the same forecast.
// The embedded store is measured as `inbox serve` runs it, in a data directory (BENCH_PGLITE_MEMORY=1 adds the
// in-memory store that simulations use). Every measure has a store of its own: a new data directory,
// or a new database on DATABASE_URL's server (its role must be allowed to create databases), removed after.
// Run: npm run bench:engine (BENCH_SKIP_PGLITE=1 with DATABASE_URL runs only the PostgreSQL half; BENCH_ENGINE_ONLY=1
// runs only the campaign, for profiling it; BENCH_FORECAST_ONLY=1 only the forecasts)
import { sql } from 'kysely';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { linkSandboxAccount, updateAccountLink } from '../src/app/accounts/account-links.js';
import { replaceSequence } from '../src/app/campaigns/sequence.js';
import { createCampaign } from '../src/app/campaigns/campaigns.js';
import type { AppContext } from '../src/app/context.js';
import { createTeam } from '../src/app/team/teams.js';
import { loadConfig } from '../src/config.js';
import { seededRandom } from '../src/core/random.js';
import type { SequenceStep } from '../src/core/sequence.js';
import { runInVirtualTime } from '../src/engine/dispatcher.js';
import { sendingEngine } from '../src/runtimes/engine.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { forecastCampaign, type Forecast, type ForecastStore } from '../src/runtimes/forecast.js';
import { migrateToLatest, openNewDatabase, openStore, type Db, type Store, type StoreLocation } from '../src/store/db.js';
import { leadWaits } from '../src/engine/lead-waits.js';

const LEADS = Number(process.env.BENCH_LEADS ?? 100_000);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 100);
const PENDING_BIG = Number(process.env.BENCH_PENDING_BIG ?? 1_000_000);
const FORECAST_LEADS = (process.env.BENCH_FORECAST_LEADS ?? '20000,100000').split(',').map(Number);
const FORECAST_ACCOUNTS = 10;
const START = new Date('2026-01-05T00:00:00Z');
const allWeek = Object.fromEntries(['0', '1', '2', '3', '4', '5', '6'].map((d) => [d, { start: 0, end: 1440 }]));
const steps = [
  { type: 'message', data: { segments: [{ type: 'static', text: 'Hi' }] } },
  { type: 'delay', data: { delaySeconds: 86_400, unit: 'days' } },
  { type: 'message', data: { segments: [{ type: 'static', text: 'Following up' }] } },
] as SequenceStep[];

const seconds = (since: number) => (performance.now() - since) / 1000;

/**
 * A store for one measure, empty and removed after: a new data directory under the embedded store's, or a new
 * database on the PostgreSQL server (a pass probes every account of every team in its database).
 */
async function openFresh(location: StoreLocation): Promise<Store> {
  if (location.kind === 'pglite-memory') return openStore(location);
  if (location.kind === 'pglite') {
    const dataDir = fs.mkdtempSync(path.join(location.dataDir, 'store-'));
    const store = await openStore({ kind: 'pglite', dataDir });
    const close = async () => {
      await store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    };
    return { ...store, close };
  }
  return openNewDatabase(location.url, `inbox_bench_${Math.random().toString(36).slice(2, 10)}`);
}

/** A store with a team, its accounts and an active campaign sending from all of them. */
async function world(location: StoreLocation, accounts = ACCOUNTS) {
  const store = await openFresh(location);
  await migrateToLatest(store.db);
  let now = START;
  const clock = { now: () => now, set: (at: Date) => void (now = at) };
  const ctx: AppContext = { db: store.db, clock, config: loadConfig({}), logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db, clock), leadWaits };
  const { team } = await createTeam(store.db, 'Bench', START);
  const accountIds: string[] = [];
  for (let i = 0; i < accounts; i++) {
    const link = await linkSandboxAccount(ctx, team.id, { username: `bench${i}` });
    await updateAccountLink(ctx, team.id, link.id, { hourlyLimit: 60, dailyLimit: 1_440 });
    accountIds.push(link.id);
  }
  const campaign = await createCampaign(ctx, team.id, { name: 'Bench', messagesPerHour: 25, schedule: allWeek, accountLinkIds: accountIds });
  await replaceSequence(ctx, team.id, campaign.id, steps);
  await store.db.updateTable('campaigns').set({ status: 'active', enabled: true, started_at: START }).where('id', '=', campaign.id).execute();
  return { store, close: () => store.close(), clock, ctx, teamId: team.id, campaignId: campaign.id, accountIds };
}

/** N prospects and their leads, set-based (seeding is not what is measured); `spread` assigns them, due in a year. */
async function seedLeads(db: Db, teamId: string, campaignId: string, n: number, spread?: string[]): Promise<void> {
  const accounts = spread ?? [];
  // Ids unique per team, so runs can share a PostgreSQL database.
  const tag = teamId.slice(0, 10);
  for (let from = 1; from <= n; from += 100_000) {
    const to = Math.min(n, from + 99_999);
    await sql`
      insert into prospects (id, team_id, platform, platform_id, username, display_name)
      select ${tag} || lpad(g::text, 14, '0'), ${teamId}, 'sandbox', (7000000000000 + g)::text, 'lead' || g, 'Lead ' || g
      from generate_series(${from}::int, ${to}::int) g`.execute(db);
    await sql`
      insert into campaign_leads (id, campaign_id, team_id, prospect_id, state, account_link_id, next_step_at, sequence_version, created_at)
      select ${tag} || 'l' || lpad(g::text, 13, '0'), ${campaignId}, ${teamId}, ${tag} || lpad(g::text, 14, '0'),
             ${spread ? 'active' : 'pending'},
             (${JSON.stringify(accounts)}::jsonb ->> (g % greatest(${accounts.length}::int, 1)))::text,
             ${spread ? new Date(START.getTime() + 365 * 86_400_000) : null}::timestamptz, 1, ${START}::timestamptz
      from generate_series(${from}::int, ${to}::int) g`.execute(db);
  }
}

async function throughput(location: StoreLocation) {
  const w = await world(location);
  try {
    await seedLeads(w.store.db, w.teamId, w.campaignId, LEADS);
    const engine = sendingEngine(w.ctx, seededRandom(1));
    const rssAtStart = process.memoryUsage().rss;
    let peakRss = rssAtStart;
    const started = performance.now();
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    await runInVirtualTime(engine, START, new Date(START.getTime() + 365 * 86_400_000), { clock: w.clock });
    clearInterval(sampler);
    const { sends } = await w.store.db
      .selectFrom('send_intents')
      .select((eb) => eb.fn.countAll<number>().as('sends'))
      .where('campaign_id', '=', w.campaignId)
      .executeTakeFirstOrThrow();
    const wall = seconds(started);
    return { sends: Number(sends), sendsPerSecond: Number(sends) / wall, wall, peakRssMiB: peakRss / 2 ** 20 };
  } finally {
    await w.close();
  }
}

/**
 * Wall time of a scheduler pass with each number of `pending` leads assigned to the senders and none due: a world
 * for each, open side by side, their passes taken in turn so that every median sees the same moments of this
 * machine's speed; the median of 31 passes after three to warm up (a pass takes milliseconds, so one stall of the
 * machine moves a mean of ten by half).
 */
async function passCosts(location: StoreLocation, pending: readonly number[]): Promise<number[]> {
  const worlds: Array<Awaited<ReturnType<typeof world>>> = [];
  try {
    for (const n of pending) {
      const w = await world(location);
      worlds.push(w);
      await seedLeads(w.store.db, w.teamId, w.campaignId, n, w.accountIds);
      await sql`analyze`.execute(w.store.db);
    }
    const engines = worlds.map((w) => sendingEngine(w.ctx, seededRandom(1)));
    const passes = engines.map((): number[] => []);
    for (let i = 0; i < 34; i++) {
      for (const [k, engine] of engines.entries()) {
        const started = performance.now();
        await engine.runOnce(START);
        if (i >= 3) passes[k]!.push(seconds(started) * 1000);
      }
    }
    return passes.map((p) => p.sort((a, b) => a - b)[15]!);
  } finally {
    for (const w of worlds) await w.close();
  }
}

/**
 * Single-row inserts into a table like campaign_leads, one statement each: after a warm-up, the median of three
 * two-second windows (one statement awaits one round trip, so a single window swings by a third between runs).
 * The baseline is a regular table, written through the log and the shared buffers as the engine's tables are; a
 * temporary one, which skips both, is measured beside it.
 */
async function rawInserts(location: StoreLocation, kind: 'regular' | 'temporary'): Promise<number> {
  const store = await openFresh(location);
  const table = sql.table(`raw_leads_${Math.random().toString(36).slice(2, 10)}`);
  try {
    await sql`create ${sql.raw(kind === 'temporary' ? 'temporary' : '')} table ${table} (id text primary key, campaign_id text not null,
      prospect_id text not null, state text not null, next_step_at timestamptz, created_at timestamptz not null)`.execute(store.db);
    let rows = 0;
    const insertFor = async (windowSeconds: number) => {
      const started = performance.now();
      const first = rows;
      while (seconds(started) < windowSeconds) {
        await sql`insert into ${table} values (${`r${rows}`}, 'c', ${`p${rows}`}, 'pending', null, now())`.execute(store.db);
        rows++;
      }
      return (rows - first) / seconds(started);
    };
    await insertFor(0.5);
    const rates = [await insertFor(2), await insertFor(2), await insertFor(2)].sort((a, b) => a - b);
    await sql`drop table ${table}`.execute(store.db);
    return rates[1]!;
  } finally {
    await store.close();
  }
}

/**
 * One forecast of the world's campaign on `on`: its answer, wall time, this process's CPU time (the embedded store
 * runs in it; PostgreSQL's server does not) and peak RSS above the process's before it.
 */
async function timedForecast(w: Awaited<ReturnType<typeof world>>, on: ForecastStore): Promise<{ forecast: Forecast; wall: number; cpu: number; peakMiB: number }> {
  const rssAtStart = process.memoryUsage().rss;
  const cpuAtStart = process.cpuUsage();
  let peakRss = rssAtStart;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const started = performance.now();
  try {
    const forecast = await forecastCampaign(w.ctx, w.teamId, w.campaignId, undefined, on);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const cpu = process.cpuUsage(cpuAtStart);
    return { forecast, wall: seconds(started), cpu: (cpu.user + cpu.system) / 1e6, peakMiB: (peakRss - rssAtStart) / 2 ** 20 };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Forecasts of a campaign of `n` new leads over 10 accounts: on the memory store, and (`baseline`) on a scratch
 * database, the memory one taken before and after it so that the machine's drift shows.
 */
async function forecastRows(name: string, location: StoreLocation): Promise<void> {
  for (const [i, n] of FORECAST_LEADS.entries()) {
    const w = await world(location, FORECAST_ACCOUNTS);
    try {
      await seedLeads(w.store.db, w.teamId, w.campaignId, n);
      const sends = (f: Forecast) => f.sendsPerDay.reduce((sum, d) => sum + d.sends, 0);
      const target = n === 20_000 ? 'target < 2 s' : n === 100_000 ? 'target < 10 s' : '';
      const memory = await timedForecast(w, 'memory');
      const row = `**${memory.wall.toFixed(2)} s** (CPU ${memory.cpu.toFixed(2)} s), peak RSS +${memory.peakMiB.toFixed(0)} MiB, ${sends(memory.forecast)} sends to ${memory.forecast.completedAt}`;
      if (i > 0) {
        print(`| ${name} | forecast, ${n.toLocaleString('en')} leads over ${FORECAST_ACCOUNTS} accounts, memory store | ${row} | ${target} |`);
        continue;
      }
      const scratch = await timedForecast(w, 'database');
      const again = await timedForecast(w, 'memory');
      const same = JSON.stringify(scratch.forecast) === JSON.stringify(memory.forecast) && JSON.stringify(again.forecast) === JSON.stringify(memory.forecast);
      print(`| ${name} | forecast, ${n.toLocaleString('en')} leads over ${FORECAST_ACCOUNTS} accounts, memory store | ${row}; again after the baseline ${again.wall.toFixed(2)} s (CPU ${again.cpu.toFixed(2)} s) | ${target} |`);
      print(
        `| ${name} | forecast, ${n.toLocaleString('en')} leads, scratch database (baseline) | ${scratch.wall.toFixed(2)} s (CPU ${scratch.cpu.toFixed(2)} s), peak RSS +${scratch.peakMiB.toFixed(0)} MiB | memory / baseline = ${(((memory.wall + again.wall) / 2) / scratch.wall).toFixed(3)}; same forecast: ${same ? 'yes' : 'NO'} |`,
      );
    } finally {
      await w.close();
    }
  }
}

const print = (line: string) => process.stdout.write(`${line}\n`);

async function report(name: string, location: StoreLocation): Promise<void> {
  if (process.env.BENCH_FORECAST_ONLY) return forecastRows(name, location);
  if (process.env.BENCH_ENGINE_ONLY) {
    const run = await throughput(location);
    print(`| ${name} | ${LEADS} leads | ${run.sends} sends in ${run.wall.toFixed(1)} s: **${run.sendsPerSecond.toFixed(1)} sends/s** | peak RSS ${run.peakRssMiB.toFixed(0)} MiB |`);
    return;
  }
  // The baseline is measured on both sides of the engine run: this machine's speed drifts over minutes, and
  // single-row inserts (bound by each statement's round trip) drift more than the engine.
  const before = { regular: await rawInserts(location, 'regular'), temporary: await rawInserts(location, 'temporary') };
  const run = await throughput(location);
  const after = { temporary: await rawInserts(location, 'temporary'), regular: await rawInserts(location, 'regular') };
  const raw = (before.regular + after.regular) / 2;
  const temporary = (before.temporary + after.temporary) / 2;
  print(`| ${name} | ${LEADS} leads x 2 messages over ${ACCOUNTS} accounts | ${run.sends} sends in ${run.wall.toFixed(1)} s: **${run.sendsPerSecond.toFixed(1)} sends/s** | peak RSS ${run.peakRssMiB.toFixed(0)} MiB |`);
  print(
    `| ${name} | raw single-row inserts, regular table | ${raw.toFixed(0)} rows/s (${before.regular.toFixed(0)} before the run, ${after.regular.toFixed(0)} after) | engine / raw = ${(run.sendsPerSecond / raw).toFixed(3)} (target >= 0.25) |`,
  );
  print(
    `| ${name} | raw single-row inserts, temporary table | ${temporary.toFixed(0)} rows/s (${before.temporary.toFixed(0)} before the run, ${after.temporary.toFixed(0)} after) | engine / raw = ${(run.sendsPerSecond / temporary).toFixed(3)} |`,
  );
  const [small, big] = (await passCosts(location, [10_000, PENDING_BIG])) as [number, number];
  print(`| ${name} | scheduler pass, nothing due | 10,000 pending: ${small.toFixed(1)} ms; ${PENDING_BIG.toLocaleString('en')} pending: ${big.toFixed(1)} ms | ratio ${(big / small).toFixed(2)} (target <= 1.5) |`);
  await forecastRows(name, location);
}

print('| store | measure | result | note |');
print('|---|---|---|---|');
if (!process.env.BENCH_SKIP_PGLITE) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-'));
  try {
    await report('PGlite', { kind: 'pglite', dataDir });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (process.env.BENCH_PGLITE_MEMORY) await report('PGlite in memory', { kind: 'pglite-memory' });
}
if (process.env.DATABASE_URL) await report('PostgreSQL', { kind: 'postgres', url: process.env.DATABASE_URL });
