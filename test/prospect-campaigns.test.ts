import { describe, expect, it } from 'vitest';
import { newTeam } from './helpers/app.js';
import { fails, inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';

describe('GET /prospects/{id}/campaigns', () => {
  it("lists the campaigns a prospect is a lead of, newest first, with the campaign's status and the lead's state", async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const from = randomPlatformId();
    const { threadId } = await inbound(team, account.id, from, 'Hi');
    const prospectId = (await ok(team.request('GET', `/api/v1/threads/${threadId}`))).prospect.externalId;
    expect(await ok(team.request('GET', `/api/v1/prospects/${prospectId}/campaigns`))).toEqual([]);

    const first = await ok(team.request('POST', '/api/v1/campaigns/v2', { name: 'Spring outreach', accountLinkIds: [account.id] }));
    const second = await ok(team.request('POST', '/api/v1/campaigns/v2', { name: 'Follow-ups', accountLinkIds: [account.id] }));
    await ok(team.request('POST', `/api/v1/campaigns/v2/${first.id}/leads`, { externalIds: [prospectId] }));
    await ok(team.request('POST', `/api/v1/campaigns/v2/${second.id}/leads`, { externalIds: [prospectId] }));
    // Another prospect's campaign is not this one's.
    const third = await ok(team.request('POST', '/api/v1/campaigns/v2', { name: 'Others', accountLinkIds: [account.id] }));
    await ok(team.request('POST', `/api/v1/campaigns/v2/${third.id}/leads`, { platformIds: [randomPlatformId()] }));

    const campaigns = await ok(team.request('GET', `/api/v1/prospects/${prospectId}/campaigns`));
    expect(campaigns.map((c: { name: string }) => c.name)).toEqual(['Follow-ups', 'Spring outreach']);
    expect(campaigns[0]).toMatchObject({ campaignId: second.id, status: 'draft', contactedAt: null, repliedAt: null, failureReason: null });
    expect(typeof campaigns[0].state).toBe('string');
  });

  it("is 404 for another team's prospect and 400 for a malformed id", async () => {
    const team = await newTeam();
    const other = await newTeam();
    const { threadId } = await inbound(other, (await linkAccount(other)).id, randomPlatformId(), 'Hi');
    const prospectId = (await ok(other.request('GET', `/api/v1/threads/${threadId}`))).prospect.externalId;
    await fails(team.request('GET', `/api/v1/prospects/${prospectId}/campaigns`), 404, 'PROSPECT_NOT_FOUND');
    await fails(team.request('GET', '/api/v1/prospects/NOT-AN-ID/campaigns'), 400, 'VALIDATION_ERROR');
  });
});
