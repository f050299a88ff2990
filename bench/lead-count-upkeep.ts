// What keeping the lead counts (migration 0032) costs the writers of leads, and why statement-level triggers:
// the same writes timed with the counts kept by 0032's triggers, with no triggers at all (the baseline: leads
// written as before 0032), and with row-level triggers adding to the counts row at once (the simple design 0032
// did not take). Writes: BENCH_UPKEEP_LEADS (20000) leads inserted 10,000 a statement; 500 transactions of 20
// leads over two campaigns written as the engine writes them (store/campaign-leads.ts, writeLeadChanges), half of
// them changing the leads' state; every lead of the campaign updated in one statement; all of them deleted in one.
// Each design gets a store of its own, twice, in the order none, statement, row, row, statement, none (this
// machine's speed drifts over minutes), after one run not counted; a time is the mean of its two runs.
// Run: node --import tsx bench/lead-count-upkeep.ts (PGlite in memory; DATABASE_URL adds PostgreSQL).
import { sql } from 'kysely';
import { writeLeadChanges } from '../src/store/campaign-leads.js';
import { migrateToLatest, openNewDatabase, openStore, type Db, type Store, type StoreLocation } from '../src/store/db.js';

// Row-level triggers make a statement's cost grow with the square of its rows (each row adds a version of the one
// counts row, and the next one walks them: 1.4 s for 5,000 rows, 3.7 s for 10,000, 19.6 s for 20,000 on
// PostgreSQL), so the default stays where they finish.
const LEADS = Number(process.env.BENCH_UPKEEP_LEADS ?? 20_000);
const STATEMENT_ROWS = 10_000;
const TRANSACTIONS = 500;

type Design = 'none' | 'statement' | 'row';
const STATES = ['pending', 'active', 'replied', 'completed', 'cancelled', 'failed', 'excluded'];

/** Row-level triggers adding each row's change to its campaign's counts row in the statement itself. */
const ROW_LEVEL_TRIGGERS = `
  drop trigger campaign_lead_counts_inserted on campaign_leads;
  drop trigger campaign_lead_counts_deleted on campaign_leads;
  drop trigger campaign_lead_counts_updated on campaign_leads;
  create function bench_counts_row() returns trigger language plpgsql as $$
  begin
    update campaign_lead_counts set
      ${STATES.map((s) => `state_${s} = state_${s} + coalesce((new.state = '${s}')::int, 0) - coalesce((old.state = '${s}')::int, 0)`).join(',\n      ')},
      contacted = contacted + (new.contacted_at is not null)::int - (old.contacted_at is not null)::int,
      replied = replied + (new.replied_at is not null)::int - (old.replied_at is not null)::int
    where campaign_id = coalesce(new.campaign_id, old.campaign_id);
    return null;
  end $$;
  create trigger bench_counts_inserted after insert on campaign_leads for each row execute function bench_counts_row();
  create trigger bench_counts_deleted after delete on campaign_leads for each row execute function bench_counts_row();
  create trigger bench_counts_updated after update on campaign_leads for each row
    when (old.state is distinct from new.state or (old.contacted_at is null) <> (new.contacted_at is null)
          or (old.replied_at is null) <> (new.replied_at is null))
    execute function bench_counts_row();`;

const NO_TRIGGERS = `
  drop trigger campaign_lead_counts_inserted on campaign_leads;
  drop trigger campaign_lead_counts_deleted on campaign_leads;
  drop trigger campaign_lead_counts_updated on campaign_leads;`;

async function openFresh(location: StoreLocation): Promise<Store> {
  return location.kind === 'postgres' ? openNewDatabase(location.url, `inbox_bench_upkeep_${Date.now()}`) : openStore(location);
}

const seconds = (since: number) => (performance.now() - since) / 1000;

interface Times {
  insert: number;
  transactions: number;
  updateAll: number;
  deleteAll: number;
}

async function run(location: StoreLocation, design: Design): Promise<Times> {
  const store = await openFresh(location);
  try {
    const { db } = store;
    await migrateToLatest(db);
    if (design === 'row') await sql.raw(ROW_LEVEL_TRIGGERS).execute(db);
    if (design === 'none') await sql.raw(NO_TRIGGERS).execute(db);
    await sql`insert into teams (id, name, slug) values ('t', 'Upkeep', 't')`.execute(db);
    await sql`insert into campaigns (id, team_id, name, schedule) values ('a', 't', 'A', '{}'), ('b', 't', 'B', '{}')`.execute(db);
    await sql`
      insert into prospects (id, team_id, platform, platform_id, username, display_name)
      select 'p' || g, 't', 'sandbox', g::text, 'u' || g, 'U' from generate_series(1, ${LEADS}::int) g`.execute(db);
    await sql`insert into campaign_leads (id, campaign_id, team_id, prospect_id, data) select 'b' || g, 'b', 't', 'p' || g, '{}' from generate_series(1, 10000) g`.execute(db);

    // Warm-up (untimed): each connection plans the trigger functions on their first call.
    for (let t = 0; t < 20; t++) {
      await db.transaction().execute((trx) => writeLeadChanges(trx, [{ id: `b${10_000 - t}`, set: { state: t % 2 === 0 ? 'active' : 'pending' } }]));
    }

    let started = performance.now();
    for (let from = 1; from <= LEADS; from += STATEMENT_ROWS) {
      await sql`
        insert into campaign_leads (id, campaign_id, team_id, prospect_id, data)
        select 'a' || g, 'a', 't', 'p' || g, '{}' from generate_series(${from}::int, ${Math.min(LEADS, from + STATEMENT_ROWS - 1)}::int) g`.execute(db);
    }
    const insert = seconds(started);

    started = performance.now();
    for (let t = 0; t < TRANSACTIONS; t++) {
      const ids = Array.from({ length: 10 }, (_, i) => [`a${t * 10 + i + 1}`, `b${t * 10 + i + 1}`]).flat();
      // Half move their leads (a first contact), half only reschedule them (a follow-up due later).
      const set = t % 2 === 0 ? { state: 'active' as const, contacted_at: new Date(), next_step_at: new Date() } : { next_step_at: new Date() };
      await db.transaction().execute((trx) => writeLeadChanges(trx, ids.map((id) => ({ id, set }))));
    }
    const transactions = seconds(started);

    started = performance.now();
    await sql`update campaign_leads set state = 'excluded' where campaign_id = 'a'`.execute(db);
    const updateAll = seconds(started);

    started = performance.now();
    await sql`delete from campaign_leads where campaign_id = 'a'`.execute(db);
    const deleteAll = seconds(started);
    return { insert, transactions, updateAll, deleteAll };
  } finally {
    await store.close();
  }
}

async function report(engine: string, location: StoreLocation): Promise<string[]> {
  const runs: Record<Design, Times[]> = { none: [], statement: [], row: [] };
  // A first run, not counted, warms this process up (the first store of a run was the slowest by far).
  await run(location, 'statement');
  for (const design of ['none', 'statement', 'row', 'row', 'statement', 'none'] as const) {
    console.error(`${engine}: ${design}`);
    runs[design].push(await run(location, design));
  }
  const mean = (design: Design, key: keyof Times) => (runs[design][0]![key] + runs[design][1]![key]) / 2;
  const workloads: Array<[keyof Times, string]> = [
    ['insert', `${LEADS.toLocaleString('en')} leads inserted, ${STATEMENT_ROWS.toLocaleString('en')} a statement`],
    ['transactions', `${TRANSACTIONS} engine-like transactions of 20 leads over 2 campaigns`],
    ['updateAll', `${LEADS.toLocaleString('en')} leads' state changed in one statement`],
    ['deleteAll', `${LEADS.toLocaleString('en')} leads deleted in one statement`],
  ];
  return workloads.map(([key, what]) => {
    const none = mean('none', key);
    const cell = (design: Design) => `${mean(design, key).toFixed(2)} s (${(mean(design, key) / none).toFixed(2)})`;
    return `| ${engine} | ${what} | ${none.toFixed(2)} s | ${cell('statement')} | ${cell('row')} |`;
  });
}

const lines = await report('PGlite', { kind: 'pglite-memory' });
if (process.env.DATABASE_URL) lines.push(...(await report('PostgreSQL', { kind: 'postgres', url: process.env.DATABASE_URL })));
process.stdout.write(
  `| engine | writes | no counts (before 0032) | statement-level triggers (0032), ratio | row-level triggers, ratio |\n| --- | --- | ---: | ---: | ---: |\n${lines.join('\n')}\n`,
);
