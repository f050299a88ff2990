import { describe, expect, it } from 'vitest';
import { newTeam } from './helpers/app.js';
import { expectContract } from './helpers/contract.js';
import { conversation, events, fails, linkAccount, ok, randomPlatformId, randomUsername } from './helpers/sandbox.js';

describe('prospects', () => {
  it('gets and looks up a prospect with its threads across account links', async () => {
    const team = await newTeam();
    const { from, prospectId, thread } = await conversation(team);
    const second = await linkAccount(team);
    const other = await ok(team.request('POST', '/api/v1/threads', { accountLinkId: second.id, externalId: prospectId }));

    const got = await ok(team.request('GET', `/api/v1/prospects/${prospectId}`));
    expectContract('GET', '/prospects/{prospectId}', got);
    expect(got).toMatchObject({
      platform: 'sandbox',
      platformId: from,
      externalId: prospectId,
      documentId: null,
      handle: `@user${from}`,
      profileUrl: `https://x.com/user${from}`,
      isFresh: true,
      isStale: false,
      confidence: 1,
      accountStatus: 'active',
      context: { tags: [], statusId: null, valuation: null, notes: null, assigneeId: null },
    });
    expect(got.context.threads.map((t: { id: string }) => t.id)).toEqual([thread.id, other.id]);

    const looked = await ok(team.request('GET', `/api/v1/prospects/lookup?platformId=${from}`));
    expectContract('GET', '/prospects/lookup', looked);
    expect(looked).toEqual(got);
    const none = await ok(team.request('GET', `/api/v1/prospects/lookup?platformId=${randomPlatformId()}`));
    expect(none).toBeNull();
    expectContract('GET', '/prospects/lookup', none);
    await fails(team.request('GET', '/api/v1/prospects/lookup'), 400, 'VALIDATION_ERROR');
    await fails(team.request('GET', '/api/v1/prospects/lookup?platformId=abc'), 400, 'VALIDATION_ERROR');
    await fails(team.request('GET', '/api/v1/prospects/nosuchprospect'), 404, 'PROSPECT_NOT_FOUND');
  });

  it('takes profile fields from the sandbox profile', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const id = randomPlatformId();
    const username = randomUsername('Lead');
    const profile = await ok(
      team.request('PUT', `/api/v1/sandbox/profiles/${id}`, { username, displayName: 'Sarah Chen', bio: 'Founder', location: 'SF', followerCount: 42, isProtected: true }),
    );
    expect(profile).toEqual({ platformId: id, username, displayName: 'Sarah Chen', bio: 'Founder', location: 'SF', followerCount: 42, isProtected: true, accountStatus: 'active', dmsOpen: true });
    const thread = await ok(team.request('POST', '/api/v1/threads', { accountLinkId: account.id, externalPlatformId: id }));
    expect(thread.prospect).toMatchObject({ username, displayName: 'Sarah Chen', bio: 'Founder', location: 'SF', followerCount: 42, isProtected: true });
    const byName = await ok(team.request('GET', `/api/v1/threads/lookup-by-username?username=${username.toUpperCase()}`));
    expect(byName.map((t: { id: string }) => t.id)).toEqual([thread.id]);
  });

  it('updates context with fan-out to every thread, checking references, with one event per change', async () => {
    const team = await newTeam();
    const { prospectId, thread } = await conversation(team);
    const second = await linkAccount(team);
    const other = await ok(team.request('POST', '/api/v1/threads', { accountLinkId: second.id, externalId: prospectId }));
    const [hot, vip] = [await ok(team.request('POST', '/api/v1/tags', { name: 'Hot' })), await ok(team.request('POST', '/api/v1/tags', { name: 'VIP' }))];
    const status = await ok(team.request('POST', '/api/v1/statuses', { name: 'Qualified' }));
    const before = (await events(team)).length;

    const url = `/api/v1/prospects/${prospectId}/context`;
    const updated = await ok(
      team.request('PATCH', url, {
        notes: 'Interested in enterprise plan',
        valuation: 2500,
        statusId: status.id,
        addTags: [hot.id, vip.id],
        assigneeId: team.ownerMemberId,
        done: true,
      }),
    );
    expectContract('PATCH', '/prospects/{prospectId}/context', updated);
    expect(updated.context).toMatchObject({ notes: 'Interested in enterprise plan', valuation: 2500, statusId: status.id, assigneeId: team.ownerMemberId });
    expect(updated.context.tags.sort()).toEqual([hot.id, vip.id].sort());
    for (const id of [thread.id, other.id]) {
      expect(await ok(team.request('GET', `/api/v1/threads/${id}`))).toMatchObject({ done: true, assigneeId: team.ownerMemberId });
    }
    const emitted = (await events(team)).slice(before);
    expect(emitted.map((e) => e.type)).toEqual([
      'prospect.notesChanged',
      'prospect.valuationChanged',
      'prospect.statusChanged',
      'prospect.tagsChanged',
      'prospect.assigneeChanged',
      'thread.archived',
      'thread.archived',
    ]);
    expect(emitted[3]!.data.prospect.context.tags.sort()).toEqual([hot.id, vip.id].sort());
    expect(emitted.map((e) => e.seq)).toEqual(emitted.map((_, i) => before + i + 1));

    // Same values again: nothing changes, nothing is emitted.
    await ok(team.request('PATCH', url, { notes: 'Interested in enterprise plan', addTags: [hot.id], done: true }));
    expect((await events(team)).length).toBe(before + emitted.length);

    const cleared = await ok(team.request('PATCH', url, { notes: null, valuation: null, statusId: null, removeTags: [hot.id], assigneeId: null, done: false }));
    expect(cleared.context).toMatchObject({ notes: null, valuation: null, statusId: null, tags: [vip.id], assigneeId: null });
    expect((await ok(team.request('GET', `/api/v1/threads/${other.id}`))).done).toBe(false);

    const foreign = await newTeam();
    const foreignTag = await ok(foreign.request('POST', '/api/v1/tags', { name: 'Theirs' }));
    const foreignStatus = await ok(foreign.request('POST', '/api/v1/statuses', { name: 'Theirs' }));
    const count = (await events(team)).length;
    await fails(team.request('PATCH', url, { notes: 'x', addTags: [foreignTag.id] }), 404, 'TAG_NOT_FOUND');
    await fails(team.request('PATCH', url, { removeTags: ['nosuchtag'] }), 404, 'TAG_NOT_FOUND');
    await fails(team.request('PATCH', url, { statusId: foreignStatus.id }), 404, 'STATUS_NOT_FOUND');
    await fails(team.request('PATCH', url, { assigneeId: foreign.ownerMemberId }), 404, 'MEMBER_NOT_FOUND');
    for (const body of [{ valuation: 'lots' }, { addTags: 'abc' }, { addTags: ['Bad Id'] }, { done: 1 }, { notes: 5 }]) {
      await fails(team.request('PATCH', url, body), 400, 'VALIDATION_ERROR');
    }
    expect((await events(team)).length).toBe(count);
    expect((await ok(team.request('GET', `/api/v1/prospects/${prospectId}`))).context.notes).toBeNull();
  });
});

describe('account links and the sandbox', () => {
  it('links a sandbox account once, re-activating it when linked again', async () => {
    const team = await newTeam();
    const username = randomUsername('acme');
    const link = await linkAccount(team, username, 'Acme Corp');
    expect(link).toMatchObject({ platform: 'sandbox', username, name: 'Acme Corp', status: 'active', hourlyLimit: 25, dailyLimit: 400 });
    expect(link.platformId).toMatch(/^[0-9]+$/);
    const patched = await ok(team.request('PATCH', `/api/v1/account-links/${link.id}`, { status: 'paused', hourlyLimit: 10, dailyLimit: 50 }));
    expect(patched).toMatchObject({ status: 'paused', hourlyLimit: 10, dailyLimit: 50 });
    const again = await linkAccount(team, username.toUpperCase());
    expect(again).toMatchObject({ id: link.id, status: 'active', hourlyLimit: 10 });
    const list = await ok(team.request('GET', '/api/v1/account-links'));
    expectContract('GET', '/account-links', list);
    expect(list.map((l: { id: string }) => l.id)).toEqual([link.id]);

    // An existing sandbox user (default or overridden username) keeps its id.
    const id = randomPlatformId();
    expect((await linkAccount(team, `user${id}`)).platformId).toBe(id);
    for (const body of [{ status: 'gone' }, { hourlyLimit: 0 }, { dailyLimit: 1.5 }, { hourlyLimit: '5' }]) {
      await fails(team.request('PATCH', `/api/v1/account-links/${link.id}`, body), 400, 'VALIDATION_ERROR');
    }
    for (const body of [{}, { username: 'has space' }, { username: 'x'.repeat(25) }]) {
      await fails(team.request('POST', '/api/v1/account-links/sandbox', body), 400, 'VALIDATION_ERROR');
    }
    await fails(team.request('PATCH', '/api/v1/account-links/nosuchlink', { status: 'active' }), 404, 'ACCOUNT_LINK_NOT_FOUND');
  });

  it('validates sandbox profiles and inbound DMs', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const taken = randomUsername('taken');
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${randomPlatformId()}`, { username: taken }));
    await fails(team.request('PUT', `/api/v1/sandbox/profiles/${randomPlatformId()}`, { username: taken }), 409, 'CONFLICT');
    for (const [id, body] of [['abc', {}], ['123', { accountStatus: 'banned' }], ['123', { followerCount: -1 }], ['123', { dmsOpen: 'no' }]] as const) {
      await fails(team.request('PUT', `/api/v1/sandbox/profiles/${id}`, body), 400, 'VALIDATION_ERROR');
    }
    const url = '/api/v1/sandbox/inbound';
    for (const body of [{ accountLinkId: account.id, fromPlatformId: 'x1', content: 'hi' }, { accountLinkId: account.id, fromPlatformId: '5', content: '' }]) {
      await fails(team.request('POST', url, body), 400, 'VALIDATION_ERROR');
    }
    await fails(team.request('POST', url, { accountLinkId: account.id, fromPlatformId: account.platformId, content: 'me' }), 400, 'VALIDATION_ERROR');
    const gone = randomPlatformId();
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${gone}`, { accountStatus: 'deactivated' }));
    await fails(team.request('POST', url, { accountLinkId: account.id, fromPlatformId: gone, content: 'boo' }), 422, 'SENDER_UNAVAILABLE');
    expect(await events(team)).toEqual([]);
  });
});
