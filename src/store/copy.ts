import { CompiledQuery, type Insertable } from 'kysely';
import pg from 'pg';
import { quoted } from './bulk.js';
import type { Database, Db } from './schema.js';

/**
 * COPY ... FROM STDIN on both stores, through the one Kysely interface. The rows go as CSV bytes in the place of
 * the statement's only parameter, a CopySource; each store's connection sees it there and runs the copy its own
 * way: PostgreSQL through the copy sub-protocol (CopyData messages on the connection the statement runs on, in
 * its transaction), PGlite by reading the bytes as its `/dev/blob` device. So a copy is one statement, in the
 * caller's transaction, as any other. The statement may be a script of several without parameters around its one
 * COPY (sent as one simple-protocol message: one round trip); it answers the rows of its last statement, or, a
 * COPY alone, how many rows it copied.
 */
export class CopySource {
  constructor(readonly bytes: Buffer) {}
}

/** The answer of a copy statement: how many rows it wrote. */
export interface CopyResult {
  copied: number;
}

const COPY_FROM_STDIN = /\bfrom\s+stdin\b/i;

/** The statement PGlite runs for a COPY ... FROM STDIN: its blob device is the input. */
export const fromBlobDevice = (text: string) => text.replace(COPY_FROM_STDIN, "from '/dev/blob'");

export const isCopySource = (parameters: readonly unknown[]): parameters is [CopySource] => parameters.length === 1 && parameters[0] instanceof CopySource;

/** The CopyData messages of a copy, at most this large each (the server reads them as a stream). */
const COPY_MESSAGE_BYTES = 256 * 1024;

/** pg's query, answering the server's CopyInResponse with the bytes (pg itself would refuse it: no source). */
class CopyIn extends pg.Query {
  constructor(
    text: string,
    private readonly bytes: Buffer,
  ) {
    super(text);
  }

  handleCopyInResponse(connection: { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void }): void {
    for (let at = 0; at < this.bytes.length; at += COPY_MESSAGE_BYTES) connection.sendCopyFromChunk(this.bytes.subarray(at, at + COPY_MESSAGE_BYTES));
    connection.endCopyFrom();
  }
}

/** Runs a COPY ... FROM STDIN (or a script holding one) on a pg client, with the source's bytes as its input. */
export function copyOnPostgres(client: pg.PoolClient, text: string, source: CopySource): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    // pg answers a script with one result a statement.
    const query = new CopyIn(text, source.bytes) as pg.Query & { callback?: (error: Error | null, result: pg.QueryResult | pg.QueryResult[]) => void };
    query.callback = (error, result) => {
      if (error) reject(error);
      else if (Array.isArray(result)) resolve(result.at(-1)!);
      else resolve({ ...result, rows: [{ copied: result.rowCount ?? 0 }] });
    };
    client.query(query);
  });
}

/**
 * The rows as COPY's CSV, the columns in `columns` order: null unquoted and empty, anything else quoted (so '' stays
 * an empty string). Built in one string, a row's dates written once when they are one Date (a batch's `now`): an
 * import batch's prospects are 28,000 fields, and this is on its transaction's path.
 */
export function csvOf(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, columns: readonly string[]): Buffer {
  let lastDate: Date | undefined;
  let lastIso = '';
  const field = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    let text: string;
    if (typeof value === 'string') text = value;
    else if (value instanceof Date) {
      if (value !== lastDate) [lastDate, lastIso] = [value, value.toISOString()];
      text = lastIso;
    } else text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    return text.includes('"') ? `"${text.replaceAll('"', '""')}"` : `"${text}"`;
  };
  let csv = '';
  for (const row of rows) {
    for (let c = 0; c < columns.length; c++) csv += (c === 0 ? '' : ',') + field(row[columns[c]!]);
    csv += '\n';
  }
  return Buffer.from(csv, 'utf8');
}

/**
 * Copies rows into `table` (its `columns`, in order): one COPY statement on the caller's connection. Text may not
 * hold NUL (PostgreSQL cannot store it; callers refuse it before).
 */
export async function copyRows(db: Db, table: string, columns: readonly string[], rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db.executeQuery<CopyResult>(CompiledQuery.raw(copyStatement(table, columns), [new CopySource(csvOf(rows, columns))]));
  return result.rows[0]?.copied ?? 0;
}

const copyStatement = (table: string, columns: readonly string[]) => `copy ${quoted(table)} (${columns.map(quoted).join(', ')}) from stdin with (format csv)`;

/** Numbers each insertRowsByCopy of this process, so that its INSERT ... SELECT moves only the rows it staged. */
let stagings = 0;

/**
 * insertRows (store/bulk.ts) by COPY: the rows are copied into a temporary staging table with `table`'s columns (one
 * a connection, emptied at commit), then moved into `table` by one INSERT ... SELECT, which `tail` follows (an ON
 * CONFLICT clause, a RETURNING list). COPY's parser is cheaper than json_to_recordset's, the more so the more rows
 * (bench/merge-paths.ts). The staging table's creation (when the connection has none yet), the COPY and the move
 * are one script: one round trip. Every row gives the same columns (those of the first row); a column left out
 * takes its default.
 */
export async function insertRowsByCopy<T extends keyof Database & string, R = Record<string, unknown>>(
  db: Db,
  table: T,
  rows: ReadonlyArray<Insertable<Database[T]>>,
  tail = '',
): Promise<R[]> {
  if (rows.length === 0) return [];
  const columns = Object.keys(rows[0]!);
  const staging = `staged_${table}`;
  const staged = (stagings = (stagings + 1) % 2 ** 31);
  // The table's columns, of its types, and nothing else of it (no constraint, default or identity): the ones a row
  // leaves out stay null here and take the table's defaults when moved. Rows staged earlier in the transaction stay
  // until its commit (deleting them would cost more than skipping them): `staging_call` tells them apart.
  const create = `create temporary table if not exists ${quoted(staging)} on commit delete rows as select *, 0 as staging_call from ${quoted(table)} with no data`;
  const stagedColumns = [...columns, 'staging_call'];
  const copy = copyStatement(staging, stagedColumns);
  const list = columns.map(quoted).join(', ');
  const move = `insert into ${quoted(table)} (${list}) select ${list} from ${quoted(staging)} where staging_call = ${staged} ${tail}`;
  const bytes = csvOf((rows as ReadonlyArray<Record<string, unknown>>).map((row) => ({ ...row, staging_call: staged })), stagedColumns);
  return (await db.executeQuery<R>(CompiledQuery.raw(`${create}; ${copy}; ${move}`, [new CopySource(bytes)]))).rows;
}
