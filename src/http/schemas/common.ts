import { z } from 'zod';
import { ID_PATTERN } from '../../core/ids.js';

export const IdSchema = z.string().regex(ID_PATTERN, 'must match ^[0-9a-z]+$');
/** The earliest instant PostgreSQL stores in our columns: it has no year 0000, which the ISO pattern allows. */
const EARLIEST_STORABLE_MS = Date.parse('0001-01-01T00:00:00Z');

export const TimestampSchema = z.iso
  .datetime({ offset: true })
  // A value that is no date at all has its problem reported once, by the format check.
  .refine((value) => Number.isNaN(Date.parse(value)) || Date.parse(value) >= EARLIEST_STORABLE_MS, 'must be in the year 0001 or later');
export const NullableTimestamp = TimestampSchema.nullable();

export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      status: z.number().int(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** Documented on every route; also makes error bodies pass through the same serializer. */
export const errorResponses = { '4xx': ErrorEnvelopeSchema, '5xx': ErrorEnvelopeSchema } as const;

/**
 * A query-string array: the three spellings (`a=1&a=2`, `a[]=1`, `a[0]=1`) all decode to arrays,
 * except a single plain `a=1`, which decodes to a string and is wrapped here.
 */
export function queryArray<T extends z.ZodType>(item: T) {
  return z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(item));
}

/** Query booleans arrive as the strings "true" and "false". */
export const QueryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');

/** Action endpoints take `{}` (or no body at all). */
export const EmptyBody = z.object({}).nullish();

/** A media type, `type/subtype`. */
export const MediaType = z
  .string()
  .max(255)
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i, 'is not a media type (type/subtype)');

/** The URL of a medium or a link: http(s) only. */
export const MediaUrl = z.url({ protocol: /^https?$/ }).max(2048);
