import { z } from 'zod';
import { MAX_REPORTED_ERRORS } from '../../app/lists/imports.js';
import { ColumnIdSchema } from './campaigns.js';
import { IdSchema, NullableTimestamp, TimestampSchema } from './common.js';
import { NextCursorSchema, paginationQuery } from './pagination.js';

const csvColumn = z.string().min(1).max(255);

export const MergeStrategySchema = z
  .enum(['skip', 'overwrite'])
  .describe("a lead already in the list: 'skip' leaves it as it is (the default), 'overwrite' gives it the file's values in the mapped columns");

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
    mergeStrategy: MergeStrategySchema.optional(),
  })
  .refine((m) => (m.idColumn === undefined) !== (m.usernameColumn === undefined), {
    message: 'give exactly one of idColumn and usernameColumn',
    path: ['idColumn'],
  });

export const ImportJobSchema = z
  .object({
    id: IdSchema,
    type: z.enum(['csv', 'followers', 'likes']).describe("the importer: a CSV file, an account's followers, or the people who liked a post"),
    listId: IdSchema,
    status: z.enum(['queued', 'running', 'completed', 'failed', 'canceled']),
    total: z
      .number()
      .int()
      .nullable()
      .describe("a CSV's data rows (the header excluded), an account's follower count; null while unknown (a post's likers); once completed, what was read"),
    processed: z.number().int(),
    added: z.number().int(),
    skipped: z.number().int().describe('already in the list'),
    failed: z.number().int().describe('rows without a usable id, with a bad column value, or that could not be resolved'),
    errors: z
      .array(z.object({ row: z.number().int().describe('1 = the first row after the header'), reason: z.string() }))
      .describe(`the first ${MAX_REPORTED_ERRORS} failed rows`),
    fileName: z.string().nullable().describe("the uploaded file's name, when the upload gave one"),
    createdAt: TimestampSchema,
    startedAt: NullableTimestamp,
    updatedAt: TimestampSchema.describe('when the job last changed (a batch written, started, ended)'),
    completedAt: NullableTimestamp,
  })
  .meta({ id: 'ImportJob' });

export const ImportJobParams = z.object({ importJobId: IdSchema });
export const ImportJobListQuery = z.object({ ...paginationQuery(20), listId: IdSchema.optional() });
export const ImportJobPageSchema = z.object({ importJobs: z.array(ImportJobSchema), nextCursor: NextCursorSchema });
