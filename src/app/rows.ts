import { notFound } from '../core/errors.js';

/**
 * The row a query finds, or 404 with `code` naming what was looked for (`Campaign with ID '…' not found`). Every
 * get-by-id of the use cases goes through it, so a missing row answers the same way everywhere.
 */
export async function rowOr404<O>(query: { executeTakeFirst(): Promise<O | undefined> }, code: string, what: string, id: string): Promise<O> {
  const row = await query.executeTakeFirst();
  if (!row) throw notFound(code, what, id);
  return row;
}
