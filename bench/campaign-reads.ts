// Campaign reads: how long `getCampaign` (what GET /campaigns/v2/{id} and every campaign shape read) takes for a
// campaign of 10,000, 100,000 and 1,000,000 leads, beside the recount of its leads that every read ran before the
// counts were kept (migration 0032), in the same run. `npm run bench:leads` calls benchCampaignReads for each
// engine; alone: node --import tsx bench/campaign-reads.ts (PGlite in a data directory; DATABASE_URL adds
// PostgreSQL). Sizes: BENCH_READ_SIZES (10000,100000,1000000).
import { sql } from 'kysely';
import pino from 'pino';
import { createCampaign, getCampaign } from '../src/app/campaigns/campaigns.js';
import type { AppContext } from '../src/app/context.js';
import { createTeam } from '../src/app/team/teams.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/core/clock.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { leadWaits } from '../src/engine/lead-waits.js';
import { leadCountsOf } from '../src/store/lead-counts.js';
import { migrateToLatest, openNewDatabase, openStore, type Db, type StoreLocation } from '../src/store/db.js';
import { withDataDir } from './data-dir.js';

export const READ_SIZES = (process.env.BENCH_READ_SIZES ?? '10000,100000,1000000').split(',').map(Number);

export interface CampaignReadResult {
  leads: number;
  /** median wall time of getCampaign, all its statements */
  readMs: number;
  /** median of the counts statement alone (store/lead-counts.ts) */
  countsMs: number;
  /** median of the recount campaign reads ran before 0032 (app/campaigns.ts, countersOf) */
  recountMs: number;
}

const BATCH = 100_000;

/** The team's first `n` prospects (made as needed) as leads of the campaign, in states of every kind, set-based. */
async function seedLeads(db: Db, teamId: string, campaignId: string, n: number, prospects: { made: number }): Promise<void> {
  for (let from = prospects.made + 1; from <= n; from += BATCH) {
    const to = Math.min(n, from + BATCH - 1);
    await sql`
      insert into prospects (id, team_id, platform, platform_id, username, display_name)
      select ${teamId} || lpad(g::text, 10, '0'), ${teamId}, 'sandbox', (8000000000000 + g)::text, 'read' || g, 'Read ' || g
      from generate_series(${from}::int, ${to}::int) g`.execute(db);
    prospects.made = to;
  }
  // A tenth each: active, replied, completed (all contacted) and excluded; the rest pending.
  for (let from = 1; from <= n; from += BATCH) {
    const to = Math.min(n, from + BATCH - 1);
    await sql`
      insert into campaign_leads (id, campaign_id, team_id, prospect_id, state, contacted_at, replied_at, data)
      select ${campaignId} || lpad(g::text, 10, '0'), ${campaignId}, ${teamId}, ${teamId} || lpad(g::text, 10, '0'),
             (array['pending','pending','pending','pending','pending','pending','active','replied','completed','excluded'])[g % 10 + 1],
             case when g % 10 between 6 and 8 then now() end, case when g % 10 = 7 then now() end, '{}'
      from generate_series(${from}::int, ${to}::int) g`.execute(db);
  }
}

/** The read before 0032, as app/campaigns.ts ran it on every campaign read. */
const recount = (db: Db, campaignId: string) =>
  db
    .selectFrom('campaign_leads')
    .select((eb) => [
      'campaign_id',
      eb.fn.countAll<number>().filterWhere('state', '!=', 'excluded').as('targets'),
      eb.fn.count<number>('contacted_at').as('contacted'),
      eb.fn.count<number>('replied_at').as('replied'),
      eb.fn.countAll<number>().filterWhere('state', '=', 'completed').as('completed'),
    ])
    .where('campaign_id', 'in', [campaignId])
    .groupBy('campaign_id')
    .execute();

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Times `fn` on each campaign in turn (so every median sees the same moments of the machine), after warm-ups. */
async function inTurn(campaignIds: readonly string[], rounds: number, fn: (campaignId: string) => Promise<unknown>): Promise<number[]> {
  const times = campaignIds.map((): number[] => []);
  for (let round = -3; round < rounds; round++) {
    for (const [k, id] of campaignIds.entries()) {
      const started = performance.now();
      await fn(id);
      if (round >= 0) times[k]!.push(performance.now() - started);
    }
  }
  return times.map(median);
}

/** On PostgreSQL, a database of its own, dropped after. */
export async function benchCampaignReads(location: StoreLocation, sizes: readonly number[] = READ_SIZES): Promise<CampaignReadResult[]> {
  const store =
    location.kind === 'postgres' ? await openNewDatabase(location.url, `inbox_bench_reads_${Date.now()}`) : await openStore(location);
  try {
    await migrateToLatest(store.db);
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const ctx: AppContext = { db: store.db, clock: systemClock, config, logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db), leadWaits };
    const { team } = await createTeam(store.db, `bench reads ${Date.now()}`, new Date());
    const prospects = { made: 0 };
    const campaignIds: string[] = [];
    for (const n of sizes) {
      const started = performance.now();
      const campaign = await createCampaign(ctx, team.id, { name: `${n} leads` });
      await seedLeads(store.db, team.id, campaign.id, n, prospects);
      console.error(`  ${n.toLocaleString('en')} leads seeded in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      campaignIds.push(campaign.id);
    }
    await sql`analyze`.execute(store.db);
    for (const [k, id] of campaignIds.entries()) {
      const read = await getCampaign(ctx, team.id, id);
      if (read.targetsCount !== sizes[k]! - Math.floor((sizes[k]! + 1) / 10)) throw new Error(`campaign of ${sizes[k]} leads reads ${read.targetsCount} targets`);
    }
    const readMs = await inTurn(campaignIds, 31, (id) => getCampaign(ctx, team.id, id));
    const countsMs = await inTurn(campaignIds, 31, (id) => leadCountsOf(store.db, [id]));
    const recountMs = await inTurn(campaignIds, 5, (id) => recount(store.db, id));
    return sizes.map((leads, k) => ({ leads, readMs: readMs[k]!, countsMs: countsMs[k]!, recountMs: recountMs[k]! }));
  } finally {
    await store.close();
  }
}

export function campaignReadLines(engine: string, results: readonly CampaignReadResult[]): string[] {
  const smallest = results[0]!;
  return results.map(
    (r) =>
      `| ${engine} | campaign read, ${r.leads.toLocaleString('en')} leads | ${r.readMs.toFixed(2)} ms (counts statement ${r.countsMs.toFixed(2)} ms) | ` +
      `${(r.readMs / smallest.readMs).toFixed(2)} of the read at ${smallest.leads.toLocaleString('en')} | recount before 0032: ${r.recountMs.toFixed(1)} ms |`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.error('PGlite: campaign reads');
  const lines = campaignReadLines('PGlite', await withDataDir('inbox-bench-reads-', (dataDir) => benchCampaignReads({ kind: 'pglite', dataDir })));
  if (process.env.DATABASE_URL) {
    console.error('PostgreSQL: campaign reads');
    lines.push(...campaignReadLines('PostgreSQL', await benchCampaignReads({ kind: 'postgres', url: process.env.DATABASE_URL })));
  }
  process.stdout.write(`| engine | workload | read | ratio | baseline |\n| --- | --- | ---: | ---: | ---: |\n${lines.join('\n')}\n`);
}
