import { describe, expect, it } from 'vitest';
import { sandboxPersonOf } from '../src/platforms/sandbox-people.js';
import { newTeam } from './helpers/app.js';
import { expectContract } from './helpers/contract.js';
import { events, fails, inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';

describe('a sandbox conversation end to end', () => {
  it('inbound creates prospect and thread as a request; a reply makes it xChat; events are gap-free', async () => {
    const team = await newTeam();
    const account = await linkAccount(team, undefined, 'Acme');
    expectContract('GET', '/account-links', await ok(team.request('GET', '/api/v1/account-links')));
    const from = randomPlatformId();

    const first = await inbound(team, account.id, from, 'Hi there');
    expectContract('POST', '/threads/{threadId}/messages', first);
    expect(first).toMatchObject({ origin: 'external', userId: null, content: 'Hi there', platform: 'sandbox' });

    const thread = await ok(team.request('GET', `/api/v1/threads/${first.threadId}`));
    expectContract('GET', '/threads/{threadId}', thread);
    expect(thread).toMatchObject({ isRequest: true, variant: 'unencrypted', accountLinkId: account.id, done: false });
    expect(first.authorId).toBe(thread.prospect.externalId);
    expect(thread.prospect).toMatchObject({ platformId: from, username: `user${from}`, handle: `@user${from}`, displayName: sandboxPersonOf(from).displayName });
    expect(thread.platformId).toBe(BigInt(account.platformId) < BigInt(from) ? `${account.platformId}:${from}` : `${from}:${account.platformId}`);

    const requests = await ok(team.request('GET', '/api/v1/threads?inbox=requests'));
    expect(requests.threads.map((t: { id: string }) => t.id)).toEqual([thread.id]);
    expect((await ok(team.request('GET', '/api/v1/threads'))).threads).toEqual([]);

    const reply = await ok(team.request('POST', `/api/v1/threads/${thread.id}/messages`, { content: 'Hello!', replyToMessageId: first.id }));
    expectContract('POST', '/threads/{threadId}/messages', reply);
    expect(reply).toMatchObject({ origin: 'api', authorId: account.id, replyData: { messageId: first.id } });
    expect(reply.userId).toMatch(/^[0-9a-z]+$/);
    expect(reply.platformId).toMatch(/^[0-9]+$/);

    const after = await ok(team.request('GET', `/api/v1/threads/${thread.id}`));
    expect(after).toMatchObject({ isRequest: false, variant: 'xChat', lastMessage: { id: reply.id, content: 'Hello!' } });
    expect(after.computedSortTimestamp).toBe(reply.createdAt);
    const noReply = await ok(team.request('GET', '/api/v1/threads?inbox=no-reply'));
    expect(noReply.threads.map((t: { id: string }) => t.id)).toEqual([thread.id]);

    const list = await ok(team.request('GET', `/api/v1/threads/${thread.id}/messages`));
    expectContract('GET', '/threads/{threadId}/messages', list);
    expect(list.messages.map((m: { id: string }) => m.id)).toEqual([reply.id, first.id]);

    const all = await events(team);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.map((e) => e.type)).toEqual(['prospect.created', 'thread.created', 'message.created', 'message.created']);
    expect(all[2]!.data.thread.prospect.context).toMatchObject({ tags: [] });
    expectContract('GET', '/events', { events: all, hasMore: false, lastSeq: all.length });
  });

  it('refuses to send to a user who cannot receive DMs, and stores nothing', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const closed = randomPlatformId();
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${closed}`, { dmsOpen: false }));
    await fails(team.request('POST', '/api/v1/threads/messages', { accountLinkId: account.id, externalPlatformId: closed, content: 'hi' }), 422, 'RECIPIENT_UNREACHABLE');
    expect((await ok(team.request('GET', '/api/v1/threads?inbox=no-reply'))).threads).toEqual([]);
    expect(await ok(team.request('GET', `/api/v1/prospects/lookup?platformId=${closed}`))).toBeNull();
    expect(await events(team)).toEqual([]);
  });
});
