import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { invalidRequest, type Issue } from './errors.js';

/**
 * API v2's query strings: several values repeat the key (`?tag=a&tag=b`); brackets (`tag[]=a`, `a[b]=c`) are
 * refused, as the vendor documents, rather than read as v1's qs notation. One value is a string, a repeated key
 * an array (a schema that wants one value refuses an array).
 */
export function parseV2Query(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  const refused: Issue[] = [];
  for (const [key, value] of new URLSearchParams(search)) {
    if (/[[\]]/.test(key)) {
      refused.push({ path: [key], message: 'brackets are not accepted: repeat the key for several values' });
      continue;
    }
    const before = query[key];
    query[key] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  if (refused.length > 0) throw invalidRequest(refused);
  return query;
}

/** Reads every /api/v2 request's query string the v2 way, before the route's schema validates it. */
export function useV2QueryStrings(api: FastifyInstance): void {
  api.addHook('preValidation', async (request) => {
    const at = request.url.indexOf('?');
    (request as { query: unknown }).query = parseV2Query(at < 0 ? '' : request.url.slice(at + 1));
  });
}

/** The most values one repeated key may carry (the vendor's own bound on identity lookups). */
const MAX_REPEATS = 100;

/** A repeatable query key: one value or several, always an array once parsed. */
export function repeated<T extends z.ZodType>(item: T) {
  return z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(item).max(MAX_REPEATS));
}

/** `true` or `false`. */
export const queryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');

/** `limit`: 1 to `max`, `fallback` when omitted. */
export const pageLimit = (fallback = 50, max = 100) => z.coerce.number().int().min(1).max(max).default(fallback);

/** The query fields of every paged list: `limit` and the opaque `cursor` of the page before. */
export const pageQuery = { limit: pageLimit(), cursor: z.string().min(1).optional() };

/** `expand`: paths of related resources to embed, one per key, at most 4. */
export const expandOf = <T extends readonly [string, ...string[]]>(paths: T) =>
  repeated(z.enum(paths)).refine((values) => values.length <= 4, 'at most 4 expansions').optional();
