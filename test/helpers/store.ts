import { migrateToLatest, openStore, type Store } from '../../src/store/db.js';

let shared: Promise<Store> | undefined;

/**
 * The store every test in this worker shares: PostgreSQL when DATABASE_URL is set (CI's second pass),
 * otherwise an in-memory PGlite. Migrated once.
 */
export function sharedStore(): Promise<Store> {
  shared ??= (async () => {
    const url = process.env.DATABASE_URL;
    const store = await openStore(url ? { kind: 'postgres', url, poolSize: 5 } : { kind: 'pglite-memory' });
    await migrateToLatest(store.db);
    return store;
  })();
  return shared;
}
