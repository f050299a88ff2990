import { createHash } from 'node:crypto';
import { ID_PATTERN } from '../../core/ids.js';
import { invalidCursor } from './errors.js';

/**
 * API v2's opaque cursors. A cursor holds the position of the last item of its page (a time and an id, the keyset
 * every v2 list is ordered by) and a fingerprint of what it was issued for (the team, the list and its filters),
 * with a checksum over both. A cursor that was changed, cut, or given to another list or other filters is
 * `invalidCursor`; `limit` and `expand` may change between pages. The checksum detects tampering, it does not
 * keep secrets: a cursor only ever positions a page inside the caller's own team, which every query filters on.
 */
export interface Position {
  at: Date;
  id: string;
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

/** What a cursor is valid for: the team, the list, and its filters in a canonical order. */
export function fingerprint(teamId: string, list: string, filters: Record<string, unknown>): string {
  const canonical = Object.keys(filters)
    .sort()
    .filter((key) => filters[key] !== undefined)
    .map((key) => [key, filters[key]]);
  return digest(JSON.stringify([teamId, list, canonical])).slice(0, 16);
}

const checksum = (body: string) => digest(`inbox-v2-cursor:${body}`).slice(0, 16);

/** `values` as an opaque cursor: base64url JSON and a checksum of it. */
function seal(values: unknown[]): string {
  const body = Buffer.from(JSON.stringify(values)).toString('base64url');
  return `${body}.${checksum(body)}`;
}

/** The values of an intact cursor of `length` values; invalidCursor otherwise. */
function unseal(cursor: string, length: number): unknown[] {
  const [body, sum, ...rest] = cursor.split('.');
  if (!body || !sum || rest.length > 0 || checksum(body) !== sum) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== length) throw invalidCursor();
  return parsed;
}

export const encodeCursor = (position: Position, issuedFor: string): string => seal([position.at.toISOString(), position.id, issuedFor]);

/** The position a cursor holds, when it is intact and was issued for `issuedFor`; invalidCursor otherwise. */
export function decodeCursor(cursor: string, issuedFor: string): Position {
  const [at, id, scope] = unseal(cursor, 3);
  if (typeof at !== 'string' || typeof id !== 'string' || !ID_PATTERN.test(id) || scope !== issuedFor || Number.isNaN(Date.parse(at))) throw invalidCursor();
  return { at: new Date(at), id };
}

/** A cursor of a list ordered by event seq (a webhook's deliveries): the seq of its page's last item. */
export const encodeSeqCursor = (seq: number, issuedFor: string): string => seal([seq, issuedFor]);

export function decodeSeqCursor(cursor: string, issuedFor: string): number {
  const [seq, scope] = unseal(cursor, 2);
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || scope !== issuedFor) throw invalidCursor();
  return seq;
}

/**
 * One page of a list already read whole and in order (members, account links, contacts found by identity:
 * lists that are small by nature): the items after the cursor's position, and the next cursor.
 */
export function pageOf<T>(items: readonly T[], positionOf: (item: T) => Position, limit: number, after: Position | undefined, issuedFor: string) {
  const start = after ? items.findIndex((item) => comparePositions(positionOf(item), after) > 0) : 0;
  const rest = start < 0 ? [] : items.slice(start);
  return pageFrom(rest, positionOf, limit, issuedFor);
}

/** The page of `rows` read with `limit + 1`, and the cursor of the next one (null on the last page). */
export function pageFrom<T>(rows: readonly T[], positionOf: (item: T) => Position, limit: number, issuedFor: string) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(positionOf(last), issuedFor) : null };
}

function comparePositions(a: Position, b: Position): number {
  const byTime = a.at.getTime() - b.at.getTime();
  return byTime !== 0 ? byTime : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
