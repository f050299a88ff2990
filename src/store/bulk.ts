import { CompiledQuery, sql, type Insertable } from 'kysely';
import { setImmediate } from 'node:timers/promises';
import type { Database, Db } from './schema.js';

/**
 * Statements over thousands of rows, written straight to SQL text. The rows travel as one JSON document, unpacked
 * by json_to_recordset: the server parses one value instead of binding a parameter a cell and planning a VALUES
 * list, which made a 15-column row about 30% cheaper to write on PGlite and on PostgreSQL (bench:engine). json
 * and jsonb values are the exception: they arrive as JSON text (as the rest of the store writes them), and
 * inside the document their bytes would be read twice, so each goes as a parameter of its own and is zipped back
 * to its row by position.
 */

/** PostgreSQL takes at most 65,535 parameters a statement. */
const MAX_PARAMETERS = 65_000;
/** Rows a statement: its document stays tens of megabytes, far below the server's 1 GB for one value. */
const MAX_ROWS = 50_000;

type Row = Record<string, unknown>;
/** Column name to SQL type. */
type Columns = Readonly<Record<string, string>>;

/** A name (table, column) as a quoted SQL identifier. */
export const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
const isJsonType = (type: string) => type === 'json' || type === 'jsonb';

/**
 * A JSON escape of a lone UTF-16 surrogate, which JSON.stringify writes for one (a paired surrogate it writes as
 * is), after an even number of backslashes (after an odd number it is text that reads `\ud800`).
 */
const LONE_SURROGATE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

/**
 * The rows as one JSON array of objects with the scalar columns, in one native JSON.stringify (the columns as its
 * property list: about twice as fast as a stringify a cell). A value left undefined is left out, which
 * json_to_recordset reads as null. A lone surrogate becomes U+FFFD, as the drivers' UTF-8 encoding makes it: the
 * server refuses its JSON escape.
 */
function documentOf(rows: readonly Row[], scalar: string[]): string {
  const document = JSON.stringify(rows, scalar);
  return document.includes('\\ud') ? document.replace(LONE_SURROGATE, '$1\\ufffd') : document;
}

/**
 * The rows as a FROM item named `r` with the columns' names: the scalar columns from a JSON document ($1), each
 * json column from its own parameters. An undefined value is null.
 */
function rowSource(columns: Columns, rows: readonly Row[]): { from: string; parameters: unknown[] } {
  const names = Object.keys(columns);
  const scalar = names.filter((name) => !isJsonType(columns[name]!));
  const json = names.filter((name) => isJsonType(columns[name]!));
  const valueOf = (row: Row, name: string) => row[name] ?? null;
  const document = documentOf(rows, scalar);
  const parameters: unknown[] = [document];
  const arrays = json.map((name) => {
    const placeholders = rows.map((row) => {
      parameters.push(valueOf(row, name));
      return `$${parameters.length}`;
    });
    return `unnest(array[${placeholders.join(',')}]::${columns[name]}[])`;
  });
  const definition = scalar.map((name) => `${quoted(name)} ${columns[name]}`).join(', ');
  const functions = [`json_to_recordset($1::json) as (${definition})`, ...arrays].join(', ');
  return { from: `rows from (${functions}) as r(${[...scalar, ...json].map(quoted).join(', ')})`, parameters };
}

/** Statements of at most MAX_ROWS rows, and of fewer when their json cells (a parameter each) would pass the limit. */
function* chunks<T>(rows: readonly T[], columns: Columns): Generator<readonly T[]> {
  const jsonColumns = Object.values(columns).filter(isJsonType).length;
  const size = jsonColumns === 0 ? MAX_ROWS : Math.min(MAX_ROWS, Math.floor(MAX_PARAMETERS / jsonColumns));
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

/** Column types by table, read from the catalog once: every store runs the same migrations. */
const columnTypes = new Map<string, Promise<Map<string, string>>>();

function typesOf(db: Db, table: string): Promise<Map<string, string>> {
  let types = columnTypes.get(table);
  if (!types) {
    types = sql<{ name: string; type: string }>`
      select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
      where attrelid = ${quoted(table)}::regclass and attnum > 0 and not attisdropped`
      .execute(db)
      .then(({ rows }) => new Map(rows.map((r) => [r.name, r.type])));
    // A failed read (say, in a transaction already aborted) is not remembered.
    types.catch(() => columnTypes.delete(table));
    columnTypes.set(table, types);
  }
  return types;
}

/**
 * Inserts rows. A column a row leaves undefined takes its default there (rows are written in groups of the same
 * columns). `tail` follows the rows (an ON CONFLICT clause, a RETURNING list); the rows it returns come back
 * together.
 */
export async function insertRows<T extends keyof Database & string, R = Row>(db: Db, table: T, rows: ReadonlyArray<Insertable<Database[T]>>, tail = ''): Promise<R[]> {
  if (rows.length === 0) return [];
  const types = await typesOf(db, table);
  const typeOf = (name: string) => {
    const type = types.get(name);
    if (!type) throw new Error(`bulk insert: ${table} has no column ${name}`);
    return type;
  };
  const groups = new Map<string, Row[]>();
  for (const row of rows as readonly Row[]) {
    const names = Object.keys(row).filter((name) => row[name] !== undefined);
    const key = names.join(',');
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  const returned: R[] = [];
  for (const [key, group] of groups) {
    const columns = Object.fromEntries(key.split(',').map((name) => [name, typeOf(name)]));
    const list = Object.keys(columns).map(quoted).join(', ');
    for (const chunk of chunks(group, columns)) {
      const { from, parameters } = rowSource(columns, chunk);
      const text = `insert into ${quoted(table)} (${list}) select ${list} from ${from} ${tail}`;
      returned.push(...(await db.executeQuery<R>(CompiledQuery.raw(text, parameters))).rows);
    }
  }
  return returned;
}

/**
 * Updates rows by id: `columns` maps `id` and each column to set to its SQL type (a value a row leaves undefined
 * is set to null).
 */
export async function updateRows(db: Db, table: keyof Database & string, columns: Columns, rows: readonly Row[]): Promise<void> {
  const sets = Object.keys(columns)
    .filter((name) => name !== 'id')
    .map((name) => `${quoted(name)} = r.${quoted(name)}`);
  for (const chunk of chunks(rows, columns)) {
    const { from, parameters } = rowSource(columns, chunk);
    await db.executeQuery(CompiledQuery.raw(`update ${quoted(table)} t set ${sets.join(', ')} from ${from} where t.id = r.id`, parameters));
  }
}

/**
 * A statement left to run while this process goes on working, and awaited later: before the transaction's next
 * statement, so that a failure comes up as its own error. Until then, a failure is not an unhandled rejection.
 */
export function runningMeanwhile<T>(statement: Promise<T>): Promise<T> {
  statement.catch(() => {});
  return statement;
}

/** Rows insertBuiltRows builds before sending them: about a megabyte of event groups, which the socket takes at once. */
const BUILT_ROWS_A_STATEMENT = 256;

/**
 * insertRows for rows that take this process long to build (an event group's JSON): built a chunk at a time, each
 * chunk while the server writes the one before, so that on PostgreSQL the two work at once instead of in turn.
 * Returns the rows as built.
 */
export async function insertBuiltRows<T extends keyof Database & string, S>(
  db: Db,
  table: T,
  sources: readonly S[],
  build: (source: S) => Insertable<Database[T]>,
): Promise<Array<Insertable<Database[T]>>> {
  const built: Array<Insertable<Database[T]>> = [];
  let writing: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < sources.length; i += BUILT_ROWS_A_STATEMENT) {
    const rows = sources.slice(i, i + BUILT_ROWS_A_STATEMENT).map(build);
    built.push(...rows);
    await writing;
    writing = runningMeanwhile(insertRows(db, table, rows));
    // The statement goes out on the socket before building the next chunk keeps this process busy (a single
    // chunk, as an API change's few events are, has nothing to wait for).
    if (i + BUILT_ROWS_A_STATEMENT < sources.length) await setImmediate();
  }
  await writing;
  return built;
}
