import { CompiledQuery, type Insertable } from 'kysely';
import type { Db } from './db.js';
import type { Database } from './schema.js';

/**
 * Statements over thousands of rows, written straight to SQL text with numbered parameters. The query builder
 * makes frozen nodes per value and compiles them, which cost the engine about 6% of its send rate on PostgreSQL
 * (bench:engine). Values go to the driver exactly as the builder would pass them.
 */

/** PostgreSQL takes at most 65,535 parameters a statement. */
const MAX_PARAMETERS = 65_000;

type Row = Record<string, unknown>;

/**
 * `($1, $2, ...), (...)` for the rows, each value cast when `casts` names a type for its column; an undefined
 * value is `undefinedAs` (DEFAULT in an insert, as the query builder writes it).
 */
function valuesList(columns: readonly string[], rows: readonly Row[], casts: Readonly<Record<string, string>>, undefinedAs: 'default' | 'null'): { text: string; parameters: unknown[] } {
  const parameters: unknown[] = [];
  const tuples = rows.map((row) => {
    const placeholders = columns.map((column) => {
      const value = row[column];
      if (value === undefined) return undefinedAs;
      parameters.push(value);
      const cast = casts[column];
      return cast ? `$${parameters.length}::${cast}` : `$${parameters.length}`;
    });
    return `(${placeholders.join(', ')})`;
  });
  return { text: tuples.join(', '), parameters };
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

function* chunks<T>(rows: readonly T[], columnCount: number): Generator<readonly T[]> {
  const size = Math.max(1, Math.floor(MAX_PARAMETERS / columnCount));
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

/**
 * Inserts rows that all set the same columns. `tail` follows the VALUES list (an ON CONFLICT clause, a RETURNING
 * list); the rows it returns come back together.
 */
export async function insertRows<T extends keyof Database & string, R = Row>(db: Db, table: T, rows: ReadonlyArray<Insertable<Database[T]>>, tail = ''): Promise<R[]> {
  if (rows.length === 0) return [];
  const columns = Object.keys(rows[0]!);
  const returned: R[] = [];
  for (const chunk of chunks(rows as readonly Row[], columns.length)) {
    const values = valuesList(columns, chunk, {}, 'default');
    const text = `insert into ${quoted(table)} (${columns.map(quoted).join(', ')}) values ${values.text} ${tail}`;
    const result = await db.executeQuery<R>(CompiledQuery.raw(text, values.parameters));
    returned.push(...result.rows);
  }
  return returned;
}

/**
 * Updates rows by id: `columns` maps `id` and each column to set to its SQL type (a value a row leaves undefined
 * is set to null).
 */
export async function updateRows(db: Db, table: keyof Database & string, columns: Readonly<Record<string, string>>, rows: readonly Row[]): Promise<void> {
  const names = Object.keys(columns);
  const sets = names.filter((name) => name !== 'id').map((name) => `${quoted(name)} = v.${quoted(name)}`);
  for (const chunk of chunks(rows, names.length)) {
    const values = valuesList(names, chunk, columns, 'null');
    const text = `update ${quoted(table)} t set ${sets.join(', ')} from (values ${values.text}) as v(${names.map(quoted).join(', ')}) where t.id = v.id`;
    await db.executeQuery(CompiledQuery.raw(text, values.parameters));
  }
}
