import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRunner } from '../src/app/workers/background-jobs.js';
import type { TeamClient } from './helpers/app.js';
import { expectImportJobContract } from './helpers/contract-import-jobs.js';
import { fails, ok } from './helpers/sandbox.js';
import { linkX, xWorld, type XWorld } from './helpers/x.js';

/**
 * Followers and likes import jobs of a list on X (the fake X server): GET /2/users/:id/followers and
 * GET /2/tweets/:id/liking_users read page by page as the team's X account, within the rate limits X reports
 * (a job waits, paused, for an exhausted window to reset), the profiles of a page taken as they come.
 */

let world: XWorld;
beforeAll(async () => {
  // One page of followers per 15 minutes, so the second page of an import waits for the window to reset.
  world = await xWorld({ fake: { audienceLimits: { followers: 1 } } });
});
afterAll(() => world.close());

type Job = { id: string; status: string; totalCount: number | null; processedCount: number; addedCount: number; skippedCount: number; failedCount: number; error: string | null };

async function runJobs(): Promise<void> {
  const runner = createJobRunner(world.ctx);
  while ((await runner.runOnce()) > 0);
}

async function create(team: TeamClient, listId: string, data: Record<string, unknown>): Promise<Job> {
  const job = await ok<Job>(team.request('POST', `/api/v1/lists/${listId}/import-jobs`, { data }));
  expectImportJobContract('ImportJob', job);
  return job;
}

async function jobs(team: TeamClient, listId: string, query = ''): Promise<Job[]> {
  const page = await ok(team.request('GET', `/api/v1/lists/${listId}/import-jobs${query}`));
  expectImportJobContract('ImportJobPage', page);
  return page.data;
}

const jobOf = async (team: TeamClient, listId: string, id: string) => (await jobs(team, listId)).find((j) => j.id === id)!;

let userCounter = 0;
const newUser = () => world.fake.addUser({ username: `imp${++userCounter}_${Math.random().toString(36).slice(2, 6)}` });

async function linkedTeamWithList() {
  const team = await world.team();
  await linkX(world, team);
  const list = await ok<{ id: string }>(team.request('POST', '/api/v1/lists', { name: 'From X' }));
  return { team, listId: list.id };
}

describe('followers and likes imports on X', () => {
  it("read an account's followers 1000 a page, pausing when X's window is spent and resuming when it resets", async () => {
    const { team, listId } = await linkedTeamWithList();
    const star = world.fake.addUser({ username: `star${Date.now() % 1e6}`, public_metrics: { followers_count: 1001, following_count: 0, tweet_count: 1 } });
    const followers = Array.from({ length: 1001 }, () => newUser());
    for (const f of followers) world.fake.follow(f.id, star.id);
    const followersPath = new RegExp(`^/2/users/${star.id}/followers$`);
    const lookups = world.fake.countRequests('GET', /^\/2\/users$/);

    const job = await create(team, listId, { type: 'followers', username: `https://x.com/${star.username}` });
    expect(job).toMatchObject({ status: 'queued', totalCount: 1001 });
    await runJobs();
    // The first page is in; the second waits for the window X said is spent, and was not even asked for.
    expect(await jobOf(team, listId, job.id)).toMatchObject({ status: 'paused', processedCount: 1000, addedCount: 1000, error: null });
    expect(world.fake.countRequests('GET', followersPath)).toBe(1);
    expect((await jobs(team, listId, '?status=paused')).map((j) => j.id)).toEqual([job.id]);

    world.clock.advance(15 * 60_000 + 1_000);
    await runJobs();
    expect(await jobOf(team, listId, job.id)).toMatchObject({ status: 'completed', totalCount: 1001, processedCount: 1001, addedCount: 1001, failedCount: 0 });
    expect(world.fake.countRequests('GET', followersPath)).toBe(2);
    // The followers came with their profiles: none was looked up again.
    expect(world.fake.countRequests('GET', /^\/2\/users$/)).toBe(lookups);
    const leads = await ok(team.request('GET', `/api/v1/lists/${listId}/leads?limit=1`));
    expect(followers.map((f) => f.id)).toContain(leads.leads[0].prospect.platformId);
    expect((await ok<Array<{ id: string; leadsCount: number }>>(team.request('GET', '/api/v1/lists'))).find((l) => l.id === listId)!.leadsCount).toBe(1001);
  });

  it("read a post's likers 100 a page, the post given by its link", async () => {
    const { team, listId } = await linkedTeamWithList();
    const author = newUser();
    const post = world.fake.addTweet(author.id, 'Worth a like');
    const likers = Array.from({ length: 150 }, () => newUser());
    for (const liker of likers) world.fake.likes.add(`${liker.id}:${post}`);
    const likersPath = new RegExp(`^/2/tweets/${post}/liking_users$`);

    const job = await create(team, listId, { type: 'likes', postUrl: `https://x.com/${author.username}/status/${post}` });
    expect(job).toMatchObject({ status: 'queued', totalCount: null });
    await runJobs();
    expect(await jobOf(team, listId, job.id)).toMatchObject({ status: 'completed', totalCount: 150, processedCount: 150, addedCount: 150 });
    expect(world.fake.countRequests('GET', likersPath)).toBe(2);
  });

  it('refuse an account X does not know, and fail a job X refuses, saying why', async () => {
    const { team, listId } = await linkedTeamWithList();
    await fails(team.request('POST', `/api/v1/lists/${listId}/import-jobs`, { data: { type: 'followers', username: 'nobody_here_x' } }), 400, 'VALIDATION_ERROR');

    const locked = newUser();
    world.fake.failNext('GET', new RegExp(`^/2/users/${locked.id}/followers$`), 403, { title: 'Forbidden', detail: 'Sorry, you are not authorized to see this user.', status: 403 });
    const job = await create(team, listId, { type: 'followers', platformId: locked.id });
    await runJobs();
    const failed = await jobOf(team, listId, job.id);
    expect(failed).toMatchObject({ status: 'failed', processedCount: 0, completedAt: expect.any(String) });
    expect(failed.error).toMatch(/refused.*not authorized/);
    expect((await jobs(team, listId, '?status=failed')).map((j) => j.id)).toEqual([job.id]);
  });
});
