// npm run bench:import — a CSV import (the streamed upload, then its job) of N rows with three custom columns,
// beside a raw bulk load of the same rows in the same run, once before and once after it (the ratio is against the
// mean of their rates): COPY into a staging table, then INSERT ... SELECT into
// prospects and list_leads (on PGlite, COPY reads its blob device; on PostgreSQL, COPY ... FROM STDIN). While the
// import runs, a process of its own asks `GET /api/v1/team` every 50 ms over HTTP (p50/p99/max), and the server's
// RSS is sampled. Then list adds of 2,000 new ids a call over HTTP, each beside a raw load of 2,000 rows.
// Each store runs in a child process of its own, so its peak RSS is its own: PGlite in a data directory, then
// PostgreSQL (a private cluster unless DATABASE_URL is set).
// Sizes: BENCH_IMPORT_ROWS (100000; 1000000 for the issue's target), BENCH_ADD_CALLS (10).
// BENCH_IMPORT_STORES=pglite or postgres runs one store only.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CompiledQuery, sql } from 'kysely';
import pino from 'pino';
import type { AppContext } from '../src/app/context.js';
import { prospectValues } from '../src/app/prospects/prospects.js';
import { createTeam } from '../src/app/team/teams.js';
import { createToken } from '../src/app/team/tokens.js';
import { createJobRunner } from '../src/app/workers/background-jobs.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/core/clock.js';
import { leadWaits } from '../src/engine/lead-waits.js';
import { buildServer } from '../src/http/server.js';
import { platformOf } from '../src/platforms/platform.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { CopySource, csvOf } from '../src/store/copy.js';
import { migrateToLatest, openNewDatabase, openStore, type Db, type Store } from '../src/store/db.js';
import { withDataDir } from './data-dir.js';
import { withPostgres } from './postgres.js';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const ADD_CALLS = Number(process.env.BENCH_ADD_CALLS ?? 10);
const ADD_SIZE = 2000;
const PROBE_EVERY_MS = 50;
const MiB = 2 ** 20;

const seconds = (since: number) => (performance.now() - since) / 1000;

interface Probe {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

interface StoreResult {
  store: string;
  rows: number;
  importSeconds: number;
  uploadSeconds: number;
  /** the raw load before the import and after it */
  rawSeconds: [number, number];
  rawCopySeconds: [number, number];
  idle: Probe;
  duringImport: Probe;
  rssAtStartMiB: number;
  peakRssMiB: number;
  addCalls: number;
  addSeconds: number;
  addRawSeconds: number;
  duringAdds: Probe;
  eventBytesPerLead: number;
}

// --- the GET /team probe, in a process of its own so that its timings are not those of the server's event loop

const PROBE_SOURCE = `
const [url, token, every] = [process.argv[1], process.argv[2], Number(process.argv[3])];
let running = true;
const times = [];
process.stdin.on('data', () => { running = false; });
(async () => {
  while (running) {
    const started = performance.now();
    try {
      const response = await fetch(url, { headers: { authorization: 'Bearer ' + token } });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error('GET /team answered ' + response.status);
    } catch (error) {
      // The server is gone (the benchmark failed): the benchmark reports why.
      if (!running) break;
      throw error;
    }
    const took = performance.now() - started;
    times.push(took);
    if (took < every) await new Promise((resolve) => setTimeout(resolve, every - took));
  }
  process.stdout.write(JSON.stringify(times));
  process.exit(0);
})();
`;

function startProbe(url: string, token: string): { stop(): Promise<Probe> } {
  const probe = spawn(process.execPath, ['-e', PROBE_SOURCE, url, token, String(PROBE_EVERY_MS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  probe.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = once(probe, 'exit');
  return {
    async stop() {
      probe.stdin.write('stop\n');
      await exited;
      const sorted = (JSON.parse(out) as number[]).sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
    },
  };
}

function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

// --- the rows: one sequence of sandbox ids, the same for the import and the raw load (of two teams)

const firstId = 7_100_000_000_000 + (Date.now() % 1_000_000) * 1_000_000;
const rowOf = (i: number) => ({ id: String(firstId + i), company: `Company ${i}`, employees: i % 5000, website: `https://example${i % 1000}.com/about` });

/** The CSV file an import uploads: a header and ROWS rows, written to disk so that neither side holds it. */
function writeCsv(file: string): void {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, 'user_id,company,employees,website\n');
  for (let i = 0; i < ROWS; i += 10_000) {
    let text = '';
    for (let j = i; j < Math.min(ROWS, i + 10_000); j++) {
      const r = rowOf(j);
      text += `${r.id},${r.company},${r.employees},${r.website}\n`;
    }
    fs.writeSync(fd, text);
  }
  fs.closeSync(fd);
}

const STAGED_PROSPECT = [
  'id',
  'team_id',
  'platform',
  'platform_id',
  'username',
  'display_name',
  'bio',
  'is_protected',
  'follower_count',
  'following_count',
  'post_count',
  'account_status',
  'dms_open',
  'last_enriched_at',
  'created_at',
  'updated_at',
] as const;
const STAGED = [...STAGED_PROSPECT, 'company', 'employees', 'website'];

/**
 * The raw load's input, made before it is timed: each row of the file with its prospect as the platform gives it
 * (what the import looks up), as COPY's CSV in pieces of 20,000 rows on disk.
 */
async function writeStagingFile(ctx: AppContext, teamId: string, file: string, count: number, first = 0): Promise<void> {
  const platform = platformOf(ctx, 'sandbox');
  const fd = fs.openSync(file, 'w');
  const now = new Date();
  for (let i = first; i < first + count; i += 20_000) {
    const rows = Array.from({ length: Math.min(first + count, i + 20_000) - i }, (_, k) => rowOf(i + k));
    const profiles = await platform.profilesByIds(rows.map((r) => r.id));
    const staged = rows.map((r) => ({ ...prospectValues(teamId, 'sandbox', profiles.get(r.id)!, now), company: r.company, employees: r.employees, website: r.website }));
    fs.writeSync(fd, csvOf(staged, STAGED));
  }
  fs.closeSync(fd);
}

/** COPY of the staging file (in pieces of at most 8 MiB, cut at a row's end), then one INSERT ... SELECT per table. */
async function rawLoad(db: Db, file: string, listId: string, columns: { company: string; employees: string; website: string } | null): Promise<{ seconds: number; copySeconds: number }> {
  await sql`create unlogged table if not exists bench_staging (like prospects including defaults)`.execute(db);
  await sql`alter table bench_staging add column if not exists company text, add column if not exists employees numeric, add column if not exists website text`.execute(db);
  await sql`truncate bench_staging`.execute(db);
  const started = performance.now();
  const copyText = `copy bench_staging (${STAGED.join(', ')}) from stdin with (format csv)`;
  const fd = fs.openSync(file, 'r');
  const piece = Buffer.alloc(8 * MiB);
  let carried = Buffer.alloc(0);
  for (;;) {
    const read = fs.readSync(fd, piece, 0, piece.length, null);
    const bytes = Buffer.concat([carried, piece.subarray(0, read)]);
    if (read === 0) {
      if (bytes.length > 0) await db.executeQuery(CompiledQuery.raw(copyText, [new CopySource(bytes)]));
      break;
    }
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end > 0) await db.executeQuery(CompiledQuery.raw(copyText, [new CopySource(bytes.subarray(0, end))]));
    carried = Buffer.from(bytes.subarray(end));
  }
  fs.closeSync(fd);
  const copySeconds = seconds(started);
  const prospectColumns = sql.raw(STAGED_PROSPECT.join(', '));
  await db.transaction().execute(async (trx) => {
    await sql`insert into prospects (${prospectColumns}) select ${prospectColumns} from bench_staging`.execute(trx);
    await sql`
      insert into list_leads (list_id, prospect_id, data, created_at)
      select ${listId}, id, ${columns ? sql`jsonb_build_object(${columns.company}::text, company, ${columns.employees}::text, employees, ${columns.website}::text, website)` : sql`'{}'::jsonb`}, created_at
      from bench_staging`.execute(trx);
  });
  const total = seconds(started);
  await sql`truncate bench_staging`.execute(db);
  return { seconds: total, copySeconds };
}

async function benchStore(store: Store, label: string): Promise<StoreResult> {
  await migrateToLatest(store.db);
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    INBOX_RATE_LIMIT_PER_MINUTE: '100000000',
    INBOX_RATE_LIMIT_PER_HOUR: '100000000',
    INBOX_RATE_LIMIT_PER_DAY: '100000000',
    INBOX_IMPORT_LIMIT_BYTES: String(1024 * MiB),
  });
  const ctx: AppContext = { db: store.db, clock: systemClock, config, logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db), leadWaits };
  const app = await buildServer(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  // fetch keeps its connections; the server must not close one idle through a long phase under the client's feet.
  app.server.keepAliveTimeout = 3_600_000;
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-import-'));
  try {
    const teamOf = async (name: string) => {
      const { team, owner } = await createTeam(store.db, `${name} ${Date.now()}`, new Date());
      const { token } = await createToken(store.db, { teamId: team.id, memberId: owner.id, name: 'bench' }, new Date());
      const request = async (method: string, url: string, body?: unknown) => {
        const response = await fetch(`${base}${url}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        if (response.status !== 200 && response.status !== 201) throw new Error(`${method} ${url}: ${response.status} ${text.slice(0, 300)}`);
        return JSON.parse(text);
      };
      const list = (await request('POST', '/lists', { name: 'Bench' })).id as string;
      const column = async (name: string, type: string) => (await request('POST', `/lists/${list}/columns`, { name, type })).id as string;
      const columns = { company: await column('Company', 'text'), employees: await column('Employees', 'number'), website: await column('Website', 'url') };
      return { team, token, request, list, columns };
    };

    // The raw load of the same rows, before the import and after it (the load of a shared machine changes while
    // it runs: the ratio is against their mean), each into a team of its own.
    const stagingFile = path.join(work, 'staging.csv');
    const rawInto = async (name: string) => {
      const raw = await teamOf(name);
      await writeStagingFile(ctx, raw.team.id, stagingFile, ROWS);
      const result = await rawLoad(store.db, stagingFile, raw.list, raw.columns);
      const [{ n }] = (await sql<{ n: number }>`select count(*)::int as n from list_leads where list_id = ${raw.list}`.execute(store.db)).rows as [{ n: number }];
      if (n !== ROWS) throw new Error(`raw load wrote ${n} of ${ROWS}`);
      return result;
    };
    const rawBefore = await rawInto('bench raw before');

    // Our import, into a team of its own.
    const ours = await teamOf('bench import');
    const csvFile = path.join(work, 'leads.csv');
    writeCsv(csvFile);
    const idleProbe = startProbe(`${base}/team`, ours.token);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const idle = await idleProbe.stop();

    const rssAtStart = process.memoryUsage().rss;
    const rss = rssSampler();
    const probe = startProbe(`${base}/team`, ours.token);
    const eventsBefore = await eventBytes(store.db, ours.team.id);
    let started = performance.now();
    const query = new URLSearchParams({ listId: ours.list, idColumn: 'user_id', 'columns[company]': ours.columns.company, 'columns[employees]': ours.columns.employees, 'columns[website]': ours.columns.website });
    const upload = await fetch(`${base}/import-jobs?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ours.token}`, 'content-type': 'text/csv' },
      body: fs.createReadStream(csvFile) as unknown as BodyInit,
      duplex: 'half',
    } as RequestInit);
    const created = (await upload.json()) as { id: string };
    if (upload.status !== 200) throw new Error(`upload failed: ${JSON.stringify(created)}`);
    const uploadSeconds = seconds(started);
    const runner = createJobRunner(ctx);
    while ((await runner.runOnce()) > 0);
    const importSeconds = seconds(started);
    const duringImport = await probe.stop();
    const peakRss = rss.stop();
    const job = await ours.request('GET', `/import-jobs/${created.id}`);
    if (job.status !== 'completed' || job.added !== ROWS) throw new Error(`import ended ${job.status} with ${job.added} of ${ROWS}: ${JSON.stringify(job).slice(0, 500)}`);
    const eventBytesPerLead = ((await eventBytes(store.db, ours.team.id)) - eventsBefore) / ROWS;

    const rawAfter = await rawInto('bench raw after');

    // List adds: calls of 2,000 new ids, each beside a raw load of 2,000 other new rows (in turn, so both see the same load).
    const adds = await teamOf('bench adds');
    const addsRaw = await teamOf('bench adds raw');
    const addProbe = startProbe(`${base}/team`, adds.token);
    let addSeconds = 0;
    let addRawSeconds = 0;
    for (let call = 0; call < ADD_CALLS; call++) {
      const first = ROWS + call * ADD_SIZE;
      const ids = Array.from({ length: ADD_SIZE }, (_, k) => rowOf(first + k).id);
      started = performance.now();
      const added = await adds.request('POST', `/lists/${adds.list}/leads`, { platformIds: ids });
      addSeconds += seconds(started);
      if (added.added.length !== ADD_SIZE) throw new Error(`list add added ${added.added.length}`);
      await writeStagingFile(ctx, addsRaw.team.id, stagingFile, ADD_SIZE, first);
      addRawSeconds += (await rawLoad(store.db, stagingFile, addsRaw.list, null)).seconds;
    }
    const duringAdds = await addProbe.stop();

    return {
      store: label,
      rows: ROWS,
      importSeconds,
      uploadSeconds,
      rawSeconds: [rawBefore.seconds, rawAfter.seconds],
      rawCopySeconds: [rawBefore.copySeconds, rawAfter.copySeconds],
      idle,
      duringImport,
      rssAtStartMiB: rssAtStart / MiB,
      peakRssMiB: peakRss / MiB,
      addCalls: ADD_CALLS,
      addSeconds,
      addRawSeconds,
      duringAdds,
      eventBytesPerLead,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    await app.close();
  }
}

/** The stored size of a team's event log (its groups' JSON), in bytes. */
async function eventBytes(db: Db, teamId: string): Promise<number> {
  const { rows } = await sql<{ bytes: number }>`select coalesce(sum(pg_column_size(data)), 0)::bigint as bytes from event_groups where team_id = ${teamId}`.execute(db);
  return rows[0]!.bytes;
}

// --- one child process per store

async function child(storeName: string): Promise<void> {
  const result =
    storeName === 'pglite'
      ? await withDataDir('inbox-bench-import-', async (dataDir) => {
          const store = await openStore({ kind: 'pglite', dataDir });
          try {
            return await benchStore(store, 'PGlite');
          } finally {
            await store.close();
          }
        })
      : await (async () => {
          const store = await openNewDatabase(process.env.DATABASE_URL!, `bench_import_${Date.now()}`);
          try {
            return await benchStore(store, 'PostgreSQL');
          } finally {
            await store.close();
          }
        })();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(storeName: string, env: NodeJS.ProcessEnv): StoreResult {
  console.error(`${storeName}: import of ${ROWS.toLocaleString('en')} rows, raw load, ${ADD_CALLS} list adds`);
  const out = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename], {
    env: { ...env, BENCH_IMPORT_CHILD: storeName },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * MiB,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as StoreResult;
}

const ms = (p: Probe) => `${p.p50.toFixed(0)} / ${p.p99.toFixed(0)} / ${p.max.toFixed(0)} ms`;

function lines(r: StoreResult): string[] {
  const importRate = r.rows / r.importSeconds;
  const rawRate = (r.rows / r.rawSeconds[0] + r.rows / r.rawSeconds[1]) / 2;
  const addRate = (r.addCalls * ADD_SIZE) / r.addSeconds;
  const addRawRate = (r.addCalls * ADD_SIZE) / r.addRawSeconds;
  return [
    `| ${r.store} | CSV import, ${r.rows.toLocaleString('en')} rows × 3 columns (upload ${r.uploadSeconds.toFixed(1)} s + job) | ` +
      `${importRate.toFixed(0)} rows/s (${r.importSeconds.toFixed(1)} s) | ${rawRate.toFixed(0)} rows/s (before ${r.rawSeconds[0].toFixed(1)} s, after ${r.rawSeconds[1].toFixed(1)} s; COPY ${r.rawCopySeconds[0].toFixed(1)}, ${r.rawCopySeconds[1].toFixed(1)} s) | ` +
      `**${(importRate / rawRate).toFixed(2)}** | ${ms(r.duringImport)} (idle ${ms(r.idle)}) | ${r.peakRssMiB.toFixed(0)} MiB (${r.rssAtStartMiB.toFixed(0)} at start) | ${r.eventBytesPerLead.toFixed(0)} B |`,
    `| ${r.store} | list add, ${r.addCalls} calls × 2,000 new ids | ${addRate.toFixed(0)} rows/s (${((r.addSeconds / r.addCalls) * 1000).toFixed(0)} ms a call) | ` +
      `${addRawRate.toFixed(0)} rows/s (${((r.addRawSeconds / r.addCalls) * 1000).toFixed(0)} ms a call) | **${(addRate / addRawRate).toFixed(2)}** | ${ms(r.duringAdds)} | | |`,
  ];
}

async function main(): Promise<void> {
  const stores = (process.env.BENCH_IMPORT_STORES ?? 'pglite,postgres').split(',');
  const results: StoreResult[] = [];
  if (stores.includes('pglite')) results.push(runChild('pglite', process.env));
  if (stores.includes('postgres')) await withPostgres(async (url) => void results.push(runChild('postgres', { ...process.env, DATABASE_URL: url })));
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`;
  process.stdout.write(
    `## bench:import — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\n${machine}.\n\n` +
      `| store | workload | ours | raw (COPY + INSERT ... SELECT), the mean of the rates before and after ours | ratio | GET /team p50 / p99 / max meanwhile | peak RSS | event log a lead |\n` +
      `| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |\n${results.flatMap(lines).join('\n')}\n`,
  );
}

if (process.env.BENCH_IMPORT_CHILD) await child(process.env.BENCH_IMPORT_CHILD);
else await main();
