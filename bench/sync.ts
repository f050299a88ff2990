// Rule sync: how many leads per second a campaign-sync job assesses when a campaign starts syncing a list of
// N leads, beside a raw bulk insert of the same N campaign leads in the same run, and how long a campaign read
// waits while the sync runs. `npm run bench:leads` calls benchRuleSync for each engine; alone:
//   node --import tsx bench/sync.ts            (PGlite in memory; DATABASE_URL adds PostgreSQL)
import { sql } from 'kysely';
import pino from 'pino';
import { getCampaign, createCampaign } from '../src/app/campaigns/campaigns.js';
import { CAMPAIGN_SYNC, runCampaignSync } from '../src/app/campaigns/sync.js';
import type { AppContext } from '../src/app/context.js';
import { JobRunner } from '../src/app/workers/jobs.js';
import { updateLeadRules } from '../src/app/campaigns/lead-rules.js';
import { createList } from '../src/app/lists/lists.js';
import { createTeam } from '../src/app/team/teams.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/core/clock.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { migrateToLatest, openStore, type Db, type StoreLocation } from '../src/store/db.js';
import { leadWaits } from '../src/engine/lead-waits.js';

export interface SyncBenchResult {
  leads: number;
  syncSeconds: number;
  leadsPerSecond: number;
  rawInsertSeconds: number;
  /** sync throughput as a fraction of the raw insert's */
  ratioToRaw: number;
  /** the slowest campaign read issued every 50 ms during the sync */
  maxReadMs: number;
  /** how much the process grew while syncing (the store's own memory included, for PGlite) */
  rssGrowthMiB: number;
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** N sandbox prospects of the team in one list, written set-based (the seeding is not what is measured). */
async function seedList(db: Db, teamId: string, listId: string, leads: number): Promise<void> {
  const prefix = teamId.slice(0, 12);
  await sql`
    insert into prospects (id, team_id, platform, platform_id, username, display_name)
    select ${prefix} || lpad(g::text, 10, '0'), ${teamId}, 'sandbox', (7000000000000 + g)::text, 'bench' || g, 'Bench ' || g
    from generate_series(1, ${leads}::int) g
  `.execute(db);
  await sql`insert into list_leads (list_id, prospect_id) select ${listId}, id from prospects where team_id = ${teamId}`.execute(db);
}

export async function benchRuleSync(location: StoreLocation, leads = 100_000): Promise<SyncBenchResult> {
  const store = await openStore(location);
  try {
    await migrateToLatest(store.db);
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const ctx: AppContext = { db: store.db, clock: systemClock, config, logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db), leadWaits };
    const { team } = await createTeam(store.db, `bench sync ${Date.now()}`, new Date());
    const list = await createList(ctx, team.id, { name: 'Bench list' });
    await seedList(store.db, team.id, list.id, leads);

    // Baseline: the same number of campaign leads written by one INSERT ... SELECT.
    const raw = await createCampaign(ctx, team.id, { name: 'Raw insert' });
    let started = performance.now();
    await sql`
      insert into campaign_leads (id, campaign_id, team_id, prospect_id, data)
      select 'r' || prospect_id, ${raw.id}, ${team.id}, prospect_id, '{}' from list_leads where list_id = ${list.id}
    `.execute(store.db);
    const rawInsertSeconds = seconds(started);

    const campaign = await createCampaign(ctx, team.id, { name: 'Synced' });
    await updateLeadRules(ctx, team.id, campaign.id, { syncedListIds: [list.id] });
    const runner = new JobRunner(ctx).register(CAMPAIGN_SYNC, runCampaignSync);
    const rssAtStart = process.memoryUsage().rss;
    let peakRss = rssAtStart;
    let maxReadMs = 0;
    let syncing = true;
    // A reader beside the sync: it must keep getting answers while the batches run.
    const reader = (async () => {
      while (syncing) {
        const t = performance.now();
        await getCampaign(ctx, team.id, campaign.id);
        maxReadMs = Math.max(maxReadMs, performance.now() - t);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    started = performance.now();
    while ((await runner.runOnce()) > 0);
    const syncSeconds = seconds(started);
    syncing = false;
    await reader;

    const synced = await getCampaign(ctx, team.id, campaign.id);
    if (synced.targetsCount !== leads || synced.isSyncing) throw new Error(`sync ended with ${synced.targetsCount} of ${leads} leads`);
    return {
      leads,
      syncSeconds,
      leadsPerSecond: leads / syncSeconds,
      rawInsertSeconds,
      ratioToRaw: rawInsertSeconds / syncSeconds,
      maxReadMs,
      rssGrowthMiB: (peakRss - rssAtStart) / 2 ** 20,
    };
  } finally {
    await store.close();
  }
}

export function syncReportLine(engine: string, r: SyncBenchResult): string {
  return (
    `| ${engine} | rule sync of ${r.leads} list leads | ${r.leadsPerSecond.toFixed(0)} leads/s (${r.syncSeconds.toFixed(1)} s) | ` +
    `${r.ratioToRaw.toFixed(3)} of raw insert (${r.rawInsertSeconds.toFixed(2)} s) | slowest read during sync ${r.maxReadMs.toFixed(0)} ms, RSS growth ${r.rssGrowthMiB.toFixed(0)} MiB |`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const leads = Number(process.env.BENCH_LEADS ?? 100_000);
  const lines = [syncReportLine('PGlite', await benchRuleSync({ kind: 'pglite-memory' }, leads))];
  if (process.env.DATABASE_URL) lines.push(syncReportLine('PostgreSQL', await benchRuleSync({ kind: 'postgres', url: process.env.DATABASE_URL }, leads)));
  console.log(lines.join('\n'));
}
