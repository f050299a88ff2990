import fs from 'node:fs';
import { inject } from 'vitest';
import { migrateToLatest, openNewDatabase, openStore, type Db, type Store } from '../../src/store/db.js';
import { leadCountMismatches } from './lead-counts.js';

let created = 0;

/** Every database the tests create starts with this; the global teardown drops what is left of them. */
export const TEST_DATABASE_PREFIX = 'inbox_test_';

declare module 'vitest' {
  export interface ProvidedContext {
    /** a file holding a dump of a migrated PGlite (the PGlite pass) */
    migratedDumpFile: string | null;
    /** a migrated database on the server of DATABASE_URL to copy (the PostgreSQL pass) */
    migratedTemplateDatabase: string | null;
  }
}

export interface FreshStore extends Store {
  /** the database's URL when it lives on a PostgreSQL server (other processes may open it) */
  url?: string;
}

let migratedDump: Blob | undefined;

/** The stores freshStore opened and that are still open: the test setup checks their lead counts after every test. */
export const openTestStores = new Set<FreshStore>();

/** Fails when a store's lead counts differ from a recount of its leads (test/helpers/lead-counts.ts). */
export async function expectLeadCountsAgree(db: Db): Promise<void> {
  const mismatches = await leadCountMismatches(db);
  if (mismatches.length > 0) throw new Error(`lead counts differ from a recount of the leads:\n${JSON.stringify(mismatches, null, 1)}`);
}

/** Registers the store, and checks its counts when it is closed (a store closed in a test's afterAll is checked there). */
function checked(store: FreshStore): FreshStore {
  openTestStores.add(store);
  const close = store.close.bind(store);
  store.close = async () => {
    openTestStores.delete(store);
    try {
      await expectLeadCountsAgree(store.db);
    } finally {
      await close();
    }
  };
  return store;
}

/**
 * A migrated store of its own: a new database on the server of DATABASE_URL (CI's PostgreSQL pass, dropped
 * on close), or an in-memory PGlite. Both start from what the global setup migrated once for the whole run
 * (test/global-setup.ts), so no worker replays the migrations. Background workers (engine, pollers,
 * dispatchers) act on everything they can see, so tests that run them must not share a database with another
 * worker process's tests.
 */
export async function freshStore(): Promise<FreshStore> {
  const server = process.env.DATABASE_URL;
  if (!server) {
    migratedDump ??= new Blob([fs.readFileSync(inject('migratedDumpFile')!)]);
    return checked(await openStore({ kind: 'pglite-memory', loadDataDir: migratedDump }));
  }
  const name = `${TEST_DATABASE_PREFIX}${process.pid}_${Date.now()}_${++created}`;
  const template = inject('migratedTemplateDatabase');
  const store = await openNewDatabase(server, name, 5, template ?? undefined);
  if (!template) await migrateToLatest(store.db);
  return checked(store);
}

/** A store of its own that is not migrated (migration tests step it through the migrations themselves). */
export async function emptyStore(label: string): Promise<Store> {
  const server = process.env.DATABASE_URL;
  return server ? openNewDatabase(server, `${TEST_DATABASE_PREFIX}${process.pid}_${Date.now()}_${label}`, 2) : openStore({ kind: 'pglite-memory' });
}
