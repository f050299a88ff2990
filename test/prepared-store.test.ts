import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openStore, readPreparedStore, writePreparedStore, type Db } from '../src/store/db.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { PGliteDialect } from '../src/store/pglite-dialect.js';
import type { Database } from '../src/store/schema.js';
import { freshStore } from './helpers/fresh-store.js';

/** Everything the migrations define, in a stable order: columns, indexes, constraints, triggers and functions. */
async function catalog(db: Db): Promise<unknown[]> {
  const queries = [
    sql`select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns
        where table_schema = 'public' order by table_name, column_name`,
    sql`select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname`,
    sql`select conrelid::regclass::text as tbl, conname, pg_get_constraintdef(oid) as def from pg_constraint
        where connamespace = 'public'::regnamespace order by tbl, conname`,
    sql`select tgrelid::regclass::text as tbl, tgname from pg_trigger where not tgisinternal order by tbl, tgname`,
    sql`select proname, pg_get_functiondef(p.oid) as def from pg_proc p where pronamespace = 'public'::regnamespace order by proname`,
    sql`select name from kysely_migration order by name`,
  ];
  const result: unknown[] = [];
  for (const query of queries) result.push((await query.execute(db)).rows);
  return result;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-prepared-'));
let truth: unknown[];

beforeAll(async () => {
  // The global setup's store: every migration applied to a new PGlite, in order.
  const migrated = await freshStore();
  truth = await catalog(migrated.db);
  await migrated.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Each test starts a PGlite from nothing (seconds, more on a busy machine), hence their timeouts.
// The prepared store is a PGlite file: the PostgreSQL pass has nothing of its own to check here.
describe.skipIf(Boolean(process.env.DATABASE_URL))('the prepared store a new data directory starts from', () => {
  it('gives a data directory the catalog the migrations build, with nothing left to apply', async () => {
    const file = path.join(dir, 'prepared.tar.gz');
    await writePreparedStore(file);
    const opened = new Date();
    const store = await openStore({ kind: 'pglite', dataDir: path.join(dir, 'data'), sharedBuffers: '16MB' }, { preparedStoreFile: file });
    try {
      expect(await migrateToLatest(store.db)).toEqual([]);
      expect(await catalog(store.db)).toEqual(truth);
      // The migrations ran when the prepared store was made, not now: the data directory is the dump's.
      const { rows } = await sql<{ last: Date }>`select max(timestamp::timestamptz) as last from kysely_migration`.execute(store.db);
      expect(new Date(rows[0]!.last).getTime()).toBeLessThan(opened.getTime());
      // and the page cache is the one asked for (INBOX_PGLITE_SHARED_BUFFERS)
      expect((await sql<{ shared_buffers: string }>`show shared_buffers`.execute(store.db)).rows[0]!.shared_buffers).toBe('16MB');
    } finally {
      await store.close();
    }
  }, 180_000);

  it('an older prepared store is used, and the newer migrations are applied after it', async () => {
    const names = Object.keys(await migrationProvider.getMigrations());
    const pglite = await PGlite.create();
    const older = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    const { error } = await new Migrator({ db: older, provider: migrationProvider }).migrateTo(names.at(-2)!);
    expect(error).toBeUndefined();
    const file = path.join(dir, 'older.tar.gz');
    fs.writeFileSync(file, Buffer.from(await (await pglite.dumpDataDir('gzip')).arrayBuffer()));
    fs.writeFileSync(`${file}.json`, JSON.stringify({ migrations: names.slice(0, -1) }));
    await older.destroy();

    const store = await openStore({ kind: 'pglite', dataDir: path.join(dir, 'upgraded') }, { preparedStoreFile: file });
    try {
      expect(await migrateToLatest(store.db)).toEqual([names.at(-1)]);
      expect(await catalog(store.db)).toEqual(truth);
    } finally {
      await store.close();
    }
  }, 180_000);

  it('is not used when its manifest names a migration this program does not have, or is missing', async () => {
    const file = path.join(dir, 'prepared.tar.gz');
    expect(await readPreparedStore(file)).toBeInstanceOf(Blob);
    fs.writeFileSync(`${file}.json`, JSON.stringify({ migrations: ['0001_teams', '0002_something_else'] }));
    expect(await readPreparedStore(file)).toBeUndefined();
    fs.rmSync(`${file}.json`);
    expect(await readPreparedStore(file)).toBeUndefined();
    expect(await readPreparedStore(path.join(dir, 'absent.tar.gz'))).toBeUndefined();
  });
});
