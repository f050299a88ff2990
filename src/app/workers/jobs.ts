import { AppError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Db } from '../../store/db.js';
import type { JobRow } from '../../store/schema-campaigns.js';
import type { AppContext } from '../context.js';
import { PollingLoop } from '../../lib/polling-loop.js';

/**
 * Background work as rows of `jobs`: enqueued in the transaction that asks for the work, claimed by
 * any process with FOR UPDATE SKIP LOCKED and a lease (locked_until), done in batches that each commit
 * their progress (the payload is the checkpoint), so a job whose process dies resumes where it stopped.
 */

export type Payload = Record<string, unknown>;

export interface JobInput {
  teamId: string;
  kind: string;
  subjectId: string;
  payload: Payload;
  /** not before this time (default: now) */
  runAfter?: Date;
}

export async function enqueueJob(trx: Db, input: JobInput, now: Date): Promise<JobRow> {
  return trx
    .insertInto('jobs')
    .values({
      id: newId(),
      team_id: input.teamId,
      kind: input.kind,
      subject_id: input.subjectId,
      payload: JSON.stringify(input.payload),
      run_after: input.runAfter ?? now,
      last_error: null,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A claimed job, as its handler sees it. */
export interface RunningJob {
  readonly id: string;
  readonly teamId: string;
  readonly subjectId: string;
  /** its row as this turn claimed it: what stays while it runs (its kind, its times), read once for every batch */
  readonly claimed: JobRow;
  /** the checkpoint the last batch saved (the enqueued payload before the first) */
  readonly payload: Payload;
  /**
   * Runs one batch of work in its own transaction and saves the payload it returns, in the same
   * commit, as the new checkpoint. Resolves false, without running the work, when the job must stop
   * here: it was canceled, its lease was lost, or its turn is over (it resumes later from the checkpoint).
   */
  batch(work: (trx: Db) => Promise<Payload>): Promise<boolean>;
}

/**
 * Thrown by a handler that cannot go on before `until` (a platform's rate limit): the job waits until then and
 * resumes from its checkpoint. Not a failure: it uses up no attempt.
 */
export class JobDeferred extends Error {
  constructor(
    readonly until: Date,
    reason: string,
  ) {
    super(reason);
    this.name = 'JobDeferred';
  }
}

/** Does a job's work through job.batch() and returns when it is done (or when batch() says stop). */
export type JobHandler = (ctx: AppContext, job: RunningJob) => Promise<void>;

/** Undoes what a job's subject shows while the job runs, in the transaction that fails the job for good. */
export type GiveUpHandler = (trx: Db, job: RunningJob) => Promise<void>;

export interface JobRunnerOptions {
  /** jobs run at once by this runner */
  concurrency?: number;
  pollIntervalMs?: number;
  /** how long a claim (renewed by each batch) keeps other runners away */
  leaseMs?: number;
  /** batches a job may run before it makes way for other due jobs */
  batchesPerTurn?: number;
  /** failed attempts before a job is failed for good */
  maxAttempts?: number;
}

const RETRY_BASE_MS = 5_000;

/**
 * Runs due jobs of the kinds registered on it. Any number of runners, in any number of processes,
 * can share one store; no transaction stays open while a handler works between batches.
 */
export class JobRunner {
  readonly #ctx: AppContext;
  readonly #handlers = new Map<string, JobHandler>();
  readonly #giveUpHandlers = new Map<string, GiveUpHandler>();
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #batchesPerTurn: number;
  readonly #maxAttempts: number;
  readonly #loop: PollingLoop;

  constructor(ctx: AppContext, options: JobRunnerOptions = {}) {
    this.#ctx = ctx;
    this.#concurrency = options.concurrency ?? 2;
    this.#leaseMs = options.leaseMs ?? 300_000;
    this.#batchesPerTurn = options.batchesPerTurn ?? 50;
    this.#maxAttempts = options.maxAttempts ?? 5;
    const onError = (error: unknown) => ctx.logger.error({ err: error }, 'job runner failed');
    this.#loop = new PollingLoop(async () => (await this.runOnce()) > 0, options.pollIntervalMs ?? 1_000, onError);
  }

  /** Adds the handler of a kind of job; other modules register theirs the same way. */
  register(kind: string, handler: JobHandler, onGiveUp?: GiveUpHandler): this {
    this.#handlers.set(kind, handler);
    if (onGiveUp) this.#giveUpHandlers.set(kind, onGiveUp);
    return this;
  }

  start(): void {
    this.#loop.start();
  }

  /** Stops claiming; running jobs stop at their next batch and are released for any runner to resume. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /** Claims the jobs due now (or just this one) and gives each one turn; resolves with how many ran. */
  async runOnce(jobId?: string): Promise<number> {
    const claimed = await this.#claim(jobId);
    await Promise.all(claimed.map((row) => this.#runTurn(row)));
    return claimed.length;
  }

  async #claim(jobId?: string): Promise<JobRow[]> {
    const kinds = [...this.#handlers.keys()];
    if (kinds.length === 0) return [];
    const now = this.#ctx.clock.now();
    return this.#ctx.db.transaction().execute(async (trx) => {
      let query = trx.selectFrom('jobs');
      if (jobId) query = query.where('id', '=', jobId);
      const due = await query
        .select('id')
        .where('status', 'in', ['queued', 'running'])
        .where('run_after', '<=', now)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
        .where('kind', 'in', kinds)
        .orderBy('run_after')
        .limit(this.#concurrency)
        .forUpdate()
        .skipLocked()
        .execute();
      if (due.length === 0) return [];
      return trx
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running',
          locked_until: new Date(now.getTime() + this.#leaseMs),
          started_at: eb.fn.coalesce('started_at', eb.val(now)),
        }))
        .where('id', 'in', due.map((d) => d.id))
        .returningAll()
        .execute();
    });
  }

  /** Runs a claimed job until it finishes, fails, is canceled or has used its turn. */
  async #runTurn(row: JobRow): Promise<void> {
    const ctx = this.#ctx;
    // The lease we hold: every write about the job is fenced by it, so a runner that lost the job
    // (its lease expired and another claimed it) changes nothing.
    let lease = row.locked_until!;
    let stop: 'turn' | 'lost' | undefined;
    let batches = 0;
    const job: RunningJob = {
      id: row.id,
      teamId: row.team_id,
      subjectId: row.subject_id,
      claimed: row,
      payload: row.payload,
      batch: async (work) => {
        if (this.#loop.stopping || batches >= this.#batchesPerTurn) {
          stop = 'turn';
          return false;
        }
        return ctx.db.transaction().execute(async (trx) => {
          const current = await trx.selectFrom('jobs').select(['status', 'locked_until']).where('id', '=', row.id).forUpdate().executeTakeFirst();
          if (current?.status !== 'running' || current.locked_until?.getTime() !== lease.getTime()) {
            stop = 'lost';
            return false;
          }
          const payload = await work(trx);
          const renewed = new Date(ctx.clock.now().getTime() + this.#leaseMs);
          await trx.updateTable('jobs').set({ payload: JSON.stringify(payload), locked_until: renewed }).where('id', '=', row.id).execute();
          lease = renewed;
          (job as { payload: Payload }).payload = payload;
          batches++;
          return true;
        });
      },
    };
    const fenced = (db: Db = ctx.db) => db.updateTable('jobs').where('id', '=', row.id).where('status', '=', 'running').where('locked_until', '=', lease);
    try {
      await this.#handlers.get(row.kind)!(ctx, job);
      if (stop === 'lost') return;
      const now = ctx.clock.now();
      await (stop === 'turn'
        ? fenced().set({ locked_until: null, run_after: now })
        : fenced().set({ status: 'completed', completed_at: now, locked_until: null })
      ).execute();
    } catch (error) {
      if (error instanceof JobDeferred) {
        await fenced().set({ locked_until: null, run_after: error.until }).execute();
        return;
      }
      const now = ctx.clock.now();
      const attempts = row.attempts + 1;
      // A client error (a deleted list, a bad mapping) will not go away by retrying.
      const permanent = attempts >= this.#maxAttempts || (error instanceof AppError && error.status < 500);
      ctx.logger.warn({ err: error, jobId: row.id, kind: row.kind, attempts, permanent }, 'job failed');
      const message = error instanceof Error ? error.message : String(error);
      if (!permanent) {
        await fenced()
          .set({ locked_until: null, run_after: new Date(now.getTime() + RETRY_BASE_MS * 2 ** attempts), attempts, last_error: message })
          .execute();
        return;
      }
      await ctx.db.transaction().execute(async (trx) => {
        const failed = await fenced(trx).set({ status: 'failed', completed_at: now, locked_until: null, attempts, last_error: message }).executeTakeFirst();
        if (failed.numUpdatedRows > 0n) await this.#giveUpHandlers.get(row.kind)?.(trx, job);
      });
    }
  }
}
