import { expect } from 'vitest';
import { createJobRunner } from '../../src/app/workers/background-jobs.js';
import type { JobRunner } from '../../src/app/workers/jobs.js';
import { testContext, type TeamClient } from './app.js';
import { ok, randomPlatformId } from './sandbox.js';
import { sharedStore } from './store.js';

/** The server's job runner; `batchesPerTurn` 1 lets a test look between batches. */
export async function syncRunner(batchesPerTurn = 10_000): Promise<JobRunner> {
  return createJobRunner(await testContext(), { batchesPerTurn });
}

/**
 * Runs background jobs until the team has none left to run. On a shared PostgreSQL another test worker's
 * runner may hold one of them for a while, so this waits for it rather than stopping at an empty claim.
 */
export async function runSyncs(team: TeamClient, runner?: JobRunner): Promise<void> {
  const r = runner ?? (await syncRunner());
  const { db } = await sharedStore();
  for (let waited = 0; waited < 60_000; ) {
    if ((await r.runOnce()) > 0) continue;
    const open = await db.selectFrom('jobs').select('id').where('team_id', '=', team.teamId).where('status', 'in', ['queued', 'running']).executeTakeFirst();
    if (!open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
    waited += 25;
  }
  throw new Error(`team ${team.teamId} still has background jobs after a minute`);
}

export const randomIds = (n: number) => Array.from({ length: n }, randomPlatformId);

export const newCampaign = (team: TeamClient, name = 'Outreach') => ok<{ id: string }>(team.request('POST', '/api/v1/campaigns/v2', { name }));
export const getCampaign = (team: TeamClient, id: string) => ok(team.request('GET', `/api/v1/campaigns/v2/${id}`));
export const newList = (team: TeamClient, name = 'Founders') => ok<{ id: string }>(team.request('POST', '/api/v1/lists', { name }));

/** Adds leads to a list, 2,000 per call, and expects them all added. */
export async function fillList(team: TeamClient, listId: string, platformIds: readonly string[], data?: Record<string, unknown>): Promise<void> {
  for (let i = 0; i < platformIds.length; i += 2_000) {
    const chunk = platformIds.slice(i, i + 2_000);
    const body = data ? { leads: chunk.map((platformId) => ({ platformId, data })) } : { platformIds: chunk };
    const result = await ok(team.request('POST', `/api/v1/lists/${listId}/leads`, body));
    expect(result.added.length).toBe(chunk.length);
  }
}

export const setRules = (team: TeamClient, campaignId: string, rules: Record<string, unknown>) =>
  ok(team.request('PATCH', `/api/v1/campaigns/v2/${campaignId}/rules`, rules));

export interface LeadView {
  state: string;
  failureReason: string | null;
  source: { direct: boolean; listIds: string[] };
  data: Record<string, unknown>;
  prospect: { platformId: string; externalId: string; username: string };
}

/** Every lead of the campaign, by platform id, following the cursor. */
export async function leadsByPlatformId(team: TeamClient, campaignId: string): Promise<Map<string, LeadView>> {
  const leads = new Map<string, LeadView>();
  let query = 'limit=100';
  for (;;) {
    const page = await ok(team.request('GET', `/api/v1/campaigns/v2/${campaignId}/leads?${query}`));
    for (const lead of page.leads as LeadView[]) leads.set(lead.prospect.platformId, lead);
    if (!page.nextCursor) return leads;
    query = `limit=100&cursorId=${page.nextCursor.id}&cursorTimestamp=${encodeURIComponent(page.nextCursor.timestamp)}`;
  }
}

/** Each lead's state, with the reason when it has one: `excluded:contacted`. */
export async function statesOf(team: TeamClient, campaignId: string): Promise<Record<string, string>> {
  const leads = await leadsByPlatformId(team, campaignId);
  return Object.fromEntries([...leads].map(([id, l]) => [id, l.failureReason ? `${l.state}:${l.failureReason}` : l.state]));
}
