// npm run bench:web — what a person waits for in the browser app, on the embedded store (a data directory, as
// `inbox serve` runs it) seeded with 100,000 threads and a campaign with a lead for each of their prospects:
// navigation to the first thread list painted, opening a thread, a search, the campaign page painted with its
// first leads, the leads table's next page, and the JavaScript's size. Each is also given as a ratio to a baseline measured in the same
// run by the same browser: a navigation to /healthz for the first paint, and the page's own fetch of the API call
// behind the action for the others (so the ratio is what the page adds to the request it needs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type BrowserContext } from 'playwright-core';
import { setPassword } from '../src/app/team/sessions.js';
import { openRuntime } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config.js';
import { buildServer } from '../src/http/server.js';
import { seedCampaign, seedInbox } from './seed.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const PASSWORD = 'benchmark password';
const root = path.resolve(import.meta.dirname, '..');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-web-'));
  const config = loadConfig({
    INBOX_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    INBOX_RATE_LIMIT_PER_MINUTE: '1000000',
    INBOX_RATE_LIMIT_PER_HOUR: '10000000',
    INBOX_RATE_LIMIT_PER_DAY: '100000000',
  });
  const runtime = await openRuntime(config);
  const started = Date.now();
  const seed = await seedInbox(runtime.ctx.db, THREADS);
  const campaignId = await seedCampaign(runtime.ctx.db, seed.teamId, THREADS);
  console.error(`seeded ${THREADS} threads and a campaign of ${THREADS} leads in ${((Date.now() - started) / 1000).toFixed(1)} s`);
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

  const signedIn = async (): Promise<BrowserContext> => {
    const context = await browser.newContext({ baseURL: origin, viewport: { width: 1440, height: 860 } });
    const response = await context.request.post('/api/v1/auth/sign-in', { data: { email: owner.email, password: PASSWORD }, headers: { origin } });
    if (!response.ok()) throw new Error(`sign-in failed: ${response.status()} ${await response.text()}`);
    return context;
  };

  const samples = {
    firstList: [] as number[],
    healthz: [] as number[],
    open: [] as number[],
    openFetch: [] as number[],
    search: [] as number[],
    searchFetch: [] as number[],
    campaignPaint: [] as number[],
    campaignHealthz: [] as number[],
    leadsPage: [] as number[],
    leadsPageFetch: [] as number[],
  };
  try {
    for (let run = 0; run < RUNS; run++) {
      const context = await signedIn();
      const page = await context.newPage();
      // Baseline and measure in turn, so both see the same moments of the machine's speed.
      let t = performance.now();
      await page.goto('/healthz');
      samples.healthz.push(performance.now() - t);

      t = performance.now();
      await page.goto('/app');
      const list = page.getByRole('list', { name: 'Threads' });
      await list.getByRole('listitem').first().waitFor();
      samples.firstList.push(performance.now() - t);

      // Thread g is "User g"; the newest are first. Open one a few rows down, a different one every run.
      const g = THREADS - 2 - run;
      const threadId = `t${String(g).padStart(23, '0')}`;
      samples.openFetch.push(await page.evaluate(async (id) => {
        const t0 = performance.now();
        await (await fetch(`/api/v1/threads/${id}/messages`)).json();
        return performance.now() - t0;
      }, threadId));
      t = performance.now();
      await list.getByRole('link', { name: new RegExp(`User ${g}\\b`) }).click();
      await page.getByRole('log', { name: 'Messages' }).getByText(`Message 2 of thread ${g}`, { exact: true }).waitFor();
      samples.open.push(performance.now() - t);

      const wanted = `User ${1000 + run * 7}`;
      samples.searchFetch.push(await page.evaluate(async (q) => {
        const t0 = performance.now();
        await (await fetch(`/api/v1/threads?q=${encodeURIComponent(q)}&limit=20`)).json();
        return performance.now() - t0;
      }, wanted));
      t = performance.now();
      await page.getByRole('searchbox', { name: 'Search' }).fill(wanted);
      await list.getByRole('link', { name: new RegExp(`${wanted}\\b`) }).first().waitFor();
      samples.search.push(performance.now() - t);

      // The campaign page of the 100,000-lead campaign: its heading, counters and first page of leads painted.
      t = performance.now();
      await page.goto('/healthz');
      samples.campaignHealthz.push(performance.now() - t);
      t = performance.now();
      await page.goto(`/app/campaigns/${campaignId}`);
      const leads = page.getByRole('table', { name: 'Leads' });
      await leads.getByRole('row', { name: '@user5000001' }).waitFor();
      samples.campaignPaint.push(performance.now() - t);

      // The leads table's next page: the click to its 51st row shown, beside the page's fetch of that page.
      const firstPage = await page.evaluate(async (id) => (await (await fetch(`/api/v1/campaigns/v2/${id}/leads?limit=50`)).json()).nextCursor, campaignId);
      samples.leadsPageFetch.push(await page.evaluate(async ({ id, cursor }) => {
        const t0 = performance.now();
        await (await fetch(`/api/v1/campaigns/v2/${id}/leads?limit=50&cursorId=${cursor.id}&cursorTimestamp=${encodeURIComponent(cursor.timestamp)}`)).json();
        return performance.now() - t0;
      }, { id: campaignId, cursor: firstPage }));
      t = performance.now();
      await page.getByRole('button', { name: 'Load more leads' }).click();
      await leads.getByRole('row', { name: '@user5000051' }).waitFor();
      samples.leadsPage.push(performance.now() - t);
      await context.close();
    }
  } finally {
    await browser.close();
    await app.close();
    await runtime.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const assets = path.join(root, 'dist/web/assets');
  const js = fs.readdirSync(assets).filter((f) => f.endsWith('.js'));
  const gzipped = js.reduce((sum, f) => sum + gzipSync(fs.readFileSync(path.join(assets, f))).length, 0);

  const row = (name: string, value: number[], baselineName: string, baseline: number[]) =>
    `| ${name} | ${median(value).toFixed(0)} ms | ${baselineName} ${median(baseline).toFixed(0)} ms | ${(median(value) / median(baseline)).toFixed(2)} |`;
  console.log(`bench:web, ${THREADS} threads and a campaign of ${THREADS} leads on a data-directory PGlite, median of ${RUNS} runs, ${new Date().toISOString()}, ${os.cpus().length} x ${os.cpus()[0]?.model}, Node ${process.version}`);
  console.log('| measure | value | baseline | ratio |');
  console.log('|---|---|---|---|');
  console.log(row('navigation to the first thread list painted', samples.firstList, 'navigation to /healthz', samples.healthz));
  console.log(row('open a thread (click to its messages shown)', samples.open, "the page's fetch of its messages", samples.openFetch));
  console.log(row('search by name (typed to the match listed)', samples.search, "the page's fetch of the search", samples.searchFetch));
  console.log(row(`campaign page of ${THREADS} leads (navigation to its first leads painted)`, samples.campaignPaint, 'navigation to /healthz', samples.campaignHealthz));
  console.log(row("the leads table's next page (click to its rows shown)", samples.leadsPage, "the page's fetch of that page", samples.leadsPageFetch));
  console.log(`| JavaScript, gzipped | ${(gzipped / 1024).toFixed(1)} KiB | target 150 KiB | ${(gzipped / (150 * 1024)).toFixed(2)} |`);
}

await main();
