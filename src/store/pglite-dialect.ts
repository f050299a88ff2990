import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import { setImmediate, setTimeout } from 'node:timers/promises';
import { fromBlobDevice, isCopySource } from './copy.js';

/**
 * PGlite is a single Postgres backend. Kysely asks the driver for a connection per query or per
 * transaction; we hand out the one connection behind a FIFO mutex, so a transaction holds it from
 * BEGIN to COMMIT and no other query can interleave with it.
 */
class Mutex {
  #tail: Promise<void> = Promise.resolve();
  /** those holding or waiting for the lock */
  #queued = 0;

  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    this.#queued++;
    const acquired = this.#tail.then(() => () => {
      this.#queued--;
      release();
    });
    this.#tail = this.#tail.then(() => next);
    return acquired;
  }

  get busy(): boolean {
    return this.#queued > 0;
  }

  /** Resolves once no one holds the lock or waits for it. */
  async idle(): Promise<void> {
    while (this.#queued > 0) await this.#tail;
  }
}

/** How many times othersFirst lets others take the connection before it goes ahead anyway. */
const MAX_TURNS_GIVEN = 10;

class PGliteConnection implements DatabaseConnection {
  constructor(
    private readonly pglite: PGlite,
    readonly release: () => void,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (isCopySource(query.parameters)) {
      // COPY ... FROM STDIN, alone or in a script: PGlite reads the rows from its blob device (see store/copy.ts).
      const results = await this.pglite.exec(fromBlobDevice(query.sql), { blob: new Blob([query.parameters[0].bytes as Uint8Array<ArrayBuffer>]) });
      return results.length === 1 ? { rows: [{ copied: results[0]!.affectedRows ?? 0 } as R] } : { rows: results.at(-1)!.rows as R[] };
    }
    // Without parameters we use the simple protocol, which also accepts multi-statement scripts (migrations).
    const result =
      query.parameters.length === 0
        ? ((await this.pglite.exec(query.sql)).at(-1) ?? { rows: [], affectedRows: 0 })
        : await this.pglite.query<R>(query.sql, query.parameters as unknown[]);
    return {
      rows: result.rows as R[],
      numAffectedRows: result.affectedRows === undefined ? undefined : BigInt(result.affectedRows),
    };
  }

  // PGlite returns whole result sets; streaming yields them as one chunk.
  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(query);
  }
}

class PGliteDriver implements Driver {
  readonly #mutex = new Mutex();

  constructor(private readonly pglite: PGlite) {}

  async init(): Promise<void> {
    await this.pglite.waitReady;
  }

  /**
   * Resolves when no one else holds or waits for the connection, and has not asked for it again a moment after
   * (a request between two of its statements does), at most MAX_TURNS_GIVEN turns of others later.
   */
  async othersFirst(): Promise<void> {
    for (let turn = 0; turn < MAX_TURNS_GIVEN; turn++) {
      await this.#mutex.idle();
      await setTimeout(1);
      if (!this.#mutex.busy) return;
    }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // PGlite runs a statement at once and resolves it in a microtask, so a chain of statements and transactions (an
    // import's batches) would keep the event loop from ever reading a socket: requests sat unread for seconds. Each
    // acquisition waits for the loop's next turn first.
    await setImmediate();
    const release = await this.#mutex.lock();
    return new PGliteConnection(this.pglite, release);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PGliteConnection).release();
  }

  async destroy(): Promise<void> {
    if (!this.pglite.closed) await this.pglite.close();
  }
}

export class PGliteDialect implements Dialect {
  readonly #driver: PGliteDriver;

  constructor(pglite: PGlite) {
    this.#driver = new PGliteDriver(pglite);
  }

  /** See PGliteDriver.othersFirst: what a long job awaits before each of its transactions. */
  othersFirst(): Promise<void> {
    return this.#driver.othersFirst();
  }

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return this.#driver;
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}
