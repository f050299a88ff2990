import { describe, expect, it } from 'vitest';
import { getAccountLinkRow } from '../src/app/accounts/account-links.js';
import { ingestInboundMessage } from '../src/app/inbox/inbound.js';
import { newId } from '../src/core/ids.js';
import { newTeam, testContext } from './helpers/app.js';
import { expectContract } from './helpers/contract.js';
import { conversation, eventTypes, events, fails, inbound, linkAccount, ok, randomPlatformId, xChat } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';

describe('messages', () => {
  it('quick send creates prospect and thread, then reuses them', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const to = randomPlatformId();
    const sent = await ok(team.request('POST', '/api/v1/threads/messages', { accountLinkId: account.id, externalPlatformId: to, content: 'Hi!' }));
    expectContract('POST', '/threads/messages', sent);
    expect(sent.message).toMatchObject({ origin: 'api', authorId: account.id, threadId: sent.thread.id, content: 'Hi!' });
    const thread = await ok(team.request('GET', `/api/v1/threads/${sent.thread.id}`));
    expect(thread).toMatchObject({ platformId: sent.thread.platformId, isRequest: false, variant: 'unencrypted' });

    const second = await ok(
      team.request('POST', '/api/v1/threads/messages', { accountLinkId: account.id, externalId: thread.prospect.externalId, content: 'Again' }),
    );
    expect(second.thread.id).toBe(sent.thread.id);
    expect(await eventTypes(team)).toEqual(['prospect.created', 'thread.created', 'message.created', 'message.created']);
    // The prospect answering makes the thread X Chat.
    await inbound(team, account.id, to, 'Hey');
    expect((await ok(team.request('GET', `/api/v1/threads/${sent.thread.id}`))).variant).toBe('xChat');
  });

  it('pages messages newest first', async () => {
    const team = await newTeam();
    const { account, from, first, thread } = await conversation(team);
    const sent = [first.id];
    for (let i = 0; i < 4; i++) sent.push((await inbound(team, account.id, from, `more ${i}`)).id);
    const seen: string[] = [];
    let url = `/api/v1/threads/${thread.id}/messages?limit=2`;
    for (;;) {
      const page = await ok(team.request('GET', url));
      expectContract('GET', '/threads/{threadId}/messages', page);
      expect(page).toMatchObject({ teamId: team.teamId, threadId: thread.id, isSyncing: false });
      seen.push(...page.messages.map((m: { id: string }) => m.id));
      if (!page.nextCursor) break;
      url = `/api/v1/threads/${thread.id}/messages?limit=2&cursorId=${page.nextCursor.id}&cursorTimestamp=${encodeURIComponent(page.nextCursor.timestamp)}`;
    }
    expect(seen).toEqual(sent.reverse());
  });

  it('edits and deletes in X Chat threads, keeping history', async () => {
    const team = await newTeam();
    const { thread, reply, first } = await xChat(team);
    const base = `/api/v1/threads/${thread.id}/messages/${reply.id}`;
    const edited = await ok(team.request('PATCH', base, { content: 'Our reply, edited' }));
    expectContract('PATCH', '/threads/{threadId}/messages/{messageId}', edited);
    expect(edited).toMatchObject({ success: true, messageId: reply.id, content: 'Our reply, edited' });
    await ok(team.request('PATCH', base, { content: 'Third version' }));

    const removed = await ok(team.request('DELETE', base));
    expectContract('DELETE', '/threads/{threadId}/messages/{messageId}', removed);
    const history = await ok(team.request('GET', `${base}/history`));
    expectContract('GET', '/threads/{threadId}/messages/{messageId}/history', history);
    expect(history.versions.map((v: { content: string }) => v.content)).toEqual(['Our reply', 'Our reply, edited', 'Third version']);
    expect(history.versions.map((v: { editOrigin: string | null }) => v.editOrigin)).toEqual([null, 'api', 'api']);
    expect(history.versions[0].createdAt).toBe(reply.createdAt);
    expect(history.versions[1].createdAt).toBe(edited.editedAt);
    expect(history.deletion).toEqual({ deletedAt: removed.deletedAt, deletionType: 'all', deletionAuthorPlatformId: expect.any(String), origin: 'api' });

    const listed = (await ok(team.request('GET', `/api/v1/threads/${thread.id}/messages`))).messages;
    expect(listed[0]).toMatchObject({ id: reply.id, content: 'Third version', isEdited: true, deletedAt: removed.deletedAt });
    await fails(team.request('PATCH', base, { content: 'again' }), 409, 'MESSAGE_DELETED');
    await fails(team.request('DELETE', base, { deleteForAll: true }), 409, 'MESSAGE_DELETED');

    // Their message: we may delete it for ourselves, not for everyone, and never edit it.
    const theirs = `/api/v1/threads/${thread.id}/messages/${first.id}`;
    await fails(team.request('PATCH', theirs, { content: 'nope' }), 422, 'NOT_OWN_MESSAGE');
    await fails(team.request('DELETE', theirs, { deleteForAll: true }), 422, 'NOT_OWN_MESSAGE');
    await ok(team.request('DELETE', theirs, { deleteForAll: false }));
    expect((await ok(team.request('GET', `${theirs}/history`))).deletion.deletionType).toBe('self');
    expect((await eventTypes(team)).slice(-4)).toEqual(['message.edited', 'message.edited', 'message.deleted', 'message.deleted']);
  });

  it('refuses edit and delete outside X Chat with 409 THREAD_NOT_XCHAT', async () => {
    const team = await newTeam();
    const { thread, first } = await conversation(team);
    const base = `/api/v1/threads/${thread.id}/messages/${first.id}`;
    await fails(team.request('PATCH', base, { content: 'x' }), 409, 'THREAD_NOT_XCHAT');
    await fails(team.request('DELETE', base), 409, 'THREAD_NOT_XCHAT');
    expect((await ok(team.request('GET', `${base}/history`))).versions).toHaveLength(1);
  });

  it('rejects reactions on sandbox threads and stores them on X threads', async () => {
    const team = await newTeam();
    const { thread, reply } = await xChat(team);
    const path = `/api/v1/threads/${thread.id}/messages/${reply.id}/reactions/reactions`;
    await fails(team.request('POST', path, { emoji: '👍' }), 422, 'REACTIONS_NOT_SUPPORTED');
    await fails(team.request('POST', path, { emoji: '' }), 400, 'VALIDATION_ERROR');

    // An X thread, as the X adapter will store it (no adapter is needed to react locally).
    const { db } = await sharedStore();
    const now = new Date();
    const accountId = newId();
    const prospectId = newId();
    const threadId = newId();
    const messageId = newId();
    await db.insertInto('account_links').values({ id: accountId, team_id: team.teamId, platform: 'twitter', platform_id: '11', name: 'X', username: 'x', image: '', created_at: now }).execute();
    await db.insertInto('prospects').values({ id: prospectId, team_id: team.teamId, platform: 'twitter', platform_id: '22', username: 'p', display_name: 'P', created_at: now, updated_at: now, image: null, bio: null, location: null, website_url: null, listed_count: null, platform_created_at: null, last_enriched_at: null, status_id: null, valuation: null, notes: null, assignee_id: null }).execute();
    await db.insertInto('threads').values({ id: threadId, team_id: team.teamId, account_link_id: accountId, prospect_id: prospectId, platform: 'twitter', platform_id: '11:22', sort_at: now, created_at: now, assignee_id: null, typing_indicators_enabled: null, last_message_id: null, last_message_outbound: null }).execute();
    await db.insertInto('messages').values({ id: messageId, team_id: team.teamId, thread_id: threadId, platform: 'twitter', platform_id: '33', outbound: false, author_id: prospectId, user_id: null, campaign_id: null, campaign_step_id: null, content: 'hi', origin: 'external', reply_to_message_id: null, is_encrypted: false, created_at: now }).execute();
    const xPath = `/api/v1/threads/${threadId}/messages/${messageId}/reactions/reactions`;
    const added = await ok(team.request('POST', xPath, { emoji: '❤️' }));
    expectContract('POST', '/threads/{threadId}/messages/{messageId}/reactions/reactions', added);
    await ok(team.request('POST', xPath, { emoji: '❤️' }));
    const stored = (await ok(team.request('GET', `/api/v1/threads/${threadId}/messages`))).messages[0].reactions;
    expect(stored).toEqual([{ emoji: '❤️', senderPlatformId: '11', createdAt: expect.any(String) }]);
    const removed = await ok(team.request('DELETE', xPath, { emoji: '❤️' }));
    expectContract('DELETE', '/threads/{threadId}/messages/{messageId}/reactions/reactions', removed);
    expect((await ok(team.request('GET', `/api/v1/threads/${threadId}/messages`))).messages[0].reactions).toEqual([]);
    const reactionEvents = (await events(team)).filter((e) => e.type.startsWith('message.reaction'));
    expect(reactionEvents.map((e) => e.type)).toEqual(['message.reactionAdded', 'message.reactionRemoved']);
    expect(reactionEvents[0]!.data).toMatchObject({ messageId, threadId, reaction: { emoji: '❤️', senderPlatformId: '11' } });
  });

  it('maps platform refusals to clear errors and writes nothing', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    for (const profile of [{ accountStatus: 'suspended' }, { accountStatus: 'deactivated' }, { dmsOpen: false }]) {
      const target = randomPlatformId();
      const { thread } = await conversation(team, account);
      await ok(team.request('PUT', `/api/v1/sandbox/profiles/${thread.prospect.platformId}`, profile));
      await fails(team.request('POST', `/api/v1/threads/${thread.id}/messages`, { content: 'hi' }), 422, 'RECIPIENT_UNREACHABLE');
      expect((await ok(team.request('GET', `/api/v1/threads/${thread.id}/messages`))).messages).toHaveLength(1);
      await ok(team.request('PUT', `/api/v1/sandbox/profiles/${target}`, profile));
      await fails(team.request('POST', '/api/v1/threads/messages', { accountLinkId: account.id, externalPlatformId: target, content: 'hi' }), 422, 'RECIPIENT_UNREACHABLE');
      expect(await ok(team.request('GET', `/api/v1/prospects/lookup?platformId=${target}`))).toBeNull();
    }
    const before = (await events(team)).length;
    // Our own account suspended: the platform revokes it and the link goes offline.
    const { thread } = await conversation(team);
    const linkBefore = (await ok(team.request('GET', '/api/v1/account-links'))).find((l: { id: string }) => l.id === thread.accountLinkId);
    await ok(team.request('PUT', `/api/v1/sandbox/profiles/${linkBefore.platformId}`, { accountStatus: 'suspended', username: linkBefore.username }));
    await fails(team.request('POST', `/api/v1/threads/${thread.id}/messages`, { content: 'hi' }), 409, 'ACCOUNT_LINK_OFFLINE');
    const links = await ok(team.request('GET', '/api/v1/account-links'));
    expect(links.find((l: { id: string }) => l.id === thread.accountLinkId).status).toBe('offline');
    await fails(team.request('POST', `/api/v1/threads/${thread.id}/messages`, { content: 'hi' }), 409, 'ACCOUNT_LINK_NOT_ACTIVE');
    expect((await events(team)).length).toBe(before + 3);
  });

  it('validates content and reply targets', async () => {
    const team = await newTeam();
    const { thread } = await conversation(team);
    const other = await conversation(team);
    const url = `/api/v1/threads/${thread.id}/messages`;
    for (const body of [{}, { content: '' }, { content: 'x'.repeat(10_001) }, { content: 5 }, { content: 'ok', replyToMessageId: 'Bad!' }]) {
      await fails(team.request('POST', url, body), 400, 'VALIDATION_ERROR');
    }
    await fails(team.request('POST', url, { content: 'ok', replyToMessageId: other.first.id }), 404, 'MESSAGE_NOT_FOUND');
    expect((await ok(team.request('POST', url, { content: 'x'.repeat(10_000) }))).content).toHaveLength(10_000);
    await fails(team.request('GET', `${url}?limit=500`), 400, 'VALIDATION_ERROR');
    await fails(team.request('POST', '/api/v1/threads/messages', { accountLinkId: thread.accountLinkId, content: 'no target' }), 400, 'VALIDATION_ERROR');
    await fails(team.request('DELETE', `${url}/${other.first.id}`, { deleteForAll: 'yes' }), 400, 'VALIDATION_ERROR');
    await fails(team.request('GET', `${url}/${other.first.id}/history`), 404, 'MESSAGE_NOT_FOUND');
  });
});

describe('ingestInboundMessage', () => {
  it('stores our own DMs as ours and each platform message once', async () => {
    const team = await newTeam();
    const ctx = await testContext();
    const { account, from, thread, first } = await conversation(team);
    const row = await getAccountLinkRow(ctx.db, team.teamId, account.id);

    // Sent from the native X app: ours, not a reply, and it answers the request.
    const native = await ingestInboundMessage(ctx, row, {
      platformMessageId: randomPlatformId(),
      senderPlatformId: account.platformId,
      recipientPlatformId: from,
      content: 'Sent from my phone',
      createdAt: new Date(),
    });
    expect(native).toMatchObject({ authorId: account.id, origin: 'external', userId: null, threadId: thread.id });
    const after = await ok(team.request('GET', `/api/v1/threads/${thread.id}`));
    expect(after).toMatchObject({ isRequest: false, variant: 'xChat', lastMessage: { authorId: account.id } });

    // The same platform message seen again by a sync is not stored twice.
    const again = await ingestInboundMessage(ctx, row, {
      platformMessageId: first.platformId,
      senderPlatformId: from,
      recipientPlatformId: account.platformId,
      content: first.content,
      createdAt: new Date(first.createdAt),
    });
    expect(again.id).toBe(first.id);
    expect((await ok(team.request('GET', `/api/v1/threads/${thread.id}/messages`))).messages).toHaveLength(2);
    expect((await eventTypes(team)).filter((t) => t === 'message.created')).toHaveLength(2);
  });

  it('re-opens an archived thread when the prospect writes again', async () => {
    const team = await newTeam();
    const { account, from, thread } = await conversation(team);
    await ok(team.request('PATCH', `/api/v1/threads/${thread.id}`, { done: true }));
    await inbound(team, account.id, from, 'Still there?');
    expect((await ok(team.request('GET', `/api/v1/threads/${thread.id}`))).done).toBe(false);
    expect((await eventTypes(team)).slice(-3)).toEqual(['thread.archived', 'thread.unarchived', 'message.created']);
  });
});
