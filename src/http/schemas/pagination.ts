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

/** The cursor to return: the last item's position when a further page may exist, else null. */
export function nextCursor<T>(page: T[], limit: number, position: (item: T) => Cursor) {
  const last = page.at(-1);
  if (page.length < limit || !last) return null;
  const { id, timestamp } = position(last);
  return { timestamp: timestamp.toISOString(), id };
}
