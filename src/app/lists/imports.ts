import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { checkColumnValue, type ColumnValue } from '../../core/column-values.js';
import { AppError, conflict, validationError } from '../../core/errors.js';
import { hasNul } from '../../core/nul-characters.js';
import { iso, isoOrNull } from '../../core/time.js';
import { letRepliesIn, othersFirst, type Db } from '../../store/db.js';
import { runningMeanwhile } from '../../store/bulk.js';
import type { ColumnDataType, JobRow, JobStatus } from '../../store/schema-campaigns.js';
import type { AppContext } from '../context.js';
import { csvEntries, type CsvEntry } from './csv-records.js';
import { emitEvents, type NewEvent } from '../events/events.js';
import { enqueueJob, type JobHandler, type Payload, type RunningJob } from '../workers/jobs.js';
import { resolveLeads, teamPlatform, type LeadRef, type LeadResolution } from '../leads/resolution.js';
import { listColumnTypes, writeListLeads, type MergeStrategy } from './leads.js';
import { getUserListRow } from './lists.js';
import { keysetPage } from '../../store/keyset.js';
import { rowOr404 } from '../rows.js';

/**
 * Imports into a list: what every importer shares (the job, its counts, its presentation, cancelling, writing a
 * batch of leads), and the CSV importer. The CSV upload is streamed into import_chunks while it is counted (so
 * the job knows its total) and its header checked against the mapping; a job then parses the stored bytes as a
 * stream, a batch of rows per transaction, and checkpoints the byte offset after its last row. Neither side ever
 * holds the file in memory. The importers of a platform's people (followers, likers) are in audience-imports.ts.
 */
export const CSV_IMPORT = 'csv-import';
export const FOLLOWERS_IMPORT = 'followers-import';
export const LIKES_IMPORT = 'likes-import';

/** Where an import's leads come from: a CSV file, an account's followers, or the people who liked a post. */
export type ImporterType = 'csv' | 'followers' | 'likes';
const KIND_OF_TYPE: Record<ImporterType, string> = { csv: CSV_IMPORT, followers: FOLLOWERS_IMPORT, likes: LIKES_IMPORT };
const IMPORT_KINDS = Object.values(KIND_OF_TYPE);
const typeOfKind = (kind: string) => (Object.keys(KIND_OF_TYPE) as ImporterType[]).find((type) => KIND_OF_TYPE[type] === kind)!;

const CHUNK_BYTES = 1 << 20;
const BATCH_ROWS = 1_000;
/**
 * Rows parsed before letting replies in (letRepliesIn). The parser runs on microtasks, which would hold the thread
 * until a whole batch is parsed; the batch being written meanwhile needs it between its statements.
 */
const ROWS_A_TURN = 100;
export const MAX_REPORTED_ERRORS = 100;
/** A lead row has no business being larger; this bounds what an unclosed quote can make the parser hold. */
const MAX_RECORD_BYTES = 64 * 1024;
/** An upload still unfinished by then was abandoned: its job runs, finds no complete file and fails. */
const UPLOAD_DEADLINE_MS = 6 * 3_600_000;

export interface ImportMapping {
  /** the CSV column (by header name) holding X user ids, or else the one holding usernames */
  idColumn?: string;
  usernameColumn?: string;
  /** CSV column (header name) → list column id */
  columns: Record<string, string>;
  /** what a row does to a lead already in the list ('skip' unless told) */
  mergeStrategy?: MergeStrategy;
}

export interface RowError {
  row: number;
  reason: string;
}

/** An import's progress: kept in its job's payload, shown in its API object. */
export interface ImportCounts {
  /** what there is to import, when known (a CSV's rows; an account's follower count); what was, once done */
  total: number | null;
  processed: number;
  added: number;
  skipped: number;
  failed: number;
  errors: RowError[];
  /** when its last batch was written */
  updatedAt?: string;
}

/** The counts of an import that has not started. */
export const NO_COUNTS = { processed: 0, added: 0, skipped: 0, failed: 0, errors: [] };

interface CsvPayload extends Payload, ImportCounts {
  mapping: ImportMapping;
  fileName: string | null;
  uploaded: boolean;
  header: string[];
  /** where the next unprocessed row starts in the stored file */
  byte: number;
}

export interface ImportJob extends ImportCounts {
  id: string;
  type: ImporterType;
  listId: string;
  status: JobStatus;
  /** the uploaded file's name (CSV imports that gave one) */
  fileName: string | null;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  completedAt: string | null;
}

const latest = (...times: Array<Date | null>) => new Date(Math.max(...times.map((t) => t?.getTime() ?? 0)));

export function presentImportJob(row: JobRow): ImportJob {
  const p = row.payload as Payload & ImportCounts & { fileName?: string | null };
  return {
    id: row.id,
    type: typeOfKind(row.kind),
    listId: row.subject_id,
    status: row.status,
    total: p.total,
    processed: p.processed,
    added: p.added,
    skipped: p.skipped,
    failed: p.failed,
    errors: p.errors,
    fileName: p.fileName ?? null,
    createdAt: iso(row.created_at),
    startedAt: isoOrNull(row.started_at),
    updatedAt: iso(latest(row.created_at, row.started_at, row.completed_at, p.updatedAt ? new Date(p.updatedAt) : null)),
    completedAt: isoOrNull(row.completed_at),
  };
}

/** importJob.updated, in the transaction that changed the job: what feeds an import's progress bar. */
const progressEvent = (row: JobRow): NewEvent => ({ type: 'importJob.updated', data: { importJob: presentImportJob(row) } });

/** Emits importJob.updated (see progressEvent). */
export async function emitProgress(trx: Db, row: JobRow, now: Date): Promise<ImportJob> {
  const event = progressEvent(row);
  await emitEvents(trx, row.team_id, [event], now);
  return event.data.importJob as ImportJob;
}

/** Deletes a job's stored upload: once it is imported, canceled, or given up on. */
export async function dropUpload(trx: Db, job: { id: string }): Promise<void> {
  await trx.deleteFrom('import_chunks').where('job_id', '=', job.id).execute();
}

/** The stored upload from byte `from` on, a chunk at a time. */
async function* storedBytes(db: Db, jobId: string, from: number): AsyncGenerator<Buffer> {
  const chunks = db.selectFrom('import_chunks').selectAll().where('job_id', '=', jobId);
  let chunk = await chunks.where('start_byte', '<=', from).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  let offset = chunk ? from - chunk.start_byte : 0;
  while (chunk) {
    yield Buffer.from(chunk.data.buffer, chunk.data.byteOffset + offset, chunk.data.byteLength - offset);
    offset = 0;
    chunk = await chunks.where('seq', '=', chunk.seq + 1).executeTakeFirst();
  }
}

function headerIndex(header: string[], name: string): number {
  return header.findIndex((h) => h.trim() === name.trim());
}

/** Throws 400 unless every CSV column the mapping names is in the header (which the job keeps, so it must be storable). */
function checkHeader(header: string[], mapping: ImportMapping): void {
  if (header.some(hasNul)) throw validationError('The CSV header contains the NUL character (U+0000)');
  const named = [mapping.idColumn ?? mapping.usernameColumn!, ...Object.keys(mapping.columns)];
  const missing = named.filter((name) => headerIndex(header, name) < 0);
  if (missing.length > 0) {
    throw validationError(`The CSV header has no column ${missing.map((m) => `'${m}'`).join(', ')} (it has ${header.map((h) => `'${h}'`).join(', ')})`, [
      { field: 'mapping', message: `unknown CSV columns: ${missing.join(', ')}` },
    ]);
  }
}

/** Checks the mapping against the list: a user list, and list column ids that are its own. */
async function checkMapping(db: Db, teamId: string, listId: string, mapping: ImportMapping): Promise<void> {
  await getUserListRow(db, teamId, listId);
  if ((mapping.idColumn === undefined) === (mapping.usernameColumn === undefined)) {
    throw validationError('Give exactly one of idColumn and usernameColumn', [{ field: 'idColumn', message: 'exactly one of idColumn and usernameColumn' }]);
  }
  const columns = await listColumnTypes(db, listId);
  const unknown = Object.values(mapping.columns).filter((id) => !columns.has(id));
  if (unknown.length > 0) {
    throw validationError(`Not columns of list '${listId}': ${unknown.join(', ')}`, unknown.map((id) => ({ field: `columns.${id}`, message: 'is not a column of this list' })));
  }
}

/**
 * Stores an upload as it streams in, counting its rows and checking its header on the way. Resolves
 * with the header, the row count and where the first data row starts.
 */
async function storeUpload(db: Db, jobId: string, source: AsyncIterable<Uint8Array>, mapping: ImportMapping, maxBytes: number) {
  const tee = new PassThrough();
  const counted = (async () => {
    let header: string[] | undefined;
    let start = 0;
    let total = 0;
    for await (const entry of csvEntries(tee, MAX_RECORD_BYTES)) {
      if (header) total++;
      else if ('error' in entry) throw validationError(`The CSV header cannot be read: ${entry.error}`);
      else if (entry.notUtf8.length > 0) {
        throw validationError('The CSV header is not valid UTF-8', entry.notUtf8.map((at) => ({ field: `header.${at + 1}`, message: 'is not valid UTF-8' })));
      } else {
        header = entry.fields;
        start = entry.end;
        checkHeader(header, mapping);
      }
    }
    if (!header) throw validationError('The CSV file is empty: it needs a header row');
    return { header, total, start };
  })();
  counted.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled meanwhile

  let seq = 0;
  let stored = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    await db.insertInto('import_chunks').values({ job_id: jobId, seq: seq++, start_byte: stored, data: Buffer.concat(pending) }).execute();
    stored += pendingBytes;
    pending = [];
    pendingBytes = 0;
  };
  try {
    for await (const piece of source) {
      const bytes = Buffer.from(piece);
      if (stored + pendingBytes + bytes.length > maxBytes) throw new AppError(413, 'PAYLOAD_TOO_LARGE', `The CSV file is larger than ${maxBytes} bytes`);
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pendingBytes >= CHUNK_BYTES) await flush();
      // The counter is the slower reader: wait for it (or for its verdict on the header).
      if (!tee.write(bytes)) await Promise.race([once(tee, 'drain'), counted]);
    }
    await flush();
    tee.end();
    return await counted;
  } finally {
    tee.destroy();
  }
}

/**
 * POST /import-jobs: stores the CSV and queues its import. Nothing is left behind when the upload or
 * its checks fail.
 */
export async function createCsvImport(
  ctx: AppContext,
  teamId: string,
  input: { listId: string; mapping: ImportMapping; fileName?: string },
  source: AsyncIterable<Uint8Array>,
): Promise<ImportJob> {
  const { listId, mapping } = input;
  await checkMapping(ctx.db, teamId, listId, mapping);
  const now = ctx.clock.now();
  const payload: CsvPayload = { mapping, fileName: input.fileName ?? null, uploaded: false, header: [], total: 0, ...NO_COUNTS, byte: 0 };
  const job = await enqueueJob(ctx.db, { teamId, kind: CSV_IMPORT, subjectId: listId, payload, runAfter: new Date(now.getTime() + UPLOAD_DEADLINE_MS) }, now);
  try {
    const { header, total, start } = await storeUpload(ctx.db, job.id, source, mapping, ctx.config.importLimitBytes);
    return await ctx.db.transaction().execute(async (trx) => {
      const ready = await trx
        .updateTable('jobs')
        .set({ payload: JSON.stringify({ ...payload, uploaded: true, header, total, byte: start }), run_after: ctx.clock.now() })
        .where('id', '=', job.id)
        .where('status', '=', 'queued')
        .returningAll()
        .executeTakeFirst();
      if (!ready) throw conflict('The import was canceled while its file was uploading');
      return emitProgress(trx, ready, ctx.clock.now());
    });
  } catch (error) {
    await ctx.db.deleteFrom('jobs').where('id', '=', job.id).execute();
    throw error;
  }
}

/**
 * A row as a lead to add, or the reason it cannot be one. A mapped cell whose value does not fit its column (a
 * website that is no URL) is left out and said so in `rejectedCells`: it is optional, the lead is not.
 */
function leadOf(
  { fields, notUtf8 }: { fields: string[]; notUtf8: number[] },
  id: { name: string; index: number; by: LeadRef['by'] },
  mapped: ReadonlyArray<{ name: string; index: number; type: ColumnDataType | undefined; columnId: string }>,
): { ref: LeadRef; data: Record<string, ColumnValue>; rejectedCells: string[] } | { reason: string } {
  const by = id.by;
  const notText = [id, ...mapped].find((column) => notUtf8.includes(column.index));
  if (notText) return { reason: `column '${notText.name}' is not valid UTF-8` };
  const value = (fields[id.index] ?? '').trim().replace(by === 'username' ? /^@/ : /^$/, '');
  if (hasNul(value) || mapped.some((m) => hasNul(fields[m.index] ?? ''))) return { reason: 'contains the NUL character (U+0000)' };
  if (value === '') return { reason: by === 'username' ? 'missing username' : 'missing X user id' };
  const data: Record<string, ColumnValue> = {};
  const rejectedCells: string[] = [];
  for (const m of mapped) {
    const value = (fields[m.index] ?? '').trim();
    // An empty cell means no value; a column deleted since the upload is ignored.
    if (value === '' || !m.type) continue;
    const checked = checkColumnValue(m.type, value);
    if (checked.ok) data[m.columnId] = checked.value;
    else rejectedCells.push(`column '${m.name}' ${checked.reason}: the cell was left out, the lead imported`);
  }
  return { ref: { by, value }, data, rejectedCells };
}

/** A lead an import batch adds: where it was in the source (1 = the first), who, and its column values. */
export interface ImportLead {
  row: number;
  ref: LeadRef;
  data: Record<string, ColumnValue>;
}

/** One batch of an import, read from its source and resolved, not yet written. */
export interface ImportBatch {
  /** the entries the batch read (rows, followers) */
  read: number;
  leads: ImportLead[];
  resolution: LeadResolution;
  /** entries that failed before resolution (counted) */
  errors: RowError[];
  /** reported beside the errors, not counted: cells left out of rows that were imported */
  notes: RowError[];
}

const unresolved = (ref: LeadRef) => `${ref.by === 'username' ? 'username' : 'X user id'} '${ref.value}' could not be resolved (unknown, suspended or deactivated)`;

/**
 * Writes a batch of an import into its list, in the job's batch transaction, and returns the job's payload after
 * it: the counts, the errors (the first MAX_REPORTED_ERRORS), and `checkpoint`, where the next batch starts. The
 * last batch makes the total what was read, and reports the job completed: the runner marks it so once this
 * commits, with nothing left to fail. Its progress event goes out with its new prospects' events, in one insert.
 */
export async function writeImportBatch<P extends Payload & ImportCounts>(
  ctx: AppContext,
  job: RunningJob,
  trx: Db,
  state: P,
  batch: ImportBatch,
  options: { merge: MergeStrategy; checkpoint: Partial<P>; last: boolean },
): Promise<P> {
  const now = ctx.clock.now();
  const events: NewEvent[] = [];
  const outcomes = await writeListLeads(trx, job.teamId, job.subjectId, batch.resolution, batch.leads.map((l) => l.data), now, { merge: options.merge, events });
  const errors = [...batch.errors];
  outcomes.forEach((o, i) => o === 'failed' && errors.push({ row: batch.leads[i]!.row, reason: unresolved(batch.leads[i]!.ref) }));
  const reported = [...errors, ...batch.notes].sort((a, b) => a.row - b.row);
  const count = (o: string) => outcomes.filter((x) => x === o).length;
  const processed = state.processed + batch.read;
  const next: P = {
    ...state,
    ...options.checkpoint,
    processed,
    added: state.added + count('added'),
    skipped: state.skipped + count('skipped'),
    failed: state.failed + errors.length,
    errors: [...state.errors, ...reported].slice(0, MAX_REPORTED_ERRORS),
    updatedAt: iso(now),
    ...(options.last && { total: processed }),
  };
  events.push(progressEvent({ ...job.claimed, payload: next, ...(options.last && { status: 'completed', completed_at: now }) }));
  await emitEvents(trx, job.teamId, events, now);
  return next;
}

/**
 * Runs a CSV import from its checkpoint: a transaction per batch of rows, until done or told to stop. Each batch is
 * read and resolved (the parse, the platform's lookups, the reads of known prospects) while the one before it is
 * written, and waits for the store to give the requests that came meanwhile their turn (othersFirst) before its
 * transaction takes the embedded store's one connection.
 */
export const runCsvImport: JobHandler = async (ctx, job) => {
  let state = job.payload as CsvPayload;
  if (!state.uploaded) throw new AppError(422, 'UPLOAD_INCOMPLETE', 'The CSV upload never completed');
  const { mapping, header } = state;
  const by: LeadRef['by'] = mapping.idColumn !== undefined ? 'platformId' : 'username';
  const idName = mapping.idColumn ?? mapping.usernameColumn!;
  const id = { name: idName, index: headerIndex(header, idName), by };
  const types = await listColumnTypes(ctx.db, job.subjectId);
  const mapped = Object.entries(mapping.columns).map(([name, columnId]) => ({ name, columnId, index: headerIndex(header, name), type: types.get(columnId) }));
  // Read once for the turn's batches: a platform linked meanwhile counts from the next turn.
  const on = await teamPlatform(ctx, job.teamId);

  /** Rows read so far, written or not: the next row's number is one more. */
  let read = state.processed;
  /** A batch's rows as leads, resolved, and where the row after them starts: read-only work. */
  const prepare = async (entries: CsvEntry[], end: number | undefined): Promise<{ batch: ImportBatch; end: number | undefined }> => {
    const first = read;
    read += entries.length;
    const errors: RowError[] = [];
    // Reported beside the rows' errors, but their rows were imported: they are not failures.
    const notes: RowError[] = [];
    const leads: ImportLead[] = [];
    entries.forEach((entry, i) => {
      const row = first + i + 1;
      const lead = 'error' in entry ? { reason: `unreadable row: ${entry.error}` } : leadOf(entry, id, mapped);
      if ('reason' in lead) errors.push({ row, reason: lead.reason });
      else {
        leads.push({ row, ref: lead.ref, data: lead.data });
        for (const reason of lead.rejectedCells) notes.push({ row, reason });
      }
    });
    const resolution = await resolveLeads(ctx, job.teamId, leads.map((l) => l.ref), { on });
    return { batch: { read: entries.length, leads, resolution, errors, notes }, end };
  };

  /** Writes one prepared batch; false when the job must stop (the batch was not written). The last one drops the file. */
  const write = async ({ batch, end }: { batch: ImportBatch; end: number | undefined }, last: boolean): Promise<boolean> => {
    await othersFirst(ctx.db);
    let next = state;
    const ran = await job.batch(async (trx) => {
      if (last) await dropUpload(trx, job);
      next = await writeImportBatch(ctx, job, trx, state, batch, { merge: mapping.mergeStrategy ?? 'skip', checkpoint: { byte: end ?? state.byte }, last });
      return next;
    });
    state = next;
    return ran;
  };

  // Entry ends are relative to where this turn started parsing.
  const base = state.byte;
  let entries: CsvEntry[] = [];
  let end: number | undefined;
  let writing: Promise<boolean> = Promise.resolve(true);
  try {
    for await (const entry of csvEntries(storedBytes(ctx.db, job.id, base), MAX_RECORD_BYTES)) {
      entries.push(entry);
      // Every row's end is a place the next turn can resume reading from.
      end = base + entry.end;
      if (entries.length % ROWS_A_TURN === 0) await letRepliesIn(ctx.db);
      if (entries.length >= BATCH_ROWS) {
        const prepared = await prepare(entries, end);
        entries = [];
        if (!(await writing)) return;
        writing = runningMeanwhile(write(prepared, false));
      }
    }
    const last = await prepare(entries, end);
    if (!(await writing)) return;
    await write(last, true);
  } finally {
    // A failure while a batch is written waits for it: the runner records the failure after its commit.
    await writing.catch(() => {});
  }
};

/** A team's import jobs, of every importer. */
export const importJobs = (db: Db, teamId: string) => db.selectFrom('jobs').selectAll().where('team_id', '=', teamId).where('kind', 'in', IMPORT_KINDS);

async function getImportRow(db: Db, teamId: string, jobId: string, forUpdate = false): Promise<JobRow> {
  let query = importJobs(db, teamId).where('id', '=', jobId);
  if (forUpdate) query = query.forUpdate();
  return rowOr404(query, 'IMPORT_JOB_NOT_FOUND', 'Import job', jobId);
}

export interface ImportJobQuery {
  limit: number;
  cursor?: { id: string; timestamp: Date };
  listId?: string;
}

/** The team's imports, newest first, fetched with limit + 1 rows (see paginate). */
export async function listImportJobs(ctx: AppContext, teamId: string, query: ImportJobQuery): Promise<ImportJob[]> {
  let jobs = importJobs(ctx.db, teamId);
  if (query.listId) jobs = jobs.where('subject_id', '=', query.listId);
  const after = query.cursor && [query.cursor.timestamp, query.cursor.id];
  return (await keysetPage(jobs, ['created_at', 'id'], 'desc', after, query.limit).execute()).map(presentImportJob);
}

export async function getImportJob(ctx: AppContext, teamId: string, jobId: string): Promise<ImportJob> {
  return presentImportJob(await getImportRow(ctx.db, teamId, jobId));
}

/** Cancels a queued or running import; a running one stops before its next batch. Rows already added stay. */
export async function cancelImportJob(ctx: AppContext, teamId: string, jobId: string): Promise<ImportJob> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const row = await getImportRow(trx, teamId, jobId, true);
    if (row.status === 'canceled') return presentImportJob(row);
    if (row.status === 'completed' || row.status === 'failed') throw conflict(`Import job '${jobId}' has already ${row.status === 'completed' ? 'completed' : 'failed'}`);
    const canceled = await trx
      .updateTable('jobs')
      .set({ status: 'canceled', completed_at: now, locked_until: null })
      .where('id', '=', jobId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await dropUpload(trx, { id: jobId });
    return emitProgress(trx, canceled, now);
  });
}
