// Logs the statements of a CSV import's batches and of one 2,000-id list add on the store of DATABASE_URL (or PGlite
// in memory), with the time each took: `node --import tsx bench/import-statements.ts`.
import { Readable } from 'node:stream';
import pino from 'pino';
import type { LogEvent } from 'kysely';
import type { AppContext } from '../src/app/context.js';
import { createCsvImport } from '../src/app/lists/imports.js';
import { addListLeads } from '../src/app/lists/leads.js';
import { createList, createListColumn } from '../src/app/lists/lists.js';
import { createTeam } from '../src/app/team/teams.js';
import { createJobRunner } from '../src/app/workers/background-jobs.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/core/clock.js';
import { leadWaits } from '../src/engine/lead-waits.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { migrateToLatest, openNewDatabase, openStore } from '../src/store/db.js';
import pg from 'pg';

const ROWS = Number(process.env.BENCH_STATEMENT_ROWS ?? 3000);

interface Logged {
  at: number;
  ms: number;
  sql: string;
}
let log: Logged[] | undefined;
const t0 = performance.now();

async function open() {
  const onQuery = (query: { sql: string }, ms: number) => log?.push({ at: performance.now() - t0, ms, sql: query.sql.replace(/\s+/g, ' ').slice(0, 150) });
  const server = process.env.DATABASE_URL;
  if (!server) return openStore({ kind: 'pglite-memory' }, { onQuery });
  const name = `statements_${Date.now()}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return openStore({ kind: 'postgres', url: url.toString() }, { onQuery });
}

function report(title: string, entries: Logged[]): void {
  const total = entries.reduce((sum, e) => sum + e.ms, 0);
  console.log(`\n## ${title}: ${entries.length} statements, ${total.toFixed(1)} ms in statements, ${(entries.at(-1)!.at - entries[0]!.at + entries[0]!.ms).toFixed(1)} ms from first to last`);
  for (const e of entries) console.log(`${e.at.toFixed(1).padStart(9)} ${e.ms.toFixed(2).padStart(8)} ms  ${e.sql}`);
}

const store = await open();
await migrateToLatest(store.db);
const config = loadConfig({ LOG_LEVEL: 'silent' });
const ctx: AppContext = { db: store.db, clock: systemClock, config, logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db), leadWaits };
const { team } = await createTeam(store.db, `statements ${Date.now()}`, new Date());
const list = await createList(ctx, team.id, { name: 'Statements' });
const column = async (name: string, type: 'text' | 'number' | 'url') => (await createListColumn(ctx, team.id, list.id, { name, type })).id;
const columns = { company: await column('Company', 'text'), employees: await column('Employees', 'number'), website: await column('Website', 'url') };
const first = 7_200_000_000_000 + (Date.now() % 1_000_000) * 1_000_000;
const csv = Readable.from(
  (function* () {
    yield 'user_id,company,employees,website\n';
    for (let i = 0; i < ROWS; i++) yield `${first + i},Company ${i},${i % 5000},https://example${i % 1000}.com/about\n`;
  })(),
);
const job = await createCsvImport(ctx, team.id, { listId: list.id, mapping: { idColumn: 'user_id', columns } }, csv);
log = [];
const runner = createJobRunner(ctx);
const [cpuBefore, wallBefore] = [process.cpuUsage(), performance.now()];
while ((await runner.runOnce()) > 0);
const [cpu, wall] = [process.cpuUsage(cpuBefore), performance.now() - wallBefore];
const ran = log;
log = undefined;
report(`import job of ${ROWS} rows (${job.id}): ${wall.toFixed(0)} ms, this process's CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`, ran);
const ids = Array.from({ length: 2000 }, (_, k) => String(first + ROWS + k));
log = [];
await addListLeads(ctx, team.id, list.id, ids.map((value) => ({ ref: { by: 'platformId' as const, value } })));
report('list add of 2,000 new ids', log);
await store.close();
