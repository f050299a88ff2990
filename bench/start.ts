// npm run bench:start — how long a person waits: `inbox serve` until /healthz answers on an empty data
// directory (from the prepared store, and from initdb and every migration as the baseline), after a restart, and
// `inbox simulate` of a one-lead scenario; and what an idle server holds (resident memory) after a first start and
// after a restart, with the embedded store's default page cache and with PostgreSQL's default (128MB) as the
// baseline. Runs the compiled program (dist/, built by npm install).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'dist/cli/main.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-start-'));

const IDLE_SECONDS = 10;

/** The resident memory of a process, in MiB (Linux: /proc). */
const residentMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/**
 * Seconds from spawning `inbox serve` to the first 200 of /healthz, and, when `idle` is set, its resident memory
 * after that many more seconds of doing nothing; the server is stopped after.
 */
async function serveUntilHealthy(dataDir: string, options: { idle?: number; env?: Record<string, string> } = {}): Promise<{ seconds: number; mib: number }> {
  const port = await freePort();
  const started = performance.now();
  const { DATABASE_URL: _embeddedStoreOnly, ...inherited } = process.env;
  const child = spawn(process.execPath, [main, 'serve'], {
    env: { ...inherited, INBOX_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`inbox serve exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    if (options.idle) await new Promise((resolve) => setTimeout(resolve, options.idle! * 1000));
    return { seconds, mib: options.idle ? residentMiB(child.pid!) : 0 };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function simulateOneLead(): Promise<number> {
  const scenario = path.join(work, 'one-lead.json');
  fs.writeFileSync(
    scenario,
    JSON.stringify({
      start: '2026-01-05T09:00:00Z',
      until: '2026-01-06T09:00:00Z',
      seed: 1,
      accounts: [{ username: 'sender' }],
      campaign: {
        name: 'One lead',
        messagesPerHour: 10,
        timezone: 'UTC',
        schedule: Object.fromEntries(['0', '1', '2', '3', '4', '5', '6'].map((day) => [day, { start: 0, end: 1440 }])),
        sequence: { steps: [{ type: 'message', data: { segments: [{ type: 'static', text: 'Hello' }] } }] },
        leads: { platformIds: ['7000'] },
      },
    }),
  );
  const started = performance.now();
  const child = spawn(process.execPath, [main, 'simulate', scenario], { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`inbox simulate exited with ${code}`);
  return (performance.now() - started) / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const prepared = path.join(root, 'dist/prepared-store.tar.gz');
if (!fs.existsSync(prepared)) throw new Error('dist/prepared-store.tar.gz is missing: run npm install (or node scripts/build-store.mjs)');

const rows: Array<[string, number]> = [];
const memory: Array<[string, number, number, number]> = [];

function directorySizeMiB(dir: string): number {
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return bytes / 2 ** 20;
}
try {
  const measure = async (name: string, run: (i: number) => Promise<number>) => {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) times.push(await run(i));
    rows.push([name, median(times)]);
    console.error(`  ${name}: ${times.map((t) => t.toFixed(2)).join(', ')} s`);
  };
  // The baseline hides the prepared store's manifest for its runs, so a new data directory runs initdb.
  await measure('first start, initdb and every migration (baseline)', async (i) => {
    fs.renameSync(`${prepared}.json`, path.join(work, 'manifest.json'));
    try {
      return (await serveUntilHealthy(path.join(work, `initdb-${i}`))).seconds;
    } finally {
      fs.renameSync(path.join(work, 'manifest.json'), `${prepared}.json`);
    }
  });
  await measure('first start, from the prepared store', async (i) => (await serveUntilHealthy(path.join(work, `prepared-${i}`))).seconds);
  await measure('restart', async () => (await serveUntilHealthy(path.join(work, 'prepared-0'))).seconds);
  await measure('inbox simulate, one lead', () => simulateOneLead());
  for (const [cache, env] of [
    ['128MB (baseline)', { INBOX_PGLITE_SHARED_BUFFERS: '128MB' }],
    ['default', {}],
  ] as const) {
    const dir = path.join(work, `memory-${memory.length}`);
    const first = await serveUntilHealthy(dir, { idle: IDLE_SECONDS, env });
    const restart = await serveUntilHealthy(dir, { idle: IDLE_SECONDS, env });
    memory.push([cache, first.mib, restart.mib, directorySizeMiB(dir)]);
    console.error(`  idle memory, page cache ${cache}: ${first.mib.toFixed(0)} MiB after a first start, ${restart.mib.toFixed(0)} MiB after a restart`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

const baseline = rows[0]![1];
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
process.stdout.write(
  [
    `## bench:start — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `${machine}; the compiled program on the embedded store (PGlite); median of ${RUNS} runs each.`,
    '',
    '| what | seconds | / baseline |',
    '| --- | ---: | ---: |',
    ...rows.map(([name, seconds]) => `| ${name} | ${seconds.toFixed(2)} | ${(seconds / baseline).toFixed(2)} |`),
    '',
    `Resident memory of an idle \`inbox serve\` (${IDLE_SECONDS} s after /healthz answered), by the embedded store's page cache (INBOX_PGLITE_SHARED_BUFFERS):`,
    '',
    '| page cache | after a first start (MiB) | / baseline | after a restart (MiB) | / baseline | data directory (MiB) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...memory.map(
      ([cache, first, restart, size]) =>
        `| ${cache} | ${first.toFixed(0)} | ${(first / memory[0]![1]).toFixed(2)} | ${restart.toFixed(0)} | ${(restart / memory[0]![2]).toFixed(2)} | ${size.toFixed(0)} |`,
    ),
    '',
  ].join('\n'),
);
