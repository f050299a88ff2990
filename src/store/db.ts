import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, sql, type CompiledQuery, type LogEvent } from 'kysely';
import pg from 'pg';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { extract as extractTar } from 'tar';
import { migrationProvider } from './migrations/index.js';
import { postgresNotifications, pgliteNotifications, type EventNotifications } from './notifications.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Database, Db } from './schema.js';
import { lockDataDir } from './lock.js';
import { copyOnPostgres, isCopySource } from './copy.js';

export type { Db };
export type StoreEngine = 'pglite' | 'postgres';

export interface Store {
  db: Db;
  engine: StoreEngine;
  /** this process's listener for committed events (opens its connection with the first subscriber) */
  notifications: EventNotifications;
  /** this process's connections to the store (an embedded store has one, never waited for by a request in the pool) */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

export type StoreLocation =
  | { kind: 'postgres'; url: string; poolSize?: number }
  /** `sharedBuffers`: PostgreSQL's shared_buffers (its default, 128MB, when not given) */
  | { kind: 'pglite'; dataDir: string; sharedBuffers?: string }
  /** `loadDataDir`: start from a dump of another in-memory store (see openScratchStore) */
  | { kind: 'pglite-memory'; loadDataDir?: Blob };

// int8 (counts, sequence numbers) and numeric (valuations) come back as JS numbers on both engines.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const toNumber = (value: string) => Number(value);

function pgTypes(): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID || oid === NUMERIC_OID ? toNumber : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
  };
}

/**
 * The pool as Kysely sees it: its clients run a statement whose parameter is a CopySource as COPY ... FROM STDIN
 * (store/copy.ts), everything else as pg does.
 */
function copyingPool(pool: pg.Pool) {
  return {
    connect: async () => {
      const client = await pool.connect();
      return {
        query: ((text: unknown, parameters?: readonly unknown[]) =>
          typeof text === 'string' && parameters && isCopySource(parameters)
            ? copyOnPostgres(client, text, parameters[0])
            : client.query(text as string, parameters as unknown[])) as pg.PoolClient['query'],
        release: () => client.release(),
      };
    },
    end: () => pool.end(),
  };
}

export class StoreUnavailableError extends Error {}

export interface StoreOptions {
  /** sees every statement the store runs, once it has run, and how long it took (benchmarks explain and count them) */
  onQuery?: (query: CompiledQuery, durationMs: number) => void;
  /** where a new data directory's first contents come from (tests point it elsewhere); PREPARED_STORE_FILE by default */
  preparedStoreFile?: string;
}

const PGLITE_PARSERS = { [pgliteTypes.INT8]: toNumber, [pgliteTypes.NUMERIC]: toNumber };

export async function openStore(location: StoreLocation, options: StoreOptions = {}): Promise<Store> {
  const log = options.onQuery ? (event: LogEvent) => options.onQuery!(event.query, event.queryDurationMillis) : undefined;
  if (location.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: location.url, max: location.poolSize ?? 10, types: pgTypes() });
    // An idle connection dropped by the server must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    // Fail fast and clearly when the server cannot be reached.
    const client = await pool.connect().catch(async (error: Error) => {
      await pool.end();
      throw new StoreUnavailableError(`Cannot connect to the PostgreSQL server in DATABASE_URL: ${error.message}`);
    });
    client.release();
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: copyingPool(pool) }), log });
    const notifications = postgresNotifications(location.url);
    return {
      db,
      engine: 'postgres',
      notifications,
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      close: async () => {
        await notifications.close();
        await db.destroy();
      },
    };
  }

  const release = location.kind === 'pglite' ? lockDataDir(location.dataDir) : () => {};
  try {
    const pglite =
      location.kind === 'pglite'
        ? await openDataDir(path.join(location.dataDir, 'pgdata'), options.preparedStoreFile ?? PREPARED_STORE_FILE, location.sharedBuffers)
        : await PGlite.create({ loadDataDir: location.loadDataDir, parsers: PGLITE_PARSERS });
    const dialect = new PGliteDialect(pglite);
    const db = new Kysely<Database>({ dialect, log });
    turnGivers.set(db, () => dialect.othersFirst());
    const notifications = pgliteNotifications(pglite, db);
    return {
      db,
      engine: 'pglite',
      notifications,
      poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
      close: async () => {
        await notifications.close();
        await db.destroy();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * A migrated PGlite, dumped by `npm install` (the prepare script, scripts/build-store.mjs) so that a first start
 * loads it in about two seconds instead of running initdb and every migration (over twenty seconds on a small
 * machine). Beside it, its manifest names the migrations it holds; it is used only while those are the first
 * migrations of this program, in order, and any newer ones are applied after it as usual, so a store started from
 * it is the store the migrations build (test/prepared-store.test.ts compares their catalogs).
 */
export const PREPARED_STORE_FILE = fileURLToPath(new URL('../../dist/prepared-store.tar.gz', import.meta.url));

interface PreparedStoreManifest {
  migrations: string[];
}

/** Writes a dump of a newly migrated store, and its manifest, to `file`. */
export async function writePreparedStore(file: string): Promise<void> {
  const dump = await dumpOfMigratedStore('gzip');
  const manifest: PreparedStoreManifest = { migrations: Object.keys(await migrationProvider.getMigrations()) };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  fs.writeFileSync(`${file}.json`, JSON.stringify(manifest));
}

/** Whether the prepared store at `file` exists and holds only migrations of this program, in their order. */
async function isUsablePreparedStore(file: string): Promise<boolean> {
  let manifest: PreparedStoreManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as PreparedStoreManifest;
  } catch {
    return false;
  }
  const known = Object.keys(await migrationProvider.getMigrations());
  return Array.isArray(manifest.migrations) && manifest.migrations.every((name, i) => known[i] === name) && fs.existsSync(file);
}

/** The prepared store at `file`, when it is usable (for in-memory stores, which start from a dump). */
export async function readPreparedStore(file: string): Promise<Blob | undefined> {
  if (!(await isUsablePreparedStore(file))) return undefined;
  try {
    return new Blob([fs.readFileSync(file)]);
  } catch {
    return undefined;
  }
}

/**
 * Opens a data directory's PGlite. A new one starts from the prepared store when there is a usable one (and from
 * initdb when that fails, as after a PGlite upgrade without a new `npm install`). The dump is unpacked into the
 * directory here, so PGlite opens it as it opens any directory: loading it through PGlite would pass its files
 * through WebAssembly memory, which never shrinks (an idle server held 130 MB more after a first start).
 */
async function openDataDir(dataDir: string, preparedStoreFile: string, sharedBuffers: string | undefined): Promise<PGlite> {
  const isNew = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  // Pages of the cache are resident once used, and WebAssembly memory never shrinks: the cache is most of what
  // an idle server holds (BENCHMARKS.md, memory). Pages beyond it are read from the data directory's files, which
  // the operating system caches.
  const options = { dataDir, parsers: PGLITE_PARSERS, ...(sharedBuffers ? { postgresqlconf: [`shared_buffers = ${sharedBuffers}`] } : {}) };
  if (isNew && (await isUsablePreparedStore(preparedStoreFile))) {
    try {
      fs.mkdirSync(dataDir, { recursive: true });
      await extractTar({ file: preparedStoreFile, cwd: dataDir });
      return await PGlite.create(options);
    } catch {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return PGlite.create(options);
}

let migratedDump: Promise<Blob> | undefined;

/**
 * A new in-memory store, migrated. Starting PGlite from nothing (initdb) costs seconds; loading a dump of a
 * migrated one (the prepared store, or one made once per process) costs a fraction of that: simulations and
 * forecasts open one each.
 */
export async function openScratchStore(): Promise<Store> {
  migratedDump ??= (async () => (await readPreparedStore(PREPARED_STORE_FILE)) ?? dumpOfMigratedStore())().catch((error: unknown) => {
    migratedDump = undefined;
    throw error;
  });
  const store = await openStore({ kind: 'pglite-memory', loadDataDir: await migratedDump });
  await migrateToLatest(store.db);
  return store;
}

/** A dump of a new in-memory store with every migration applied, to start other stores from. */
export async function dumpOfMigratedStore(compression: 'none' | 'gzip' = 'none'): Promise<Blob> {
  const pglite = await PGlite.create({ parsers: PGLITE_PARSERS });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  try {
    await migrateToLatest(db);
    return await pglite.dumpDataDir(compression);
  } finally {
    await db.destroy();
  }
}

/**
 * A new database named `name` on the PostgreSQL server of `serverUrl`, dropped when the store closes: for tests
 * and benchmarks that need a database nothing else sees. It is empty, or a copy of the database `template`
 * (which nothing may be connected to). `url` is where other processes can open it.
 */
export async function openNewDatabase(serverUrl: string, name: string, poolSize?: number, template?: string): Promise<Store & { url: string }> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(template ? `create database ${name} template ${template}` : `create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const store = await openStore({ kind: 'postgres', url: url.toString(), poolSize });
    const close = async () => {
      await store.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
    return { ...store, url: url.toString(), close };
  } catch (error) {
    await admin.end();
    throw error;
  }
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * `column = any($1)`: one array parameter instead of one per value, for the engine's long id lists
 * (PostgreSQL plans a long IN list of parameters slower than it runs it).
 */
export const isAnyOf = (column: string, values: readonly string[]) => sql<boolean>`${sql.ref(column)} = any(${[...values]}::text[])`;

/** The embedded stores' othersFirst, by their Kysely instance (a pool has connections enough for everyone). */
const turnGivers = new WeakMap<Db, () => Promise<void>>();

/**
 * What a long job (an import) awaits before each of its transactions: on the embedded store, whose one connection
 * a transaction holds from BEGIN to COMMIT, it resolves once the requests that waited meanwhile have had their
 * turn, each with all its statements; on PostgreSQL at once.
 */
export async function othersFirst(db: Db): Promise<void> {
  await turnGivers.get(db)?.();
}

/**
 * What a long stretch of this process's own work (an import parsing its next batch) awaits now and then: on a pool, a
 * turn of the event loop, so that the replies to the statements in flight meanwhile are read and the next ones sent;
 * on the embedded store nothing, as its statements resolve on microtasks (a turn there lets the import's own reads
 * take the connection, and its next write's othersFirst waits them out: a 20,000-row import took 6.4-8.3 s, not 3.8).
 */
export async function letRepliesIn(db: Db): Promise<void> {
  if (!turnGivers.has(db)) await setImmediate();
}

export async function isStoreReachable(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
