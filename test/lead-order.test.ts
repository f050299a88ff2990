import { describe, expect, it } from 'vitest';
import type { TeamClient } from './helpers/app.js';
import { newTeam } from './helpers/app.js';
import { fillList, newCampaign, newList, randomIds } from './helpers/lead-rules.js';
import { ok } from './helpers/sandbox.js';

/** Every page of a leads collection, 7 at a time, as the platform ids of their prospects. */
async function walk(team: TeamClient, path: string, platformIdOf: (item: never) => string): Promise<string[]> {
  const seen: string[] = [];
  for (let query = '?limit=7'; ; ) {
    const page = await ok<{ leads: never[]; nextCursor: { id: string; timestamp: string } | null }>(team.request('GET', `${path}${query}`));
    seen.push(...page.leads.map(platformIdOf));
    if (!page.nextCursor) return seen;
    query = `?limit=7&cursorId=${page.nextCursor.id}&cursorTimestamp=${encodeURIComponent(page.nextCursor.timestamp)}`;
  }
}

// Ids descending, so neither their own order nor their prospects' ids could pass for the order they came in.
const leadsInOneRequest = () => randomIds(40).sort().reverse();

describe('leads come back in the order they entered', () => {
  it('for a list, within one request and across requests', async () => {
    const team = await newTeam();
    const list = await newList(team);
    const first = leadsInOneRequest();
    const second = leadsInOneRequest();
    await fillList(team, list.id, first);
    await fillList(team, list.id, second);
    const order = await walk(team, `/api/v1/lists/${list.id}/leads`, (lead: { prospect: { platformId: string } }) => lead.prospect.platformId);
    expect(order).toEqual([...first, ...second]);
  });

  it('for a campaign, and in its CSV export', async () => {
    const team = await newTeam();
    const campaign = await newCampaign(team);
    const first = leadsInOneRequest();
    const second = leadsInOneRequest();
    for (const platformIds of [first, second]) await ok(team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/leads`, { platformIds }));
    const path = `/api/v1/campaigns/v2/${campaign.id}/leads`;
    const order = await walk(team, path, (lead: { prospect: { platformId: string } }) => lead.prospect.platformId);
    expect(order).toEqual([...first, ...second]);
    const csv = (await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}/leads/export`)).body;
    expect(csv.trim().split('\n').slice(1).map((line) => line.split(',')[0])).toEqual([...first, ...second]);
  });
});
