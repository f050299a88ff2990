import { migrateToLatest, openNewDatabase, openScratchStore, type Store } from '../../src/store/db.js';

let created = 0;

/** Every database the tests create starts with this; the global teardown drops what is left of them. */
export const TEST_DATABASE_PREFIX = 'inbox_test_';

export interface FreshStore extends Store {
  /** the database's URL when it lives on a PostgreSQL server (other processes may open it) */
  url?: string;
}

/**
 * A migrated store of its own: a new database on the server of DATABASE_URL (CI's PostgreSQL pass, dropped
 * on close), or an in-memory PGlite. Background workers (engine, pollers, dispatchers) act on everything they
 * can see, so tests that run them must not share a database with another worker process's tests.
 */
export async function freshStore(): Promise<FreshStore> {
  const server = process.env.DATABASE_URL;
  if (!server) return openScratchStore();
  const store = await openNewDatabase(server, `${TEST_DATABASE_PREFIX}${process.pid}_${Date.now()}_${++created}`, 5);
  await migrateToLatest(store.db);
  return store;
}
