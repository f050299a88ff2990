import cliProgress from 'cli-progress';
import fs from 'node:fs';
import { createJobRunner } from '../app/workers/background-jobs.js';
import type { AppContext } from '../app/context.js';
import { createCsvImport, getImportJob, type ImportJob, type ImportMapping } from '../app/lists/imports.js';
import { AppError, validationError } from '../core/errors.js';

export interface ImportOptions {
  list: string;
  map: string[];
  idColumn?: string;
  usernameColumn?: string;
}

/** `--map csvColumn=columnId` options as a mapping; the CSV column name may itself contain '='. */
function mappingOf(options: ImportOptions): ImportMapping {
  const columns: Record<string, string> = {};
  for (const pair of options.map) {
    const at = pair.lastIndexOf('=');
    if (at <= 0 || at === pair.length - 1) throw validationError(`--map takes csvColumn=columnId, not '${pair}'`);
    columns[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if ((options.idColumn === undefined) === (options.usernameColumn === undefined)) {
    throw validationError('Give one of --id-column and --username-column');
  }
  return { idColumn: options.idColumn, usernameColumn: options.usernameColumn, columns };
}

/**
 * `inbox import`: the same use cases as POST /import-jobs, called directly. The file is stored and
 * counted, then this process runs the job itself a batch at a time, reporting progress after each.
 */
async function importCsvFile(
  ctx: AppContext,
  teamId: string,
  file: string,
  options: ImportOptions,
  onProgress: (job: ImportJob) => void,
): Promise<ImportJob> {
  const mapping = mappingOf(options);
  let job = await createCsvImport(ctx, teamId, { listId: options.list, mapping }, fs.createReadStream(file));
  onProgress(job);
  const runner = createJobRunner(ctx, { batchesPerTurn: 1 });
  while (job.status === 'queued' || job.status === 'running') {
    // Another worker sharing the store may hold the job for a while: then wait for it.
    if ((await runner.runOnce(job.id)) === 0) await new Promise((resolve) => setTimeout(resolve, 500));
    job = await getImportJob(ctx, teamId, job.id);
    onProgress(job);
  }
  return job;
}

/** `inbox import FILE ...`: runs the import with a progress bar on stderr, then prints the outcome. */
export async function importCommand(ctx: AppContext, teamId: string, file: string, options: ImportOptions): Promise<void> {
  const bar = new cliProgress.SingleBar(
    // Off a terminal (a log, a pipe) it still reports, a line at a time.
    { stream: process.stderr, noTTYOutput: true, notTTYSchedule: 1_000, format: 'importing [{bar}] {percentage}% | {value}/{total} rows | added {added} skipped {skipped} failed {failed}' },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const job = await importCsvFile(ctx, teamId, file, options, (progress) => {
    const counts = { added: progress.added, skipped: progress.skipped, failed: progress.failed };
    if (started) bar.update(progress.processed, counts);
    // A CSV import knows its total (its rows) from the start.
    else bar.start(progress.total ?? progress.processed, progress.processed, counts);
    started = true;
  }).finally(() => bar.stop());
  for (const e of job.errors) process.stderr.write(`row ${e.row}: ${e.reason}\n`);
  if (job.failed > job.errors.length) process.stderr.write(`... and ${job.failed - job.errors.length} more failed rows\n`);
  // stdout: one line for scripts.
  process.stdout.write(`${job.id}\t${job.status}\tadded ${job.added}\tskipped ${job.skipped}\tfailed ${job.failed}\n`);
  if (job.status !== 'completed') throw new AppError(500, 'IMPORT_NOT_COMPLETED', `The import ended ${job.status}`);
}
