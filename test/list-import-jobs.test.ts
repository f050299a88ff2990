import { describe, expect, it } from 'vitest';
import { createJobRunner } from '../src/app/workers/background-jobs.js';
import type { AppContext } from '../src/app/context.js';
import type { JobRunnerOptions } from '../src/app/workers/jobs.js';
import { SandboxPlatform } from '../src/platforms/sandbox.js';
import { sandboxFollowerId, sandboxLikerId, seededFollowerCount, seededLikeCount } from '../src/platforms/sandbox-audience.js';
import { newTeam, testContext, type TeamClient } from './helpers/app.js';
import { expectImportJobContract } from './helpers/contract-import-jobs.js';
import { allLeads, fails, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';

/**
 * The vendor's import jobs of a list (POST/GET /lists/{listId}/import-jobs and cancel) on the sandbox platform:
 * CSV given in the body, followers and likers, the seven statuses, the status filter and the cursor. Every
 * answer is checked against the vendor's schemas (test/helpers/contract-import-jobs.ts). X is in
 * list-import-jobs-x.test.ts.
 */

type Job = { id: string; type: string; status: string; totalCount: number | null; processedCount: number; addedCount: number; skippedCount: number; failedCount: number; error: string | null };

/** Runs every due job (of any team) until none is due, as `serve`'s runner would. */
async function runJobs(ctx?: AppContext, options?: JobRunnerOptions): Promise<void> {
  const runner = createJobRunner(ctx ?? (await testContext()), options);
  while ((await runner.runOnce()) > 0);
}

async function create(team: TeamClient, listId: string, data: Record<string, unknown>): Promise<Job> {
  const body = { data };
  expectImportJobContract('CreateImportJobBody', body);
  const job = await ok<Job>(team.request('POST', `/api/v1/lists/${listId}/import-jobs`, body));
  expectImportJobContract('ImportJob', job);
  return job;
}

async function page(team: TeamClient, listId: string, query = ''): Promise<{ data: Job[]; nextCursor: string | null }> {
  const body = await ok(team.request('GET', `/api/v1/lists/${listId}/import-jobs${query}`));
  expectImportJobContract('ImportJobPage', body);
  return body;
}

const jobOf = async (team: TeamClient, listId: string, id: string) => (await page(team, listId, '?limit=100')).data.find((j) => j.id === id)!;

async function listWithColumn(team: TeamClient) {
  const list = await ok<{ id: string }>(team.request('POST', '/api/v1/lists', { name: 'Imported' }));
  const column = await ok<{ id: string }>(team.request('POST', `/api/v1/lists/${list.id}/columns`, { name: 'Company', type: 'text' }));
  return { listId: list.id, company: column.id };
}

describe('CSV import jobs of a list (the vendor routes)', () => {
  it('import a CSV given in the body, by username, with its columns, and merge as asked', async () => {
    const team = await newTeam();
    const { listId, company } = await listWithColumn(team);
    const [a, b] = [randomPlatformId(), randomPlatformId()];
    const columnMapping = [
      { csvHeader: 'handle', targetColumnId: 'username' },
      { csvHeader: 'Company', targetColumnId: company },
    ];
    const first = await create(team, listId, { type: 'csv', content: `handle,Company\n@user${a},Acme\nuser${b},Beta\n,Nobody\n`, fileName: 'leads.csv', columnMapping });
    expect(first).toMatchObject({ type: 'csv', status: 'queued', totalCount: 3, processedCount: 0, addedCount: 0, error: null, completedAt: null });
    await runJobs();
    expect(await jobOf(team, listId, first.id)).toMatchObject({ status: 'completed', totalCount: 3, processedCount: 3, addedCount: 2, skippedCount: 0, failedCount: 1, error: null, completedAt: expect.any(String) });

    // skip (the default) leaves a lead already in the list as it is; overwrite gives it the file's values.
    const skip = await create(team, listId, { type: 'csv', content: `handle,Company\nuser${a},Changed\n`, fileName: 'again.csv', columnMapping });
    await runJobs();
    expect(await jobOf(team, listId, skip.id)).toMatchObject({ status: 'completed', addedCount: 0, skippedCount: 1 });
    const data = async () => new Map((await allLeads(team, listId)).map((l) => [l.prospect.platformId, l.data]));
    expect((await data()).get(a)).toEqual({ [company]: 'Acme' });
    const overwrite = await create(team, listId, { type: 'csv', content: `handle,Company\nuser${a},Changed\nuser${b},\n`, fileName: 'again.csv', columnMapping, mergeStrategy: 'overwrite' });
    await runJobs();
    expect(await jobOf(team, listId, overwrite.id)).toMatchObject({ status: 'completed', addedCount: 0, skippedCount: 2 });
    // An empty cell is no value: it changes nothing.
    expect(await data()).toEqual(new Map([[a, { [company]: 'Changed' }], [b, { [company]: 'Beta' }]]));

    // The jobs are our /import-jobs too: one store, two presentations.
    const ours = await ok(team.request('GET', `/api/v1/import-jobs/${first.id}`));
    expect(ours).toMatchObject({ id: first.id, type: 'csv', listId, status: 'completed', total: 3, added: 2, fileName: 'leads.csv' });
  });

  it('refuse a mapping, a body or a list they cannot take with 400 or 404 in the v1 envelope', async () => {
    const team = await newTeam();
    const { listId, company } = await listWithColumn(team);
    const csv = { type: 'csv', content: 'handle,Company\nuser1,Acme\n', fileName: 'x.csv' };
    const refused = [
      { data: { ...csv, columnMapping: [{ csvHeader: 'Company', targetColumnId: company }] } },
      { data: { ...csv, columnMapping: [{ csvHeader: 'handle', targetColumnId: 'username' }, { csvHeader: 'Company', targetColumnId: 'platformId' }] } },
      { data: { ...csv, columnMapping: [{ csvHeader: 'handle', targetColumnId: 'username' }, { csvHeader: 'Missing', targetColumnId: company }] } },
      { data: { ...csv, columnMapping: [{ csvHeader: 'handle', targetColumnId: 'username' }, { csvHeader: 'Company', targetColumnId: 'custom_notacolumn' }] } },
      { data: { ...csv, columnMapping: [{ csvHeader: 'handle', targetColumnId: 'nonsense' }] } },
      { data: { ...csv, content: '', columnMapping: [{ csvHeader: 'handle', targetColumnId: 'username' }] } },
      { data: { ...csv, columnMapping: [{ csvHeader: 'handle', targetColumnId: 'username' }], mergeStrategy: 'replace' } },
      { data: { type: 'followers' } },
      { data: { type: 'followers', username: 'a', platformId: '1' } },
      { data: { type: 'followers', username: 'nobody_at_all_here' } },
      { data: { type: 'likes', postUrl: 'https://example.com/nope' } },
      { data: { type: 'likes' } },
      { data: { type: 'comments', postId: '1' } },
      { data: 'csv' },
      {},
    ];
    for (const body of refused) await fails(team.request('POST', `/api/v1/lists/${listId}/import-jobs`, body), 400, 'VALIDATION_ERROR');
    await fails(team.request('POST', `/api/v1/lists/nosuchlist/import-jobs`, { data: { type: 'likes', postId: '1' } }), 404, 'LIST_NOT_FOUND');
    await fails(team.request('GET', `/api/v1/lists/${listId}/import-jobs?status=done`), 400, 'VALIDATION_ERROR');
    await fails(team.request('GET', `/api/v1/lists/${listId}/import-jobs?cursor=notacursor`), 400, 'VALIDATION_ERROR');
    await fails(team.request('GET', `/api/v1/lists/${listId}/import-jobs?limit=101`), 400, 'VALIDATION_ERROR');
    expect((await page(team, listId)).data).toEqual([]);
    // Another team's list is a missing one.
    const other = await newTeam();
    await fails(other.request('GET', `/api/v1/lists/${listId}/import-jobs`), 404, 'LIST_NOT_FOUND');
  });
});

describe('followers and likes import jobs on the sandbox', () => {
  it("import an account's followers, a page at a time, its suspended ones failing", async () => {
    const team = await newTeam();
    const { listId } = await listWithColumn(team);
    const star = randomPlatformId();
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${star}`, { followerCount: 230 }));
    const suspended = sandboxFollowerId(star, 117);
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${suspended}`, { accountStatus: 'suspended' }));

    const job = await create(team, listId, { type: 'followers', username: `@user${star}` });
    expect(job).toMatchObject({ type: 'followers', status: 'queued', totalCount: 230, processedCount: 0 });
    // One batch per page of 100: after a turn of one, the job is under way.
    await runJobs(await testContext(), { batchesPerTurn: 1 });
    expect(await jobOf(team, listId, job.id)).toMatchObject({ status: 'completed', processedCount: 230, addedCount: 229, skippedCount: 0, failedCount: 1 });
    const leads = await allLeads(team, listId);
    const expected = Array.from({ length: 230 }, (_, i) => sandboxFollowerId(star, i)).filter((id) => id !== suspended);
    expect(new Set(leads.map((l) => l.prospect.platformId))).toEqual(new Set(expected));
    const ours = await ok(team.request('GET', `/api/v1/import-jobs/${job.id}`));
    expect(ours.errors).toEqual([{ row: 118, reason: `X user id '${suspended}' could not be resolved (unknown, suspended or deactivated)` }]);

    // Importing them again adds nothing; a user without overrides has its seeded followers, as many as its profile says.
    const again = await create(team, listId, { type: 'followers', platformId: star });
    await runJobs();
    expect(await jobOf(team, listId, again.id)).toMatchObject({ status: 'completed', addedCount: 0, skippedCount: 229, failedCount: 1 });
    const plain = randomPlatformId();
    const { db } = await sharedStore();
    expect((await new SandboxPlatform(db, { now: () => new Date() }).profileById(plain))?.followerCount).toBe(seededFollowerCount(plain));
    const seeded = await create(team, listId, { type: 'followers', username: `user${plain}` });
    await runJobs();
    expect(await jobOf(team, listId, seeded.id)).toMatchObject({ status: 'completed', totalCount: seededFollowerCount(plain), processedCount: seededFollowerCount(plain) });
  });

  it("import a post's likers: the sandbox's own likes of it, then its seeded likers", async () => {
    const team = await newTeam();
    const { listId } = await listWithColumn(team);
    const author = randomPlatformId();
    const account = await linkAccount(team);
    const { db } = await sharedStore();
    await new SandboxPlatform(db, { now: () => new Date() }).likeLatestPost({ accountLinkId: account.id, platformId: account.platformId }, author);

    const job = await create(team, listId, { type: 'likes', postUrl: `https://x.com/user${author}/status/${author}?s=20` });
    expect(job).toMatchObject({ type: 'likes', status: 'queued', totalCount: null });
    await runJobs();
    const total = 1 + seededLikeCount(author);
    expect(await jobOf(team, listId, job.id)).toMatchObject({ status: 'completed', totalCount: total, processedCount: total, addedCount: total, failedCount: 0 });
    const expected = [account.platformId, ...Array.from({ length: seededLikeCount(author) }, (_, i) => sandboxLikerId(author, i))];
    expect(new Set((await allLeads(team, listId)).map((l) => l.prospect.platformId))).toEqual(new Set(expected));
    const byId = await create(team, listId, { type: 'likes', postId: author });
    await runJobs();
    expect(await jobOf(team, listId, byId.id)).toMatchObject({ status: 'completed', addedCount: 0, skippedCount: total });
  });
});

describe('the statuses, the status filter, the cursor and cancel', () => {
  it('show queued, starting, running, completed and canceled jobs, filtered by status and paged newest first', async () => {
    const team = await newTeam();
    const { listId } = await listWithColumn(team);
    const [a, b] = [randomPlatformId(), randomPlatformId()];
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${a}`, { followerCount: 250 }));
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${b}`, { followerCount: 250 }));
    const ctx = await testContext();

    const running = await create(team, listId, { type: 'followers', platformId: a });
    await createJobRunner(ctx, { batchesPerTurn: 0 }).runOnce(running.id);
    // Taken by a runner that wrote nothing yet (its turn ended before its first batch).
    expect(await jobOf(team, listId, running.id)).toMatchObject({ status: 'starting', processedCount: 0 });
    await createJobRunner(ctx, { batchesPerTurn: 1 }).runOnce(running.id);
    expect(await jobOf(team, listId, running.id)).toMatchObject({ status: 'running', processedCount: 100 });

    const canceled = await create(team, listId, { type: 'followers', platformId: b });
    const queued = await create(team, listId, { type: 'likes', postId: b });
    const cancel = await ok<Job>(team.request('POST', `/api/v1/lists/${listId}/import-jobs/${canceled.id}/cancel`, {}));
    expectImportJobContract('ImportJob', cancel);
    expect(cancel).toMatchObject({ id: canceled.id, status: 'canceled', completedAt: expect.any(String) });
    // Canceling again answers the same; a job of another list, or of another team, is not found there.
    expect(await ok<Job>(team.request('POST', `/api/v1/lists/${listId}/import-jobs/${canceled.id}/cancel`))).toMatchObject({ status: 'canceled' });
    const { listId: otherList } = await listWithColumn(team);
    await fails(team.request('POST', `/api/v1/lists/${otherList}/import-jobs/${queued.id}/cancel`, {}), 404, 'IMPORT_JOB_NOT_FOUND');
    await fails((await newTeam()).request('POST', `/api/v1/lists/${listId}/import-jobs/${queued.id}/cancel`, {}), 404, 'LIST_NOT_FOUND');

    const ids = async (query: string) => (await page(team, listId, query)).data.map((j) => j.id);
    expect(await ids('')).toEqual([queued.id, canceled.id, running.id]);
    expect(await ids('?status=canceled')).toEqual([canceled.id]);
    expect(await ids('?status=queued&status=running')).toEqual([queued.id, running.id]);
    expect(await ids('?status[]=queued&status[]=canceled')).toEqual([queued.id, canceled.id]);
    expect(await ids('?status=paused')).toEqual([]);

    const first = await page(team, listId, '?limit=2');
    expect(first.data.map((j) => j.id)).toEqual([queued.id, canceled.id]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await page(team, listId, `?limit=2&cursor=${first.nextCursor}`);
    expect(second).toMatchObject({ data: [{ id: running.id }], nextCursor: null });

    await runJobs(ctx);
    expect(await ids('?status=completed')).toEqual([queued.id, running.id]);
    expect(await jobOf(team, listId, running.id)).toMatchObject({ processedCount: 250, addedCount: 250 });
    await fails(team.request('POST', `/api/v1/lists/${listId}/import-jobs/${running.id}/cancel`, {}), 409, 'CONFLICT');
    // The canceled job never ran.
    expect(await jobOf(team, listId, canceled.id)).toMatchObject({ status: 'canceled', processedCount: 0 });
  });
});
