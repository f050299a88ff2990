// npm run bench:search — latency of thread search (GET /threads?q=) on a store seeded with 100,000 threads (3
// messages each), beside a plain first page of GET /threads in the same run: a data-directory PGlite, then
// PostgreSQL (DATABASE_URL, or a private cluster started for the run). BENCH_STORES=pglite or postgres runs one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateToLatest, openStore, type StoreLocation } from '../src/store/db.js';
import { withPostgres } from './postgres.js';
import { seedInbox } from './seed.js';
import { leadWaits } from '../src/engine/lead-waits.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const STORES = (process.env.BENCH_STORES ?? 'pglite,postgres').split(',');

// Seeded prospects are "User g" / user(5000000 + g); thread g's messages read "Message k of thread g".
const cases = [
  { name: 'first page, no search (baseline)', url: '/api/v1/threads?limit=20' },
  { name: 'by name: "User 4242"', url: `/api/v1/threads?limit=20&q=${encodeURIComponent('User 4242')}` },
  { name: 'by username prefix: "user50042"', url: '/api/v1/threads?limit=20&q=user50042' },
  { name: 'by message text: "thread 77777"', url: `/api/v1/threads?limit=20&q=${encodeURIComponent('thread 77777')}` },
  { name: 'no match: "zebra"', url: '/api/v1/threads?limit=20&q=zebra' },
  { name: 'word in every thread: "message"', url: '/api/v1/threads?limit=20&q=message' },
];

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

interface Row {
  name: string;
  found: number;
  median: number;
  p95: number;
}

/** Seeds the store at `location` and measures every case through the whole HTTP stack. */
async function measure(location: StoreLocation): Promise<Row[]> {
  const store = await openStore(location);
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
    const config = loadConfig({ LOG_LEVEL: 'silent', INBOX_RATE_LIMIT_PER_MINUTE: '100000000', INBOX_RATE_LIMIT_PER_HOUR: '100000000', INBOX_RATE_LIMIT_PER_DAY: '100000000' });
    const ctx = { db: store.db, clock: systemClock, config, logger: createLogger(config), platforms: createPlatformRegistry(store.db), leadWaits };
    const app = await buildServer(ctx);
    const rows: Row[] = [];
    for (const c of cases) {
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < RUNS + 5; i++) {
        const t0 = performance.now();
        const res = await app.inject({ method: 'GET', url: c.url, headers: { authorization: `Bearer ${seed.token}` } });
        const ms = performance.now() - t0;
        if (res.statusCode !== 200) throw new Error(`${c.name}: ${res.statusCode} ${res.body}`);
        found = (res.json() as { threads: unknown[] }).threads.length;
        if (i >= 5) times.push(ms); // the first runs warm the caches
      }
      times.sort((a, b) => a - b);
      rows.push({ name: c.name, found, median: quantile(times, 0.5), p95: quantile(times, 0.95) });
      console.error(`  ${c.name}: median ${quantile(times, 0.5).toFixed(1)} ms, p95 ${quantile(times, 0.95).toFixed(1)} ms`);
    }
    await app.close();
    return rows;
  } finally {
    await store.close();
  }
}

function table(storeName: string, rows: Row[]): string[] {
  const baseline = rows[0]!.median;
  return [
    `### ${storeName}`,
    '',
    '| request (limit=20) | threads returned | median (ms) | p95 (ms) | median / baseline |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${r.found} | ${r.median.toFixed(1)} | ${r.p95.toFixed(1)} | ${(r.median / baseline).toFixed(2)} |`),
    '',
  ];
}

async function main(): Promise<void> {
  const sections: string[] = [];
  if (STORES.includes('pglite')) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-search-'));
    try {
      sections.push(...table('PGlite, data directory', await measure({ kind: 'pglite', dataDir })));
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (STORES.includes('postgres')) {
    await withPostgres(async (url) => {
      sections.push(...table('PostgreSQL', await measure({ kind: 'postgres', url })));
    });
  }
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  process.stdout.write(
    [
      `## bench:search — ${new Date().toISOString().slice(0, 10)}`,
      '',
      `${machine}; ${THREADS} threads with 3 messages each; ${RUNS} requests per case`,
      'through the whole HTTP stack (fastify inject), one at a time, after 5 warm-up requests.',
      '',
      ...sections,
    ].join('\n'),
  );
}

await main();
