import type { Store } from '../../src/store/db.js';
import { freshStore } from './fresh-store.js';

let shared: Promise<Store> | undefined;

/**
 * The store every test file in this worker process shares, migrated once: an in-memory PGlite, or (CI's
 * PostgreSQL pass) a database of this worker's own on the server of DATABASE_URL, so that the background
 * workers one file runs never see another process's rows.
 */
export function sharedStore(): Promise<Store> {
  shared ??= freshStore();
  return shared;
}
