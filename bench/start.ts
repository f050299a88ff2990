// npm run bench:start — how long a person waits: `inbox serve` until /healthz answers on an empty data
// directory (from the prepared store, and from initdb and every migration as the baseline), after a restart, and
// `inbox simulate` of a one-lead scenario. Runs the compiled program (dist/, built by npm install).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'dist/cli/main.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-start-'));

/** Seconds from spawning `inbox serve` to the first 200 of /healthz; the server is stopped after. */
async function serveUntilHealthy(dataDir: string, port: number): Promise<number> {
  const started = performance.now();
  const { DATABASE_URL: _embeddedStoreOnly, ...inherited } = process.env;
  const child = spawn(process.execPath, [main, 'serve'], {
    env: { ...inherited, INBOX_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`inbox serve exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (ok) return (performance.now() - started) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
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
      return await serveUntilHealthy(path.join(work, `initdb-${i}`), 39_100 + i);
    } finally {
      fs.renameSync(path.join(work, 'manifest.json'), `${prepared}.json`);
    }
  });
  await measure('first start, from the prepared store', (i) => serveUntilHealthy(path.join(work, `prepared-${i}`), 39_200 + i));
  await measure('restart', () => serveUntilHealthy(path.join(work, 'prepared-0'), 39_300));
  await measure('inbox simulate, one lead', () => simulateOneLead());
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
  ].join('\n'),
);
