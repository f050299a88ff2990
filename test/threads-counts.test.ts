import { describe, expect, it } from 'vitest';
import { newTeam, testApp, type TeamClient } from './helpers/app.js';
import { fails, inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';

const counts = (team: TeamClient, query = '') => ok(team.request('GET', `/api/v1/threads/counts${query}`));

/** We write first and the prospect answers: an unread thread in the default inbox. */
async function answered(team: TeamClient, accountLinkId: string): Promise<string> {
  const from = randomPlatformId();
  await ok(team.request('POST', '/api/v1/threads/messages', { accountLinkId, externalPlatformId: from, content: 'Hello from us' }));
  return (await inbound(team, accountLinkId, from, 'Hello back')).threadId;
}

/** The prospect writes first: an unread request. */
const request = async (team: TeamClient, accountLinkId: string): Promise<string> => (await inbound(team, accountLinkId, randomPlatformId(), 'Hi?')).threadId;

describe('GET /threads/counts', () => {
  it('counts unread threads per view, and within the view asked for those assigned to me, unassigned and per account', async () => {
    const team = await newTeam();
    const a = await linkAccount(team);
    const b = await linkAccount(team);
    await request(team, a.id);
    await request(team, a.id);
    const mine = await answered(team, a.id);
    await ok(team.request('PATCH', `/api/v1/threads/${mine}`, { assigneeId: team.ownerMemberId }));
    await answered(team, b.id);
    const read = await answered(team, b.id);
    await ok(team.request('PATCH', `/api/v1/threads/${read}`, { unread: false }));
    // Another team's unread threads are not ours to count.
    const other = await newTeam();
    await request(other, (await linkAccount(other)).id);

    expect(await counts(team)).toEqual({
      views: { default: 2, 'no-reply': 0, requests: 2, archived: 0 },
      mine: 1,
      unassigned: 1,
      accounts: { [a.id]: 1, [b.id]: 1 },
    });
    expect(await counts(team, '?inbox=requests')).toMatchObject({ mine: 0, unassigned: 2, accounts: { [a.id]: 2 } });

    // Archived while unread: it moves from the inbox's count to the archive's.
    await ok(team.request('PATCH', `/api/v1/threads/${mine}`, { done: true }));
    expect(await counts(team)).toMatchObject({ views: { default: 1, archived: 1 }, mine: 0, accounts: { [b.id]: 1 } });
    expect(await counts(team, '?inbox=archived')).toMatchObject({ mine: 1, unassigned: 0, accounts: { [a.id]: 1 } });
  });

  it('refuses an unknown view with the error envelope, and is in the OpenAPI document', async () => {
    const team = await newTeam();
    await fails(team.request('GET', '/api/v1/threads/counts?inbox=everything'), 400, 'VALIDATION_ERROR');
    const doc = (await (await testApp()).inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toContain('/api/v1/threads/counts');
  });
});
