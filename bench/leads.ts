// npm run bench:leads — leads per second for list adds (2,000 per call, over HTTP), CSV import (a streamed
// upload, then the job run in batches) and campaign rule sync (bench/sync.ts), each beside a raw bulk insert
// of the same rows in the same run, on PGlite and on PostgreSQL (a private cluster unless DATABASE_URL is set).
// Then campaign reads at 10,000, 100,000 and 1,000,000 leads beside the recount they ran before migration 0032
// (bench/campaign-reads.ts, which runs alone too).
// Sizes: BENCH_ADD_CALLS (25), BENCH_CSV_ROWS (100000), BENCH_SYNC_LEADS (100000), BENCH_READ_SIZES (10000,100000,1000000).
import os from 'node:os';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import { createJobRunner } from '../src/app/workers/background-jobs.js';
import type { AppContext } from '../src/app/context.js';
import { createTeam } from '../src/app/team/teams.js';
import { createToken } from '../src/app/team/tokens.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/core/clock.js';
import { buildServer } from '../src/http/server.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { migrateToLatest, openStore, type Db, type StoreLocation } from '../src/store/db.js';
import { withPostgres } from './postgres.js';
import { benchRuleSync, syncReportLine } from './sync.js';
import { leadWaits } from '../src/engine/lead-waits.js';
import { benchCampaignReads, campaignReadLines } from './campaign-reads.js';
import { withDataDir } from './data-dir.js';

const ADD_CALLS = Number(process.env.BENCH_ADD_CALLS ?? 25);
const CSV_ROWS = Number(process.env.BENCH_CSV_ROWS ?? 100_000);
const SYNC_LEADS = Number(process.env.BENCH_SYNC_LEADS ?? 100_000);

const seconds = (since: number) => (performance.now() - since) / 1000;

/** Distinct sandbox user ids per run and workload, so every lead is new to the team. */
let nextId = 6_000_000_000_000 + Date.now() * 10;
const freshIds = (n: number) => Array.from({ length: n }, () => String(nextId++));

/** The baseline: `leads` prospects and their list rows written by two INSERT ... SELECT statements. */
async function rawInsert(db: Db, teamId: string, listId: string, leads: number): Promise<number> {
  const prefix = `raw${listId.slice(0, 12)}`;
  const started = performance.now();
  await sql`
    insert into prospects (id, team_id, platform, platform_id, username, display_name)
    select ${prefix} || lpad(g::text, 9, '0'), ${teamId}, 'sandbox', (${nextId}::bigint + g)::text, 'raw' || g, 'Raw ' || g
    from generate_series(1, ${leads}::int) g`.execute(db);
  await sql`
    insert into list_leads (list_id, prospect_id, data)
    select ${listId}, id, '{}' from prospects where team_id = ${teamId} and id like ${`${prefix}%`}`.execute(db);
  nextId += leads + 1;
  return leads / seconds(started);
}

interface Row {
  workload: string;
  leadsPerSecond: number;
  seconds: number;
  raw: number;
  notes: string;
}

async function benchEngine(location: StoreLocation): Promise<Row[]> {
  const store = await openStore(location);
  try {
    await migrateToLatest(store.db);
    const config = loadConfig({ LOG_LEVEL: 'silent', INBOX_RATE_LIMIT_PER_MINUTE: '100000000', INBOX_RATE_LIMIT_PER_HOUR: '100000000', INBOX_RATE_LIMIT_PER_DAY: '100000000' });
    const ctx: AppContext = { db: store.db, clock: systemClock, config, logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db), leadWaits };
    const app = await buildServer(ctx);
    const now = new Date();
    const { team, owner } = await createTeam(store.db, `bench leads ${Date.now()}`, now);
    const { token } = await createToken(store.db, { teamId: team.id, memberId: owner.id, name: 'bench' }, now);
    const request = (method: 'POST' | 'GET', url: string, payload?: unknown, contentType = 'application/json') =>
      app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, payload: payload as string });
    const newList = async (name: string) => (await request('POST', '/lists', { name })).json().id as string;
    const rows: Row[] = [];

    // List adds: ADD_CALLS calls of 2,000 new leads each.
    const addList = await newList('Adds');
    const addRaw = await rawInsert(store.db, team.id, await newList('Raw adds'), ADD_CALLS * 2000);
    let started = performance.now();
    for (let call = 0; call < ADD_CALLS; call++) {
      const response = await request('POST', `/lists/${addList}/leads`, { platformIds: freshIds(2000) });
      if (response.statusCode !== 200 || response.json().added.length !== 2000) throw new Error(`list add failed: ${response.body.slice(0, 200)}`);
    }
    const addSeconds = seconds(started);
    rows.push({ workload: `list add, ${ADD_CALLS} calls × 2,000 new leads`, leadsPerSecond: (ADD_CALLS * 2000) / addSeconds, seconds: addSeconds, raw: addRaw, notes: `${((addSeconds / ADD_CALLS) * 1000).toFixed(0)} ms per call` });

    // CSV import: a generated file streamed to the route, then the job run to completion.
    const importList = await newList('Import');
    const importRaw = await rawInsert(store.db, team.id, await newList('Raw import'), CSV_ROWS);
    const ids = freshIds(CSV_ROWS);
    const csv = Readable.from(
      (function* () {
        yield 'user_id,company\n';
        for (let i = 0; i < CSV_ROWS; i += 1000) yield ids.slice(i, i + 1000).map((id, j) => `${id},Company ${i + j}\n`).join('');
      })(),
    );
    const rssAtStart = process.memoryUsage().rss;
    let peakRss = rssAtStart;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    started = performance.now();
    const created = await request('POST', `/import-jobs?listId=${importList}&idColumn=user_id`, csv, 'text/csv');
    if (created.statusCode !== 200) throw new Error(`upload failed: ${created.body}`);
    const uploadSeconds = seconds(started);
    const runner = createJobRunner(ctx);
    while ((await runner.runOnce()) > 0);
    const importSeconds = seconds(started);
    clearInterval(sampler);
    const job = (await request('GET', `/import-jobs/${created.json().id}`)).json();
    if (job.status !== 'completed' || job.added !== CSV_ROWS) throw new Error(`import ended ${job.status} with ${job.added} of ${CSV_ROWS}`);
    rows.push({
      workload: `CSV import of ${CSV_ROWS.toLocaleString('en')} rows (upload + job)`,
      leadsPerSecond: CSV_ROWS / importSeconds,
      seconds: importSeconds,
      raw: importRaw,
      notes: `upload ${uploadSeconds.toFixed(1)} s; RSS growth ${((peakRss - rssAtStart) / 2 ** 20).toFixed(0)} MiB`,
    });
    await app.close();
    return rows;
  } finally {
    await store.close();
  }
}

function table(engine: string, rows: Row[]): string[] {
  return rows.map(
    (r) =>
      `| ${engine} | ${r.workload} | ${r.leadsPerSecond.toFixed(0)} leads/s (${r.seconds.toFixed(1)} s) | ` +
      `${(r.leadsPerSecond / r.raw).toFixed(3)} of raw insert (${r.raw.toFixed(0)} leads/s) | ${r.notes} |`,
  );
}

async function main(): Promise<void> {
  const lines: string[] = [];
  console.error('PGlite: list adds and CSV import');
  lines.push(...table('PGlite', await withDataDir('inbox-bench-leads-', (dataDir) => benchEngine({ kind: 'pglite', dataDir }))));
  console.error('PGlite: rule sync');
  lines.push(syncReportLine('PGlite', await benchRuleSync({ kind: 'pglite-memory' }, SYNC_LEADS)));
  console.error('PGlite: campaign reads');
  const reads = campaignReadLines('PGlite', await withDataDir('inbox-bench-reads-', (dataDir) => benchCampaignReads({ kind: 'pglite', dataDir })));

  await withPostgres(async (url) => {
    console.error('PostgreSQL: list adds, CSV import and rule sync');
    lines.push(...table('PostgreSQL', await benchEngine({ kind: 'postgres', url })));
    lines.push(syncReportLine('PostgreSQL', await benchRuleSync({ kind: 'postgres', url }, SYNC_LEADS)));
    console.error('PostgreSQL: campaign reads');
    reads.push(...campaignReadLines('PostgreSQL', await benchCampaignReads({ kind: 'postgres', url })));
  });
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  process.stdout.write(
    `## bench:leads — ${new Date().toISOString().slice(0, 10)}\n\n${machine}. Raw insert = the same number of prospects and ` +
      `list rows written by INSERT ... SELECT in the same run; a ratio of 1 would mean no overhead at all.\n\n` +
      `| engine | workload | throughput | ratio | notes |\n| --- | --- | ---: | ---: | --- |\n${lines.join('\n')}\n\n` +
      `Campaign reads (getCampaign, median of 31 in turn across the sizes), beside the recount every read ran before ` +
      `migration 0032 (median of 5):\n\n| engine | workload | read | ratio | baseline |\n| --- | --- | ---: | ---: | ---: |\n${reads.join('\n')}\n`,
  );
}

await main();
