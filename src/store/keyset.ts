import { sql, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely';

/**
 * Keyset pages: a list walked in the order of its keys (the last one unique, usually the id) from where the previous
 * page ended, so a page costs the same wherever it is and rows written meanwhile are neither skipped nor repeated.
 * Every paged read of the use cases builds its page here; the cursors that carry a position are the callers'.
 */

export type Direction = 'asc' | 'desc';

/** A key: a column (`'t.sort_at'`) or an expression the rows are ordered by. */
export type Key = string | Expression<unknown>;

const expressionOf = (key: Key) => (typeof key === 'string' ? sql.ref(key) : key);

/** The rows that come after `position` (one value per key, or an expression for it) in a walk in `direction`. */
function afterPosition(keys: readonly Key[], direction: Direction, position: readonly unknown[]): Expression<SqlBool> {
  const operator = sql.raw(direction === 'asc' ? '>' : '<');
  return sql<SqlBool>`(${sql.join(keys.map(expressionOf))}) ${operator} (${sql.join(position)})`;
}

/**
 * One page: ordered by `keys` in `direction`, after `position` when there is one, with `limit + 1` rows so the
 * caller knows whether another page follows (and cuts the extra row off).
 */
export function keysetPage<DB, TB extends keyof DB, O>(
  select: SelectQueryBuilder<DB, TB, O>,
  keys: readonly Key[],
  direction: Direction,
  position: readonly unknown[] | undefined,
  limit: number,
): SelectQueryBuilder<DB, TB, O> {
  let page = select;
  for (const key of keys) page = page.orderBy(expressionOf(key), direction);
  if (position) page = page.where(afterPosition(keys, direction, position));
  return page.limit(limit + 1);
}
