import { sql } from 'kysely';
import { openStore } from '../src/store/db.ts';
import { copyRows } from '../src/store/copy.ts';
for (const loc of [{ kind: 'pglite-memory' as const }, { kind: 'postgres' as const, url: process.env.DATABASE_URL! }]) {
  const store = await openStore(loc);
  const db = store.db;
  await sql`create temp table t (a text, b int, c jsonb)`.execute(db).catch(() => {});
  const n = await db.transaction().execute(async (trx) => {
    const n = await copyRows(trx, 't', ['a', 'b', 'c'], [{ a: 'x"y,z\nw', b: 1, c: { k: 'v' } }, { a: '', b: null, c: null }, { a: null, b: 3 }]);
    return n;
  });
  console.log(loc.kind, n, (await sql`select * from t`.execute(db)).rows);
  try { await copyRows(db, 't', ['a', 'b'], [{ a: 'q', b: 'notanint' }]); } catch (e) { console.log('error ok', (e as Error).message); }
  console.log((await sql`select count(*) from t`.execute(db)).rows);
  await store.close();
}
