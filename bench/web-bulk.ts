// npm run bench:bulk — a bulk action on 10,000 prospects in the browser app, on the embedded store (a data
// directory, as `inbox serve` runs it) seeded with 10,000 prospects (bench/seed.ts). Each run selects every
// prospect on the Prospects page ("Select all 10000 matching" pages them in by cursor) and tags them from the bulk
// bar, until the page says it is done. Baselines in the same run, by the same browser: the page's own fetch of the
// same bulk call (another tag, the same ids), so the ratio is what the page adds to its one request; and the cost of
// doing it one call per row, as a page without bulk endpoints would (PATCH /prospects/{id}/context for a sample of
// rows, scaled to all of them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { setPassword } from '../src/app/team/sessions.js';
import { openRuntime } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config.js';
import { buildServer } from '../src/http/server.js';
import { buildWeb } from '../scripts/build-web.mjs';
import { seedInbox } from './seed.js';

const PROSPECTS = Number(process.env.BENCH_PROSPECTS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 4);
/** rows patched one by one for the per-row baseline */
const PER_ROW_SAMPLE = 200;
const PASSWORD = 'benchmark password';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  await buildWeb({ quiet: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-bulk-'));
  const config = loadConfig({
    INBOX_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    INBOX_RATE_LIMIT_PER_MINUTE: '1000000',
    INBOX_RATE_LIMIT_PER_HOUR: '10000000',
    INBOX_RATE_LIMIT_PER_DAY: '100000000',
  });
  const runtime = await openRuntime(config);
  const seed = await seedInbox(runtime.ctx.db, PROSPECTS);
  const owner = await runtime.ctx.db
    .selectFrom('members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email'])
    .where('m.team_id', '=', seed.teamId)
    .executeTakeFirstOrThrow();
  await setPassword(runtime.ctx.db, owner.id, PASSWORD, new Date());

  const app = await buildServer(runtime.ctx);
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const samples = { selectAll: [] as number[], bulk: [] as number[], bulkFetch: [] as number[], perRow: [] as number[] };
  try {
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ baseURL: origin, viewport: { width: 1440, height: 860 } });
      const signIn = await context.request.post('/api/v1/auth/sign-in', { data: { email: owner.email, password: PASSWORD }, headers: { origin } });
      if (!signIn.ok()) throw new Error(`sign-in failed: ${signIn.status()}`);
      const tag = async (name: string) => (await (await context.request.post('/api/v1/tags', { data: { name }, headers: { origin } })).json()) as { id: string };
      await tag(`Bulk ${run}`);
      const [fetched, single] = [await tag(`Fetch ${run}`), await tag(`Single ${run}`)];
      const page = await context.newPage();
      if (process.env.BENCH_DEBUG) page.on('requestfinished', (request) => console.error(request.method(), request.url().slice(-60), request.timing().responseEnd.toFixed(0)));
      await page.goto('/app/prospects');
      await page.getByText(`${PROSPECTS.toLocaleString('en-US')} prospects`, { exact: true }).waitFor({ timeout: 60_000 });

      const t = performance.now();
      await page.getByRole('button', { name: `Select all ${PROSPECTS} matching` }).click();
      await page.getByText(`${PROSPECTS} selected`, { exact: true }).waitFor({ timeout: 120_000 });
      samples.selectAll.push(performance.now() - t);

      // The same call the page makes, from the page, for the baseline.
      const ids = await page.evaluate(async (limit) => {
        const all: string[] = [];
        for (let after: string | null = null; ; ) {
          const response = await fetch(`/api/v1/prospects?limit=500${after ? `&after=${after}` : ''}`);
          const body = (await response.json()) as { prospects: Array<{ externalId: string }>; nextCursor: string | null };
          all.push(...body.prospects.map((p) => p.externalId));
          if (!body.nextCursor || all.length >= limit) return all;
          after = body.nextCursor;
        }
      }, PROSPECTS);
      const bulkFetch = async () =>
        samples.bulkFetch.push(await page.evaluate(async ({ ids, tagId }) => {
          const t0 = performance.now();
          const response = await fetch('/api/v1/prospects/bulk', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prospectIds: ids, action: { type: 'addTags', tagIds: [tagId] } }) });
          if (!response.ok) throw new Error(`bulk failed: ${response.status}`);
          return performance.now() - t0;
        }, { ids, tagId: fetched.id }));
      const bulkOnPage = async () => {
        const t0 = performance.now();
        await page.getByRole('combobox', { name: 'Add tag to selected' }).selectOption({ label: `Bulk ${run}` });
        await page
          .getByRole('status')
          .filter({ hasText: `Tagged ${PROSPECTS} prospects` })
          .waitFor({ timeout: 120_000 })
          .catch(async (error: Error) => {
            throw new Error(`${error.message}; the page says: ${await page.getByRole('alert').allTextContents()}`);
          });
        samples.bulk.push(performance.now() - t0);
      };
      // In turn first and second, so neither always meets the store as the other left it.
      if (run % 2 === 0) await bulkOnPage().then(bulkFetch);
      else await bulkFetch().then(bulkOnPage);
      samples.perRow.push((await page.evaluate(async ({ ids, tagId }) => {
        const t0 = performance.now();
        for (const id of ids) {
          const response = await fetch(`/api/v1/prospects/${id}/context`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ addTags: [tagId] }) });
          if (!response.ok) throw new Error(`patch failed: ${response.status}`);
        }
        return performance.now() - t0;
      }, { ids: ids.slice(0, PER_ROW_SAMPLE), tagId: single.id })) * (PROSPECTS / PER_ROW_SAMPLE));
      await context.close();
    }
  } finally {
    await browser.close();
    await app.close();
    await runtime.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const row = (name: string, value: number[], baselineName: string, baseline: number[]) =>
    `| ${name} | ${median(value).toFixed(0)} ms | ${baselineName} ${median(baseline).toFixed(0)} ms | ${(median(value) / median(baseline)).toFixed(2)} |`;
  console.log(`bench:bulk, ${PROSPECTS} prospects on a data-directory PGlite, median of ${RUNS} runs, ${new Date().toISOString()}, ${os.cpus().length} x ${os.cpus()[0]?.model}, Node ${process.version}`);
  console.log('| measure | value | baseline | ratio |');
  console.log('|---|---|---|---|');
  console.log(row(`tag ${PROSPECTS} selected prospects (chosen to the page saying done)`, samples.bulk, "the page's fetch of the same bulk call", samples.bulkFetch));
  console.log(row(`the same bulk call`, samples.bulkFetch, `one PATCH per row (${PER_ROW_SAMPLE} timed, scaled)`, samples.perRow));
  console.log(`| select all ${PROSPECTS} matching (pages loaded by cursor) | ${median(samples.selectAll).toFixed(0)} ms | | |`);
}

await main();
