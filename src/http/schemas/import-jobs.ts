import { z } from 'zod';
import { MAX_REPORTED_ERRORS } from '../../app/lists/imports.js';
import { ColumnIdSchema } from './campaigns.js';
import { IdSchema, NullableTimestamp, TimestampSchema } from './common.js';
import { NextCursorSchema, paginationQuery } from './pagination.js';

const csvColumn = z.string().min(1).max(255);

/**
 * Where a CSV goes: in the query string with a text/csv body, or as form fields before the file in a
 * multipart body (the same names: listId, idColumn, columns[Company]=custom_...).
 */
export const ImportMappingSchema = z
  .object({
    listId: IdSchema,
    idColumn: csvColumn.optional().describe('the CSV column (header name) holding X user ids'),
    usernameColumn: csvColumn.optional().describe('or the one holding usernames'),
    columns: z.record(z.string(), ColumnIdSchema).optional().describe('CSV column (header name) -> list column id'),
  })
  .refine((m) => (m.idColumn === undefined) !== (m.usernameColumn === undefined), {
    message: 'give exactly one of idColumn and usernameColumn',
    path: ['idColumn'],
  });

export const ImportJobSchema = z
  .object({
    id: IdSchema,
    type: z.literal('csv'),
    listId: IdSchema,
    status: z.enum(['queued', 'running', 'completed', 'failed', 'canceled']),
    total: z.number().int().describe('data rows in the file (the header excluded)'),
    processed: z.number().int(),
    added: z.number().int(),
    skipped: z.number().int().describe('already in the list'),
    failed: z.number().int().describe('rows without a usable id, with a bad column value, or that could not be resolved'),
    errors: z
      .array(z.object({ row: z.number().int().describe('1 = the first row after the header'), reason: z.string() }))
      .describe(`the first ${MAX_REPORTED_ERRORS} failed rows`),
    createdAt: TimestampSchema,
    startedAt: NullableTimestamp,
    completedAt: NullableTimestamp,
  })
  .meta({ id: 'ImportJob' });

export const ImportJobParams = z.object({ importJobId: IdSchema });
export const ImportJobListQuery = z.object({ ...paginationQuery(20), listId: IdSchema.optional() });
export const ImportJobPageSchema = z.object({ importJobs: z.array(ImportJobSchema), nextCursor: NextCursorSchema });
