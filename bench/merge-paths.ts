// node --import tsx bench/merge-paths.ts — four set-based ways of writing an import batch's rows (1,000 new
// prospects and their list rows, in one transaction), in turn, on PGlite in a data directory and on PostgreSQL
// (DATABASE_URL, or a private cluster):
//   json:    INSERT ... SELECT FROM json_to_recordset($1) (store/bulk.ts insertRows, what lead adds used before)
//   unnest:  INSERT ... SELECT FROM unnest($1::text[], $2::int[], ...), an array parameter a column
//   copy:    COPY ... FROM STDIN into a temporary staging table, then INSERT ... SELECT of the rows it staged
//            (store/copy.ts insertRowsByCopy, what lead adds use)
//   plain:   the same without ON CONFLICT or RETURNING, as bench:import's raw load
// Sizes: BENCH_MERGE_ROWS (1000 a batch), BENCH_MERGE_ROUNDS (20 of each).
import { CompiledQuery, sql } from 'kysely';
import { prospectValues } from '../src/app/prospects/prospects.js';
import { createTeam } from '../src/app/team/teams.js';
import { createList } from '../src/app/lists/lists.js';
import { insertRows } from '../src/store/bulk.js';
import { copyRows, insertRowsByCopy } from '../src/store/copy.js';
import { migrateToLatest, openNewDatabase, openStore, type Db, type Store } from '../src/store/db.js';
import { withDataDir } from './data-dir.js';
import { withPostgres } from './postgres.js';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/core/clock.js';
import { platformOf } from '../src/platforms/platform.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { leadWaits } from '../src/engine/lead-waits.js';
import type { AppContext } from '../src/app/context.js';

const ROWS = Number(process.env.BENCH_MERGE_ROWS ?? 1000);
const ROUNDS = Number(process.env.BENCH_MERGE_ROUNDS ?? 20);

type Values = ReturnType<typeof prospectValues>;
type Path = (trx: Db, listId: string, rows: Values[], data: string[]) => Promise<number>;

const COLUMNS = Object.keys(prospectValues('t', 'sandbox', { platformId: '1', username: 'u', displayName: 'd', image: null, bio: null, location: null, websiteUrl: null, followerCount: 0, followingCount: 0, postCount: 0, isProtected: false, accountStatus: 'active', dmsOpen: true }, new Date()));

const listRowsOf = (listId: string, rows: Values[], data: string[]) => rows.map((r, i) => ({ list_id: listId, prospect_id: r.id, data: data[i]!, created_at: r.created_at }));

const json: Path = async (trx, listId, rows, data) => {
  const inserted = await insertRows(trx, 'prospects', rows, 'on conflict (team_id, platform, platform_id) do nothing returning platform_id');
  await insertRows(trx, 'list_leads', listRowsOf(listId, rows, data), 'on conflict do nothing returning prospect_id');
  return inserted.length;
};

const PG_TYPES: Record<string, string> = {
  is_protected: 'boolean',
  dms_open: 'boolean',
  follower_count: 'integer',
  following_count: 'integer',
  post_count: 'integer',
  listed_count: 'integer',
  valuation: 'numeric',
  last_enriched_at: 'timestamptz',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
};

const unnest: Path = async (trx, listId, rows, data) => {
  const arrays = COLUMNS.map((c) => rows.map((r) => (r as Record<string, unknown>)[c] ?? null));
  const from = COLUMNS.map((c, i) => `$${i + 1}::${PG_TYPES[c] ?? 'text'}[]`).join(', ');
  const text = `insert into prospects (${COLUMNS.join(', ')}) select * from unnest(${from}) on conflict (team_id, platform, platform_id) do nothing returning platform_id`;
  const inserted = await trx.executeQuery(CompiledQuery.raw(text, arrays));
  await trx.executeQuery(
    CompiledQuery.raw(
      `insert into list_leads (list_id, prospect_id, data, created_at) select $1, p, d, c from unnest($2::text[], $3::jsonb[], $4::timestamptz[]) as u(p, d, c) on conflict do nothing returning prospect_id`,
      [listId, rows.map((r) => r.id), data, rows.map((r) => r.created_at)],
    ),
  );
  return inserted.rows.length;
};

const copy: Path = async (trx, listId, rows, data) => {
  const inserted = await insertRowsByCopy(trx, 'prospects', rows, 'on conflict (team_id, platform, platform_id) do nothing returning platform_id');
  await insertRowsByCopy(trx, 'list_leads', listRowsOf(listId, rows, data), 'on conflict do nothing returning prospect_id');
  return inserted.length;
};

/** What the raw load of bench:import does: the same COPY and INSERT ... SELECT without ON CONFLICT or RETURNING. */
const plain: Path = async (trx, listId, rows, data) => {
  const stage = async (table: 'prospects' | 'list_leads', staged: readonly Record<string, unknown>[]) => {
    await sql`create temporary table if not exists ${sql.raw(`plain_${table}`)} on commit delete rows as select * from ${sql.raw(table)} with no data`.execute(trx);
    const columns = Object.keys(staged[0]!);
    await copyRows(trx, `plain_${table}`, columns, staged);
    const list = sql.raw(columns.join(', '));
    await sql`insert into ${sql.raw(table)} (${list}) select ${list} from ${sql.raw(`plain_${table}`)}`.execute(trx);
  };
  await stage('prospects', rows);
  await stage('list_leads', listRowsOf(listId, rows, data));
  return rows.length;
};

const PATHS: Record<string, Path> = { json, unnest, copy, plain };

async function run(store: Store, label: string): Promise<string[]> {
  await migrateToLatest(store.db);
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const ctx: AppContext = { db: store.db, clock: systemClock, config, logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db), leadWaits };
  const { team } = await createTeam(store.db, `merge paths ${Date.now()}`, new Date());
  const lists = Object.fromEntries(await Promise.all(Object.keys(PATHS).map(async (name) => [name, (await createList(ctx, team.id, { name })).id] as const)));
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(PATHS).map((name) => [name, []]));
  let next = 7_300_000_000_000 + (Date.now() % 100_000) * 10_000_000;
  const platform = platformOf(ctx, 'sandbox');
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, path] of Object.entries(PATHS)) {
      const ids = Array.from({ length: ROWS }, () => String(next++));
      const profiles = await platform.profilesByIds(ids);
      const now = new Date();
      const rows = ids.map((id) => prospectValues(team.id, 'sandbox', profiles.get(id)!, now));
      const data = rows.map((_, i) => JSON.stringify({ company: `Company ${i}`, employees: i, website: `https://example${i}.com/` }));
      const started = performance.now();
      const inserted = await store.db.transaction().execute((trx) => path(trx, lists[name]!, rows, data));
      times[name]!.push(performance.now() - started);
      if (inserted !== ROWS) throw new Error(`${name} inserted ${inserted} of ${ROWS}`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = median(times.json!);
  return Object.entries(times).map(([name, xs]) => `| ${label} | ${name} | ${median(xs).toFixed(1)} ms | ${((median(xs) / base)).toFixed(2)} |`);
}

const lines: string[] = [];
lines.push(
  ...(await withDataDir('inbox-bench-merge-', async (dataDir) => {
    const store = await openStore({ kind: 'pglite', dataDir });
    try {
      return await run(store, 'PGlite');
    } finally {
      await store.close();
    }
  })),
);
await withPostgres(async (url) => {
  const store = await openNewDatabase(url, `bench_merge_${Date.now()}`);
  try {
    lines.push(...(await run(store, 'PostgreSQL')));
  } finally {
    await store.close();
  }
});
process.stdout.write(`${ROWS} prospects and their list rows a transaction, median of ${ROUNDS} in turn\n\n| store | path | batch | of json |\n| --- | --- | ---: | ---: |\n${lines.join('\n')}\n`);
