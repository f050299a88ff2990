import { sql } from 'kysely';
import { notFound, validationError } from '../../core/errors.js';
import type { JobRow } from '../../store/schema-campaigns.js';
import { createAudienceImport, type AudienceInput } from './audience-imports.js';
import type { AppContext } from '../context.js';
import { cancelImportJob, createCsvImport, importJobs, presentImportJob, type ImporterType, type ImportMapping } from './imports.js';
import type { MergeStrategy } from './leads.js';
import { getListRow } from './lists.js';

/**
 * The vendor's import jobs of a list (`/lists/{listId}/import-jobs`): the same jobs, importers and runner as our
 * `/import-jobs` (imports.ts, audience-imports.ts), shown as the vendor shows them, with its seven statuses.
 */

export const LIST_IMPORT_STATUSES = ['queued', 'starting', 'running', 'paused', 'completed', 'failed', 'canceled'] as const;
export type ListImportStatus = (typeof LIST_IMPORT_STATUSES)[number];

export interface ListImportJob {
  id: string;
  type: ImporterType;
  status: ListImportStatus;
  totalCount: number | null;
  processedCount: number;
  addedCount: number;
  skippedCount: number;
  failedCount: number;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

/**
 * A job's status as the vendor names it, at `now`, in SQL (the status filter and the answer agree): `starting`
 * is a job a runner took that has written nothing yet, `paused` one that waits to resume (a platform's rate limit
 * until it resets, or a retry after a failure), `running` one under way; the others are the job's own.
 */
const statusAt = (now: Date) => sql<ListImportStatus>`case
  when status = 'running' and (locked_until is null or locked_until <= ${now}) and run_after > ${now} then 'paused'
  when status = 'running' and coalesce((payload->>'processed')::bigint, 0) = 0 then 'starting'
  else status end`;

function present(row: JobRow & { list_status: ListImportStatus }): ListImportJob {
  const job = presentImportJob(row);
  return {
    id: job.id,
    type: job.type,
    status: row.list_status,
    totalCount: job.total,
    processedCount: job.processed,
    addedCount: job.added,
    skippedCount: job.skipped,
    failedCount: job.failed,
    error: row.status === 'failed' ? row.last_error : null,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    completedAt: job.completedAt,
  };
}

const listJobs = (ctx: AppContext, teamId: string, listId: string) =>
  importJobs(ctx.db, teamId).select(statusAt(ctx.clock.now()).as('list_status')).where('subject_id', '=', listId);

export async function getListImportJob(ctx: AppContext, teamId: string, listId: string, jobId: string): Promise<ListImportJob> {
  const row = await listJobs(ctx, teamId, listId).where('id', '=', jobId).executeTakeFirst();
  if (!row) throw notFound('IMPORT_JOB_NOT_FOUND', 'Import job', jobId);
  return present(row);
}

export interface ListImportQuery {
  statuses?: readonly ListImportStatus[];
  limit: number;
  /** the last job of the page before */
  after?: { createdAt: Date; id: string };
}

/** A list's import jobs, newest first, in statuses when given: a page, and whether more follow it. */
export async function listListImportJobs(ctx: AppContext, teamId: string, listId: string, query: ListImportQuery): Promise<{ jobs: ListImportJob[]; hasMore: boolean }> {
  await getListRow(ctx.db, teamId, listId);
  let rows = listJobs(ctx, teamId, listId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1);
  if (query.statuses) rows = rows.where(statusAt(ctx.clock.now()), 'in', query.statuses);
  const after = query.after;
  if (after) rows = rows.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)));
  const found = await rows.execute();
  return { jobs: found.slice(0, query.limit).map(present), hasMore: found.length > query.limit };
}

export interface CsvImportInput {
  type: 'csv';
  /** the CSV file's text */
  content: string;
  fileName: string;
  /** each mapped CSV column (by header) and where it goes: a list column id, or `platformId` / `username` for the one naming the lead */
  columnMapping: ReadonlyArray<{ csvHeader: string; targetColumnId: string }>;
  mergeStrategy?: MergeStrategy;
}

export type ListImportInput = CsvImportInput | AudienceInput;

/** The mapping field of a target that names the lead instead of a list column, or null for a list column. */
const leadField = (targetColumnId: string) => (targetColumnId === 'platformId' ? 'idColumn' : targetColumnId === 'username' ? 'usernameColumn' : null);

/** The vendor's column mapping as the CSV importer's (checked against the file and the list when the import is created). */
function csvMappingOf(input: CsvImportInput): ImportMapping {
  const naming = input.columnMapping.filter((m) => leadField(m.targetColumnId));
  if (naming.length !== 1) {
    throw validationError('Map exactly one CSV column to platformId or username: the one that names each lead', [
      { field: 'data.columnMapping', message: 'exactly one entry must have targetColumnId platformId or username' },
    ]);
  }
  const columns = input.columnMapping.filter((m) => !leadField(m.targetColumnId));
  const headers = columns.map((m) => m.csvHeader);
  const repeated = headers.find((header, i) => headers.indexOf(header) !== i);
  if (repeated !== undefined) throw validationError(`CSV column '${repeated}' is mapped twice`, [{ field: 'data.columnMapping', message: `'${repeated}' is mapped twice` }]);
  return {
    [leadField(naming[0]!.targetColumnId)!]: naming[0]!.csvHeader,
    columns: Object.fromEntries(columns.map((m) => [m.csvHeader, m.targetColumnId])),
    mergeStrategy: input.mergeStrategy,
  };
}

/** POST /lists/{listId}/import-jobs: a CSV given whole, or a platform's people, imported by the importers of /import-jobs. */
export async function createListImport(ctx: AppContext, teamId: string, listId: string, input: ListImportInput): Promise<ListImportJob> {
  const job =
    input.type === 'csv'
      ? await createCsvImport(
          ctx,
          teamId,
          { listId, mapping: csvMappingOf(input), fileName: input.fileName },
          (async function* () {
            yield Buffer.from(input.content, 'utf8');
          })(),
        )
      : await createAudienceImport(ctx, teamId, listId, input);
  return getListImportJob(ctx, teamId, listId, job.id);
}

/** Cancels a queued or running import of this list (a job of another list is not found here). */
export async function cancelListImportJob(ctx: AppContext, teamId: string, listId: string, jobId: string): Promise<ListImportJob> {
  await getListRow(ctx.db, teamId, listId);
  await getListImportJob(ctx, teamId, listId, jobId);
  await cancelImportJob(ctx, teamId, jobId);
  return getListImportJob(ctx, teamId, listId, jobId);
}
