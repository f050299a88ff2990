import { expect, it } from 'vitest';
import { enqueueJob, JobRunner } from '../src/app/workers/jobs.js';
import { AppError } from '../src/core/errors.js';
import { newId } from '../src/core/ids.js';
import { newTeam, testContext } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';

/** A kind of job of this test alone, so no other file's runner takes it. */
const KIND = `test-failing-${newId()}`;

it('fails a job for good after its attempts, running the kind’s give-up handler once, in that transaction', async () => {
  const clock = new TestClock();
  const ctx = await testContext({ clock });
  const team = await newTeam();
  const given: string[] = [];
  let runs = 0;
  const runner = new JobRunner(ctx, { maxAttempts: 2 }).register(
    KIND,
    async () => {
      runs++;
      throw new Error('the platform is down');
    },
    async (trx, job) => {
      given.push(job.subjectId);
      const row = await trx.selectFrom('jobs').select('status').where('id', '=', job.id).executeTakeFirstOrThrow();
      expect(row.status).toBe('failed');
    },
  );
  const job = await enqueueJob(ctx.db, { teamId: team.teamId, kind: KIND, subjectId: 'subject1', payload: {} }, clock.now());

  await runner.runOnce(job.id);
  const retrying = await ctx.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
  expect(retrying).toMatchObject({ status: 'running', attempts: 1, last_error: 'the platform is down' });
  expect(given).toEqual([]);

  clock.advance(60_000);
  await runner.runOnce(job.id);
  expect(runs).toBe(2);
  expect(await ctx.db.selectFrom('jobs').select(['status', 'attempts']).where('id', '=', job.id).executeTakeFirstOrThrow()).toEqual({
    status: 'failed',
    attempts: 2,
  });
  expect(given).toEqual(['subject1']);
});

it('gives up at once on a client error', async () => {
  const ctx = await testContext();
  const team = await newTeam();
  const given: string[] = [];
  const runner = new JobRunner(ctx).register(
    KIND,
    async () => {
      throw new AppError(400, 'VALIDATION_ERROR', 'the list is gone');
    },
    async (_trx, job) => void given.push(job.id),
  );
  const job = await enqueueJob(ctx.db, { teamId: team.teamId, kind: KIND, subjectId: 'subject2', payload: {} }, new Date());
  await runner.runOnce(job.id);
  expect(given).toEqual([job.id]);
});
