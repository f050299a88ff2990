import { expect, it } from 'vitest';
import { newTeam, type TeamClient } from './helpers/app.js';
import { fails, linkAccount, ok, xChat } from './helpers/sandbox.js';

/** Everything team A can see of its CRM data, to prove another team's requests changed none of it. */
async function snapshot(team: TeamClient, threadId: string, prospectId: string) {
  return Promise.all(
    [
      '/api/v1/account-links',
      `/api/v1/threads/${threadId}`,
      `/api/v1/threads/${threadId}/messages`,
      `/api/v1/prospects/${prospectId}`,
      '/api/v1/threads?inbox=default',
      '/api/v1/events?limit=1000',
    ].map((url) => ok(team.request('GET', url))),
  );
}

it("a team sees and changes nothing of another team's CRM data", async () => {
  const a = await newTeam();
  const { account, thread, reply, from, prospectId } = await xChat(a);
  const b = await newTeam();
  const own = await xChat(b);
  const before = await snapshot(a, thread.id, prospectId);

  const t = `/api/v1/threads/${thread.id}`;
  const m = `${t}/messages/${reply.id}`;
  const notFound: Array<[string, string, unknown, string]> = [
    ['PATCH', `/api/v1/account-links/${account.id}`, { status: 'paused' }, 'ACCOUNT_LINK_NOT_FOUND'],
    ['POST', '/api/v1/threads', { accountLinkId: account.id, externalPlatformId: from }, 'ACCOUNT_LINK_NOT_FOUND'],
    ['POST', '/api/v1/threads', { accountLinkId: own.account.id, externalId: prospectId }, 'PROSPECT_NOT_FOUND'],
    ['GET', `/api/v1/threads/lookup?accountLinkId=${account.id}&externalPlatformId=${from}`, undefined, 'ACCOUNT_LINK_NOT_FOUND'],
    ['GET', t, undefined, 'THREAD_NOT_FOUND'],
    ['PATCH', t, { done: true }, 'THREAD_NOT_FOUND'],
    ['DELETE', t, undefined, 'THREAD_NOT_FOUND'],
    ['POST', `${t}/typing`, {}, 'THREAD_NOT_FOUND'],
    ['PATCH', `${t}/settings`, { typingIndicatorsEnabled: false }, 'THREAD_NOT_FOUND'],
    ['GET', `${t}/messages`, undefined, 'THREAD_NOT_FOUND'],
    ['POST', `${t}/messages`, { content: 'intrusion' }, 'THREAD_NOT_FOUND'],
    ['PATCH', m, { content: 'edited by a stranger' }, 'THREAD_NOT_FOUND'],
    ['DELETE', m, { deleteForAll: true }, 'THREAD_NOT_FOUND'],
    ['GET', `${m}/history`, undefined, 'THREAD_NOT_FOUND'],
    ['POST', `${m}/reactions/reactions`, { emoji: '👍' }, 'THREAD_NOT_FOUND'],
    ['DELETE', `${m}/reactions/reactions`, { emoji: '👍' }, 'THREAD_NOT_FOUND'],
    ['POST', '/api/v1/threads/messages', { accountLinkId: account.id, externalPlatformId: from, content: 'x' }, 'ACCOUNT_LINK_NOT_FOUND'],
    ['POST', '/api/v1/threads/messages', { accountLinkId: own.account.id, externalId: prospectId, content: 'x' }, 'PROSPECT_NOT_FOUND'],
    // A's ids inside B's own thread and prospect.
    ['POST', `/api/v1/threads/${own.thread.id}/messages`, { content: 'x', replyToMessageId: reply.id }, 'MESSAGE_NOT_FOUND'],
    ['PATCH', `/api/v1/threads/${own.thread.id}/messages/${reply.id}`, { content: 'x' }, 'MESSAGE_NOT_FOUND'],
    ['DELETE', `/api/v1/threads/${own.thread.id}/messages/${reply.id}`, undefined, 'MESSAGE_NOT_FOUND'],
    ['GET', `/api/v1/threads/${own.thread.id}/messages/${reply.id}/history`, undefined, 'MESSAGE_NOT_FOUND'],
    ['PATCH', `/api/v1/threads/${own.thread.id}`, { assigneeId: a.ownerMemberId }, 'MEMBER_NOT_FOUND'],
    ['PATCH', `/api/v1/prospects/${own.prospectId}/context`, { assigneeId: a.ownerMemberId }, 'MEMBER_NOT_FOUND'],
    ['GET', `/api/v1/prospects/${prospectId}`, undefined, 'PROSPECT_NOT_FOUND'],
    ['PATCH', `/api/v1/prospects/${prospectId}/context`, { notes: 'mine now', done: true }, 'PROSPECT_NOT_FOUND'],
    ['POST', '/api/v1/sandbox/inbound', { accountLinkId: account.id, fromPlatformId: from, content: 'x' }, 'ACCOUNT_LINK_NOT_FOUND'],
  ];
  for (const [method, url, body, code] of notFound) {
    const error = await fails(b.request(method as 'GET', url, body), 404, code);
    expect(error.message, `${method} ${url}`).toContain("not found");
  }

  expect(await ok(b.request('GET', `/api/v1/threads/lookup?accountLinkId=${own.account.id}&externalId=${prospectId}`))).toBeNull();
  expect(await ok(b.request('GET', `/api/v1/prospects/lookup?platformId=${from}`))).toBeNull();
  expect(await ok(b.request('GET', `/api/v1/threads/lookup-by-username?username=user${from}`))).toEqual([]);
  expect((await ok(b.request('GET', `/api/v1/threads?inbox=no-reply&accountLinkIds=${account.id}`))).threads).toEqual([]);
  expect((await ok(b.request('GET', '/api/v1/account-links'))).map((l: { id: string }) => l.id)).toEqual([own.account.id]);

  expect(await snapshot(a, thread.id, prospectId)).toEqual(before);
});

it('two teams linking the same sandbox account each get their own link and threads', async () => {
  const [a, b] = [await newTeam(), await newTeam()];
  const first = await linkAccount(a);
  const second = await linkAccount(b, first.username);
  expect(second.platformId).toBe(first.platformId);
  expect(second.id).not.toBe(first.id);
  const { thread } = await xChat(a, first);
  await fails(b.request('GET', `/api/v1/threads/${thread.id}`), 404, 'THREAD_NOT_FOUND');
  expect((await ok(b.request('GET', '/api/v1/threads?inbox=no-reply'))).threads).toEqual([]);
});
