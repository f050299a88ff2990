import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vacuumBloated } from '../src/app/workers/maintenance.js';
import { freshStore, type FreshStore } from './helpers/fresh-store.js';

let store: FreshStore;
beforeAll(async () => {
  store = await freshStore();
}, 60_000);
afterAll(() => store.close());

/** Dead rows as the statistics see them, flushed first (they are otherwise sent at most once a second). */
async function deadRows(table: string): Promise<number> {
  await sql`select pg_stat_force_next_flush()`.execute(store.db);
  const { rows } = await sql<{ n: number }>`select n_dead_tup::int as n from pg_stat_user_tables where relname = ${table}`.execute(store.db);
  return rows[0]?.n ?? 0;
}

describe('vacuuming (the embedded store has no autovacuum)', () => {
  it('vacuums the tables whose dead rows pass autovacuum’s threshold, and only those', async () => {
    await sql`create table churned (id int primary key, n int) with (autovacuum_enabled = false)`.execute(store.db);
    await sql`create table quiet (id int primary key, n int) with (autovacuum_enabled = false)`.execute(store.db);
    await sql`insert into churned select g, 0 from generate_series(1, 1000) g`.execute(store.db);
    await sql`insert into quiet select g, 0 from generate_series(1, 1000) g`.execute(store.db);
    for (let i = 0; i < 3; i++) await sql`update churned set n = n + 1`.execute(store.db);
    await sql`update quiet set n = 1 where id <= 10`.execute(store.db);
    expect(await deadRows('churned')).toBeGreaterThan(1000);

    const vacuumed = await vacuumBloated(store.db);
    expect(vacuumed).toContain('churned');
    expect(vacuumed).not.toContain('quiet');
    expect(await deadRows('churned')).toBe(0);
  });
});
