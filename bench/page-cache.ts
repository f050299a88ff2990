// npm run bench:cache — what the embedded store's page cache (INBOX_PGLITE_SHARED_BUFFERS) costs in speed: the
// inbox reads of bench:api, in process (no HTTP), on one data directory seeded with 100,000 threads, opened with
// PostgreSQL's default cache (128MB, the baseline) and with smaller ones, in A-B-A order.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listThreadRows } from '../src/app/inbox/threads.js';
import { migrateToLatest, openStore, type Db } from '../src/store/db.js';
import { seedInbox, type SeededInbox } from './seed.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CACHES = (process.env.BENCH_CACHES ?? '128MB,16MB,32MB,128MB').split(',');

/** Inbox reads as a person works: the first page, a tag filter, and a page from anywhere down the list. */
async function readsPerSecond(db: Db, seed: SeededInbox): Promise<number> {
  const read = async (i: number) => {
    switch (i % 3) {
      case 0:
        return listThreadRows(db, seed.teamId, { inbox: 'default', limit: 20 });
      case 1:
        return listThreadRows(db, seed.teamId, { inbox: 'default', limit: 20, filters: { tags: { selectedIds: [seed.tagId] } } });
      default: {
        // a page from a random place in the inbox: its cursor is a thread's position
        const thread = seed.threadIds[Math.floor(Math.random() * seed.threadIds.length)]!;
        const at = await db.selectFrom('threads').select(['id', 'sort_at']).where('id', '=', thread).executeTakeFirstOrThrow();
        return listThreadRows(db, seed.teamId, { inbox: 'default', limit: 20, cursor: { id: at.id, timestamp: at.sort_at } });
      }
    }
  };
  for (let i = 0; i < 200; i++) await read(i); // warm up
  const until = performance.now() + SECONDS * 1000;
  let n = 0;
  while (performance.now() < until) await read(n++);
  return n / SECONDS;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-cache-'));
try {
  const seeding = await openStore({ kind: 'pglite', dataDir: dir });
  await migrateToLatest(seeding.db);
  const seed = await seedInbox(seeding.db, THREADS);
  await seeding.close();
  const results: Array<[string, number]> = [];
  for (const cache of CACHES) {
    const store = await openStore({ kind: 'pglite', dataDir: dir, sharedBuffers: cache });
    const rate = await readsPerSecond(store.db, seed);
    await store.close();
    results.push([cache, rate]);
    console.error(`  ${cache}: ${rate.toFixed(0)} reads/s`);
  }
  const baseline = (results[0]![1] + results.at(-1)![1]) / 2;
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  process.stdout.write(
    [
      `## bench:cache — ${new Date().toISOString().slice(0, 10)}`,
      '',
      `${machine}; ${THREADS} threads; ${SECONDS} s of inbox reads per run, in this order (the baseline is the mean of the first and last run).`,
      '',
      '| page cache | reads/s | / baseline |',
      '| --- | ---: | ---: |',
      ...results.map(([cache, rate]) => `| ${cache} | ${rate.toFixed(0)} | ${(rate / baseline).toFixed(2)} |`),
      '',
    ].join('\n'),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
