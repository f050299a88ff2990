import { z } from 'zod';
import { validationError } from '../../core/errors.js';
import { IdSchema, TimestampSchema } from './common.js';

/** A position in a list ordered by (timestamp, id): the last item of the previous page. */
export interface Cursor {
  id: string;
  timestamp: Date;
}

export const NextCursorSchema = z.object({ timestamp: TimestampSchema, id: IdSchema }).nullable();

/**
 * The query fields of a paginated list: `cursorId` + `cursorTimestamp` (both or neither), or the
 * deprecated `cursor[id]` + `cursor[timestamp]`, and `limit` within bounds.
 */
export function paginationQuery(defaultLimit: number) {
  return {
    cursorId: IdSchema.optional(),
    cursorTimestamp: TimestampSchema.optional(),
    cursor: z.object({ id: IdSchema, timestamp: TimestampSchema }).optional().describe('deprecated: use cursorId and cursorTimestamp'),
    limit: z.coerce.number().int().min(1).max(100).default(defaultLimit),
  };
}

/** Reads the cursor out of a parsed pagination query, enforcing the pairing rules. */
export function cursorFrom(query: {
  cursorId?: string;
  cursorTimestamp?: string;
  cursor?: { id: string; timestamp: string };
}): Cursor | undefined {
  const flat = query.cursorId !== undefined || query.cursorTimestamp !== undefined;
  if (flat && query.cursor) {
    throw validationError('Use either cursorId and cursorTimestamp or cursor, not both', [
      { field: 'querystring.cursor', message: 'cannot be combined with cursorId/cursorTimestamp' },
    ]);
  }
  if (flat) {
    if (query.cursorId === undefined || query.cursorTimestamp === undefined) {
      throw validationError('cursorId and cursorTimestamp must be given together', [
        { field: query.cursorId === undefined ? 'querystring.cursorId' : 'querystring.cursorTimestamp', message: 'required with its pair' },
      ]);
    }
    return { id: query.cursorId, timestamp: new Date(query.cursorTimestamp) };
  }
  return query.cursor ? { id: query.cursor.id, timestamp: new Date(query.cursor.timestamp) } : undefined;
}

/**
 * Splits `rows` fetched with `limit + 1` into the page and the cursor to return: the last item's
 * position when a further page exists, else null.
 */
export function paginate<T>(rows: T[], limit: number, position: (item: T) => Cursor) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  if (rows.length <= limit || !last) return { page, nextCursor: null };
  const { id, timestamp } = position(last);
  return { page, nextCursor: { timestamp: timestamp.toISOString(), id } };
}
