import { z } from 'zod';
import { LIST_IMPORT_STATUSES } from '../../app/lists/import-jobs.js';
import { validationError } from '../../core/errors.js';
import { ID_PATTERN } from '../../core/ids.js';
import { ColumnIdSchema } from './campaigns.js';
import { IdSchema, NullableTimestamp, queryArray, TimestampSchema } from './common.js';
import { MergeStrategySchema } from './import-jobs.js';
import { PlatformIdSchema } from './prospects.js';

/** The vendor's import job of a list, with its counters (GET/POST /lists/{listId}/import-jobs). */
export const ListImportJobSchema = z
  .object({
    id: IdSchema,
    type: z.enum(['csv', 'followers', 'likes']),
    status: z
      .enum(LIST_IMPORT_STATUSES)
      .describe("queued: waiting for a runner; starting: taken by one, nothing written yet; running; paused: waiting to resume (a platform's rate limit, a retry); then completed, failed or canceled"),
    totalCount: z.number().int().nullable().describe('what there is to import, when known; once completed, what was read'),
    processedCount: z.number().int(),
    addedCount: z.number().int(),
    skippedCount: z.number().int().describe('already in the list'),
    failedCount: z.number().int(),
    error: z.string().nullable().describe('why the job failed'),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
    completedAt: NullableTimestamp,
  })
  .meta({ id: 'ListImportJob' });

export const ListImportJobPageSchema = z.object({ data: z.array(ListImportJobSchema), nextCursor: z.string().nullable() }).meta({ id: 'ListImportJobPage' });

const CsvImportData = z
  .object({
    type: z.literal('csv'),
    content: z.string().min(1).describe('the CSV file, its header row first'),
    fileName: z.string().min(1).max(255),
    columnMapping: z
      .array(
        z
          .object({
            csvHeader: z.string().min(1).max(255),
            targetColumnId: z.union([z.enum(['platformId', 'username']), ColumnIdSchema]).describe('a list column id, or platformId / username for the column that names the lead'),
          }),
      )
      .min(1)
      .max(120),
    mergeStrategy: MergeStrategySchema.optional(),
  });

const exactlyOne = (a: unknown, b: unknown) => (a === undefined) !== (b === undefined);

const FollowersImportData = z
  .object({
    type: z.literal('followers'),
    username: z.string().min(1).max(100).optional().describe('the account whose followers to import: its handle (or profile link)'),
    platformId: PlatformIdSchema.optional().describe('or its platform user id'),
  })
  .refine((d) => exactlyOne(d.username, d.platformId), { message: 'give exactly one of username and platformId', path: ['username'] });

const LikesImportData = z
  .object({
    type: z.literal('likes'),
    postId: PlatformIdSchema.optional().describe('the post whose likers to import'),
    postUrl: z.string().min(1).max(2048).optional().describe('or its link (https://x.com/<handle>/status/<id>)'),
  })
  .refine((d) => exactlyOne(d.postId, d.postUrl), { message: 'give exactly one of postId and postUrl', path: ['postId'] });

export const CreateListImportBody = z.object({ data: z.discriminatedUnion('type', [CsvImportData, FollowersImportData, LikesImportData]) });

export const ListImportParams = z.object({ listId: IdSchema, importJobId: IdSchema });

export const ListImportQuery = z
  .object({
    status: queryArray(z.enum(LIST_IMPORT_STATUSES)).optional().describe('only jobs in these statuses'),
    cursor: z.string().min(1).max(200).optional().describe("the previous page's nextCursor"),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  });

/** A page's cursor: where it ended (the last job's creation and id), opaque to the caller. */
export const encodeListImportCursor = (job: { createdAt: string; id: string }) => Buffer.from(JSON.stringify([job.createdAt, job.id])).toString('base64url');

export function decodeListImportCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && !Number.isNaN(Date.parse(at)) && typeof id === 'string' && ID_PATTERN.test(id)) return { createdAt: new Date(at), id };
  } catch {
    // not even JSON: refused below
  }
  throw validationError('The cursor is not one this list gave out', [{ field: 'cursor', message: 'is not a cursor of this list' }]);
}
