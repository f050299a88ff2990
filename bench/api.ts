// npm run bench:api — requests per second and p99 latency of the inbox endpoints on a store seeded with
// 100,000 threads, beside a bare authenticated route in the same run, on PGlite and on PostgreSQL.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type CompiledQuery } from 'kysely';
import { migrateToLatest, openStore, type StoreLocation } from '../src/store/db.js';
import { withPostgres } from './postgres.js';
import { seedInbox, type SeededInbox } from './seed.js';
import { leadWaits } from '../src/engine/lead-waits.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 100_000);
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 10;
const root = path.resolve(import.meta.dirname, '..');

interface Case {
  name: string;
  method: 'GET' | 'POST';
  path: (seed: SeededInbox) => string;
  body?: string;
}

const cases: Case[] = [
  { name: 'bare route with auth (baseline)', method: 'GET', path: () => '/bench/noop' },
  { name: 'GET /threads?limit=20', method: 'GET', path: () => '/api/v1/threads?limit=20' },
  {
    name: 'GET /threads?limit=20 with a tag filter',
    method: 'GET',
    path: (s) => `/api/v1/threads?limit=20&filters[tags][selectedIds][0]=${s.tagId}`,
  },
  { name: 'GET /threads/{id}/messages', method: 'GET', path: (s) => `/api/v1/threads/${s.threadIds[7]}/messages` },
  {
    name: 'POST /threads/{id}/messages',
    method: 'POST',
    path: (s) => `/api/v1/threads/${s.threadIds[11]}/messages`,
    body: JSON.stringify({ content: 'Benchmark reply' }),
  },
];

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Seeds the store and shows the plans of the queries each read endpoint runs. */
async function prepare(location: StoreLocation): Promise<{ seed: SeededInbox; plans: string[] }> {
  const captured: CompiledQuery[] = [];
  const store = await openStore(location, { onQuery: (q) => captured.push(q) });
  try {
    await migrateToLatest(store.db);
    const started = Date.now();
    const seed = await seedInbox(store.db, THREADS);
    console.error(`seeded ${THREADS} threads in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const { buildServer } = await import('../src/http/server.js');
    const { createLogger } = await import('../src/cli/runtime.js');
    const { loadConfig } = await import('../src/config.js');
    const { systemClock } = await import('../src/core/clock.js');
    const { createPlatformRegistry } = await import('../src/platforms/registry.js');
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const ctx = { db: store.db, clock: systemClock, config, logger: createLogger(config), platforms: createPlatformRegistry(store.db), leadWaits };
    const app = await buildServer(ctx);
    const plans: string[] = [];
    for (const c of cases.filter((c) => c.method === 'GET' && c.path(seed).startsWith('/api'))) {
      captured.length = 0;
      await app.inject({ method: 'GET', url: c.path(seed), headers: { authorization: `Bearer ${seed.token}` } });
      const reads = captured.filter((q) => /^select/i.test(q.sql) && /threads|messages/.test(q.sql));
      for (const q of reads) {
        const plan = await sql<{ 'QUERY PLAN': string }>`explain ${sql.raw(inline(q))}`.execute(store.db);
        plans.push(`${c.name}:\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
      }
    }
    await app.close();
    return { seed, plans };
  } finally {
    await store.close();
  }
}

/** Inlines parameters so the statement can be EXPLAINed (values here are our own, never user input). */
function inline(q: CompiledQuery): string {
  return q.sql.replace(/\$(\d+)/g, (_, i: string) => {
    const value = q.parameters[Number(i) - 1];
    if (value === null || value === undefined) return 'null';
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (value instanceof Date) return `'${value.toISOString()}'::timestamptz`;
    return `'${String(value).replaceAll("'", "''")}'`;
  });
}

interface Row {
  name: string;
  rps: number;
  p99: number;
}

async function measure(env: Record<string, string>, seed: SeededInbox): Promise<Row[]> {
  const port = await freePort();
  const server = spawn(process.execPath, ['--import', 'tsx', 'bench/api-server.ts'], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      INBOX_RATE_LIMIT_PER_MINUTE: '100000000',
      INBOX_RATE_LIMIT_PER_HOUR: '100000000',
      INBOX_RATE_LIMIT_PER_DAY: '100000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    server.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    server.on('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)));
  });
  const rows: Row[] = [];
  try {
    for (const c of cases) {
      const result = await autocannon({
        url: `http://127.0.0.1:${port}${c.path(seed)}`,
        method: c.method,
        connections: CONNECTIONS,
        duration: DURATION,
        headers: { authorization: `Bearer ${seed.token}`, 'content-type': 'application/json' },
        body: c.body,
      });
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(`${c.name}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
      }
      rows.push({ name: c.name, rps: result.requests.average, p99: result.latency.p99 });
      console.error(`  ${c.name}: ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms`);
    }
  } finally {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  return rows;
}

function report(engine: string, rows: Row[], plans: string[]): string {
  const baseline = rows[0]!.rps;
  const lines = [
    `### ${engine}`,
    '',
    '| endpoint | req/s | p99 (ms) | ratio to baseline |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p99} | ${(r.rps / baseline).toFixed(2)} |`),
    '',
    '<details><summary>query plans</summary>',
    '',
    '```',
    ...plans,
    '```',
    '</details>',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const sections: string[] = [];
  const pgliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-'));
  try {
    console.error('PGlite:');
    const pglite = await prepare({ kind: 'pglite', dataDir: pgliteDir });
    sections.push(report('PGlite', await measure({ INBOX_DATA_DIR: pgliteDir }, pglite.seed), pglite.plans));
  } finally {
    fs.rmSync(pgliteDir, { recursive: true, force: true });
  }

  await withPostgres(async (url) => {
    console.error('PostgreSQL:');
    const postgres = await prepare({ kind: 'postgres', url });
    sections.push(report('PostgreSQL', await measure({ DATABASE_URL: url }, postgres.seed), postgres.plans));
  });
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  process.stdout.write(
    `## bench:api — ${new Date().toISOString().slice(0, 10)}\n\n${machine}; ${THREADS} threads with 3 messages each; ` +
      `${CONNECTIONS} connections for ${DURATION} s per endpoint.\n\n${sections.join('\n')}`,
  );
}

await main();
