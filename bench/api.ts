// npm run bench:api — requests per second and p99 latency of the inbox endpoints on a store seeded with
// 100,000 threads, beside a bare authenticated route in the same run, on PGlite and on PostgreSQL; API v2's
// thread page and send beside their v1 equivalents.
//
// BENCH_STORES=pglite or postgres measures one store; BENCH_CASES=name,name only the cases whose names contain
// one of them (the bare route is always measured); BENCH_ROUNDS=2 alternates without and with the dead webhook
// endpoints twice (A B A B A) instead of once (A B A), for a loaded machine. The dead-endpoint comparison of the
// send alone, at full size: BENCH_CASES='POST /threads/{id}/messages' BENCH_ROUNDS=2 npm run bench:api.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type CompiledQuery } from 'kysely';
import { migrateToLatest, openStore, type StoreLocation } from '../src/store/db.js';
import { withPostgres } from './postgres.js';
import { freePort } from '../test/helpers/cli.js';
import { seedInbox, type SeededInbox } from './seed.js';
import { leadWaits } from '../src/engine/lead-waits.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 100_000);
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const STORES = (process.env.BENCH_STORES ?? 'pglite,postgres').split(',');
const CASE_NAMES = process.env.BENCH_CASES?.split(',');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const CONNECTIONS = 10;
const root = path.resolve(import.meta.dirname, '..');

interface Case {
  name: string;
  method: 'GET' | 'POST';
  path: (seed: SeededInbox) => string;
  body?: (seed: SeededInbox) => string;
  /** a fresh Idempotency-Key on every request (a send each time, never a replay) */
  idempotencyKey?: boolean;
  /** the case this one is set against in a table of its own: v2 beside its v1 equivalent, or ours beside a hand-written handler */
  against?: { name: string; table: keyof typeof PAIR_TABLES };
}

/** The tables of cases set against others: a title, the columns' names, and which of the pair is the ratio's numerator. */
const PAIR_TABLES = {
  v2: { title: 'API v2 beside its v1 equivalent (without webhooks, as above):', columns: ['v2 endpoint', 'v1 equivalent', 'ratio to v1'], oursFirst: true },
  handWritten: {
    title: 'Ours beside a hand-written handler doing the same work (bench/api-server.ts; without webhooks; target: at least 0.80):',
    columns: ['hand-written handler', 'our endpoint', 'ours / hand-written'],
    oursFirst: false,
  },
};

const V1_THREAD_PAGE = 'GET /threads?limit=20';
const V1_SEND = 'POST /threads/{id}/messages';

const allCases: Case[] = [
  { name: 'bare route with auth (baseline)', method: 'GET', path: () => '/bench/noop' },
  { name: V1_THREAD_PAGE, method: 'GET', path: () => '/api/v1/threads?limit=20' },
  {
    name: 'GET /threads?limit=20 with a tag filter',
    method: 'GET',
    path: (s) => `/api/v1/threads?limit=20&filters[tags][selectedIds][0]=${s.tagId}`,
  },
  { name: 'GET /threads/{id}/messages', method: 'GET', path: (s) => `/api/v1/threads/${s.threadIds[7]}/messages` },
  {
    name: 'hand-written GET /threads/{id}/messages',
    method: 'GET',
    path: (s) => `/bench/raw/threads/${s.threadIds[7]}/messages`,
    against: { name: 'GET /threads/{id}/messages', table: 'handWritten' },
  },
  {
    name: V1_SEND,
    method: 'POST',
    path: (s) => `/api/v1/threads/${s.threadIds[11]}/messages`,
    body: () => JSON.stringify({ content: 'Benchmark reply' }),
  },
  {
    name: 'v2 POST /messages to a thread',
    method: 'POST',
    path: () => '/api/v2/messages',
    body: (s) => JSON.stringify({ target: { type: 'thread', threadId: s.threadIds[13] }, content: 'Benchmark reply' }),
    against: { name: V1_SEND, table: 'v2' },
  },
  {
    name: 'v2 POST /messages to a thread, with an Idempotency-Key',
    method: 'POST',
    path: () => '/api/v2/messages',
    body: (s) => JSON.stringify({ target: { type: 'thread', threadId: s.threadIds[17] }, content: 'Benchmark reply' }),
    idempotencyKey: true,
    against: { name: V1_SEND, table: 'v2' },
  },
  { name: 'v2 GET /threads?limit=20', method: 'GET', path: () => '/api/v2/threads?limit=20', against: { name: V1_THREAD_PAGE, table: 'v2' } },
  {
    name: 'hand-written GET /threads?limit=20',
    method: 'GET',
    path: () => '/bench/raw/threads',
    against: { name: V1_THREAD_PAGE, table: 'handWritten' },
  },
];

const cases = allCases.filter((c, i) => i === 0 || !CASE_NAMES || CASE_NAMES.some((name) => c.name.includes(name)));

let keys = 0;

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
    // An array (the v2 pages' `= any($n)`) as an array literal.
    const text = Array.isArray(value) ? `{${value.map((v) => `"${String(v).replaceAll('"', '\\"')}"`).join(',')}}` : String(value);
    return `'${text.replaceAll("'", "''")}'`;
  });
}

interface Row {
  name: string;
  rps: number;
  p99: number;
  /** the server process's CPU time per request (the embedded store's work included; PostgreSQL's server not) */
  cpuMs: number;
}

const DEAD_WEBHOOKS = 60;
const BACKLOG_EVENTS = 200;

/** Endpoints that accept a connection and never answer: each delivery waits out its full timeout. */
async function startBlackHole(): Promise<{ url: string; close: () => Promise<void> }> {
  const net = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/**
 * Gives the team DEAD_WEBHOOKS endpoints subscribed to everything and a backlog of events to deliver to them;
 * the returned function deletes them again, so the next measurement without them starts as the first did.
 */
async function addDeadWebhooks(port: number, seed: SeededInbox, url: string): Promise<() => Promise<void>> {
  const call = async (method: string, route: string, body?: unknown) => {
    const answer = await fetch(`http://127.0.0.1:${port}${route}`, {
      method,
      headers: { authorization: `Bearer ${seed.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!answer.ok) throw new Error(`${method} ${route}: ${answer.status} ${await answer.text()}`);
    const text = await answer.text();
    return text ? (JSON.parse(text) as { id: string }) : null;
  };
  const ids: string[] = [];
  for (let i = 0; i < DEAD_WEBHOOKS; i++) ids.push((await call('POST', '/api/v1/webhooks', { url: `${url}/hook/${i}`, eventTypes: ['*'] }))!.id);
  for (let i = 0; i < BACKLOG_EVENTS; i++) await call('POST', '/api/v1/tags', { name: `backlog ${Date.now()} ${i}` });
  return async () => {
    for (const id of ids) await call('DELETE', `/api/v1/webhooks/${id}`);
  };
}

/** A hand-written handler must answer exactly what the endpoint it is set against answers, or its ratio means nothing. */
async function expectSameAnswers(port: number, seed: SeededInbox): Promise<void> {
  const body = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${seed.token}` } })).text();
  for (const c of cases.filter((c) => c.against?.table === 'handWritten')) {
    const ours = cases.find((o) => o.name === c.against!.name)!;
    const [mine, theirs] = await Promise.all([body(c.path(seed)), body(ours.path(seed))]);
    if (mine !== theirs) throw new Error(`${c.name} does not answer what ${ours.name} answers:\n${mine.slice(0, 400)}\n${theirs.slice(0, 400)}`);
  }
}

async function measure(env: Record<string, string>, seed: SeededInbox, deadWebhooks?: string): Promise<Row[]> {
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
      ...(deadWebhooks ? { BENCH_WEBHOOK_DELIVERY: '1', INBOX_WEBHOOK_ALLOW_PRIVATE: '1' } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    server.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    server.on('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)));
  });
  const rows: Row[] = [];
  try {
    const removeDeadWebhooks = deadWebhooks ? await addDeadWebhooks(port, seed, deadWebhooks) : null;
    await expectSameAnswers(port, seed);
    const cpu = async () => ((await (await fetch(`http://127.0.0.1:${port}/bench/cpu`, { headers: { authorization: `Bearer ${seed.token}` } })).json()) as { ms: number }).ms;
    for (const c of cases) {
      const headers = { authorization: `Bearer ${seed.token}`, 'content-type': 'application/json' };
      const cpuBefore = await cpu();
      const result = await autocannon({
        url: `http://127.0.0.1:${port}${c.path(seed)}`,
        method: c.method,
        connections: CONNECTIONS,
        duration: DURATION,
        headers,
        body: c.body?.(seed),
        ...(c.idempotencyKey ? { requests: [{ setupRequest: (request) => ({ ...request, headers: { ...headers, 'idempotency-key': `bench-${process.pid}-${++keys}` } }) }] } : {}),
      });
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(`${c.name}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
      }
      const cpuMs = (await cpu()) - cpuBefore;
      rows.push({ name: c.name, rps: result.requests.average, p99: result.latency.p99, cpuMs: cpuMs / result.requests.total });
      console.error(`  ${c.name}: ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms, ${(cpuMs / result.requests.total).toFixed(2)} ms CPU a request`);
    }
    await removeDeadWebhooks?.();
  } finally {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  return rows;
}

/**
 * Each dead-endpoint run sits between two runs without them (A B A, or A B A B A), so the load of a shared machine
 * drifting during the run weighs on both sides alike; its ratio is to their mean.
 */
const meanOf = (before: Row[], after: Row[]): Row[] =>
  before.map((r, i) => ({ name: r.name, rps: (r.rps + after[i]!.rps) / 2, p99: Math.max(r.p99, after[i]!.p99), cpuMs: (r.cpuMs + after[i]!.cpuMs) / 2 }));

function report(engine: string, plain: Row[][], dead: Row[][], plans: string[]): string {
  // Every round's ratio against the runs beside it; the tables show the mean of the rounds. The bare route's
  // ratio in the same round says how much of an endpoint's change is the machine's load changing meanwhile.
  const neighbours = dead.map((_, round) => meanOf(plain[round]!, plain[round + 1]!));
  const mean = (runs: Row[][], i: number, key: 'rps' | 'cpuMs') => runs.reduce((sum, run) => sum + run[i]![key], 0) / runs.length;
  const rows = neighbours[0]!.map((r, i) => ({ ...r, rps: mean(neighbours, i, 'rps'), cpuMs: mean(neighbours, i, 'cpuMs') }));
  const ratios = (i: number, key: 'rps' | 'cpuMs') => dead.map((d, round) => (d[i]![key] / neighbours[round]![i]![key]).toFixed(2)).join(', ');
  const deadMean = dead[0]!.map((r, i) => ({ ...r, rps: mean(dead, i, 'rps'), cpuMs: mean(dead, i, 'cpuMs'), p99: Math.max(...dead.map((d) => d[i]!.p99)) }));
  const baseline = rows[0]!.rps;
  const lines = [
    `### ${engine}`,
    '',
    'Without webhooks (mean of the runs before and after the one with dead endpoints; p99 the worse of the two):',
    '',
    '| endpoint | req/s | p99 (ms) | ratio to baseline | server CPU ms a request |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p99} | ${(r.rps / baseline).toFixed(2)} | ${r.cpuMs.toFixed(2)} |`),
    '',
    `With webhook delivery running and ${DEAD_WEBHOOKS} endpoints that never answer, subscribed to every event ` +
      `(${BACKLOG_EVENTS} events queued for each before the first endpoint is measured; target: at least 0.80 of the throughput without them; ` +
      `${dead.length} round${dead.length > 1 ? 's' : ''}, each against the runs without them before and after it):`,
    '',
    '| endpoint | req/s | p99 (ms) | ratio to the same endpoint without them, each round | server CPU ms a request | its ratio, each round |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...deadMean.map((r, i) => `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p99} | ${ratios(i, 'rps')} | ${r.cpuMs.toFixed(2)} | ${ratios(i, 'cpuMs')} |`),
    '',
    ...pairTables(rows),
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

/** Each table of cases set against another case (PAIR_TABLES), when both were measured. */
function pairTables(rows: Row[]): string[] {
  return Object.entries(PAIR_TABLES).flatMap(([table, { title, columns, oursFirst }]) => {
    const lines = cases.flatMap((c, i) => {
      const other = rows[cases.findIndex((o) => o.name === c.against?.name)];
      if (c.against?.table !== table || !other) return [];
      const ratio = oursFirst ? rows[i]!.rps / other.rps : other.rps / rows[i]!.rps;
      return [`| ${c.name} | ${rows[i]!.rps.toFixed(0)} | ${rows[i]!.p99} | ${other.name} | ${other.rps.toFixed(0)} | ${ratio.toFixed(2)} |`];
    });
    if (lines.length === 0) return [];
    return [title, '', `| ${columns[0]} | req/s | p99 (ms) | ${columns[1]} | its req/s | ${columns[2]} |`, '| --- | ---: | ---: | --- | ---: | ---: |', ...lines, ''];
  });
}

async function withBlackHole<T>(run: (url: string) => Promise<T>): Promise<T> {
  const hole = await startBlackHole();
  try {
    return await run(hole.url);
  } finally {
    await hole.close();
  }
}

/**
 * One store's section: seeded, then measured without webhooks, with the dead endpoints, and without again (A B A),
 * ROUNDS times over (A B A B A for two).
 */
async function measureStore(engine: string, location: StoreLocation, env: Record<string, string>): Promise<string> {
  console.error(`${engine}:`);
  const { seed, plans } = await prepare(location);
  const plain = [await measure(env, seed)];
  const dead: Row[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    console.error(`${engine} with ${DEAD_WEBHOOKS} dead webhook endpoints:`);
    dead.push(await withBlackHole((url) => measure(env, seed, url)));
    console.error(`${engine} again without them:`);
    plain.push(await measure(env, seed));
  }
  return report(engine, plain, dead, plans);
}

async function main(): Promise<void> {
  const sections: string[] = [];
  if (STORES.includes('pglite')) {
    const pgliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-'));
    try {
      sections.push(await measureStore('PGlite', { kind: 'pglite', dataDir: pgliteDir }, { INBOX_DATA_DIR: pgliteDir }));
    } finally {
      fs.rmSync(pgliteDir, { recursive: true, force: true });
    }
  }
  if (STORES.includes('postgres')) {
    await withPostgres(async (url) => {
      sections.push(await measureStore('PostgreSQL', { kind: 'postgres', url }, { DATABASE_URL: url }));
    });
  }
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  process.stdout.write(
    `## bench:api — ${new Date().toISOString().slice(0, 10)}\n\n${machine}; ${THREADS} threads with 3 messages each; ` +
      `${CONNECTIONS} connections for ${DURATION} s per endpoint.\n\n${sections.join('\n')}`,
  );
}

await main();
