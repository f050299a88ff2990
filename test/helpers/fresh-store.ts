import pg from 'pg';
import { migrateToLatest, openStore, type Store } from '../../src/store/db.js';

let created = 0;

export interface FreshStore extends Store {
  /** the database's URL when it lives on a PostgreSQL server (other processes may open it) */
  url?: string;
}

/**
 * A migrated store of its own, for tests that run the engine (which acts on every campaign it can see): a new
 * database on the server of DATABASE_URL (CI's PostgreSQL pass, dropped on close), or an in-memory PGlite.
 */
export async function freshStore(): Promise<FreshStore> {
  const server = process.env.DATABASE_URL;
  if (!server) {
    const store = await openStore({ kind: 'pglite-memory' });
    await migrateToLatest(store.db);
    return store;
  }
  const name = `engine_${process.pid}_${Date.now()}_${++created}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const store = await openStore({ kind: 'postgres', url: url.toString(), poolSize: 5 });
  await migrateToLatest(store.db);
  return {
    ...store,
    url: url.toString(),
    close: async () => {
      await store.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
