import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/http/server.js';
import { newTeam, testApp, testContext } from './helpers/app.js';
import { coveredV2, expectV2, expectV2Contract, expectV2Error as expectError, v2Operations } from './helpers/contract-v2.js';
import { inbound, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';

/**
 * API v2 walked in a realistic scenario beside v1, on the same store: every answer, success or error, is checked
 * against the schema the vendor's v2 document gives its operation for its status (test/helpers/contract-v2.ts).
 */

describe('API v2 beside v1', () => {
  it('walks team, platforms, members and account links', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);

    const platforms = await expectV2(team, 'GET', '/platforms', '/platforms', 200);
    expect(platforms.map((p: any) => p.platform)).toEqual(['twitter', 'sandbox']);
    const [x, sandbox] = platforms;
    expect(sandbox.capabilities).toHaveLength(23);
    expect(x.capabilities).toEqual(['message:send', 'message:delete:self', 'media:image', 'media:video', 'media:gif']);

    const shown = await expectV2(team, 'GET', '/team', '/team', 200);
    expect(shown.id).toBe(team.teamId);

    const members = await expectV2(team, 'GET', '/members', '/members', 200);
    expect(members.data.map((m: any) => m.id)).toEqual([team.ownerMemberId]);
    expect(members.nextCursor).toBeNull();
    await expectV2(team, 'GET', `/members/${team.ownerMemberId}`, '/members/{memberId}', 200);
    await expectError(team, 'GET', '/members/nosuchmember', '/members/{memberId}', 404, 'memberNotFound');
    await expectError(team, 'GET', '/members/NOT-AN-ID', '/members/{memberId}', 400, 'invalidRequest');
    await expectError(team, 'GET', '/members?limit=0', '/members', 400, 'invalidRequest');
    await expectError(team, 'GET', '/members?cursor=bogus', '/members', 400, 'invalidCursor');

    const second = await linkAccount(team);
    const links = await expectV2(team, 'GET', '/account-links?platform=sandbox&status=active&limit=1', '/account-links', 200);
    expect(links.data.map((l: any) => l.id)).toEqual([account.id]);
    expect(links.data[0].capabilities).toEqual(sandbox.capabilities);
    const rest = await expectV2(team, 'GET', `/account-links?platform=sandbox&status=active&limit=1&cursor=${links.nextCursor}`, '/account-links', 200);
    expect(rest.data.map((l: any) => l.id)).toEqual([second.id]);
    expect(rest.nextCursor).toBeNull();
    // A cursor is valid only with the filters it was issued for.
    await expectError(team, 'GET', `/account-links?platform=sandbox&limit=1&cursor=${links.nextCursor}`, '/account-links', 400, 'invalidCursor');
    const tampered = `${links.nextCursor.slice(0, -2)}${links.nextCursor.endsWith('AA') ? 'BB' : 'AA'}`;
    await expectError(team, 'GET', `/account-links?platform=sandbox&status=active&cursor=${tampered}`, '/account-links', 400, 'invalidCursor');
    await expectError(team, 'GET', '/account-links?platform=linkedin', '/account-links', 403, 'platformNotAvailable');
    await expectError(team, 'GET', '/account-links?status[]=active', '/account-links', 400, 'invalidRequest');
    await expectV2(team, 'GET', `/account-links/${account.id}`, '/account-links/{accountLinkId}', 200);
    await expectError(team, 'GET', '/account-links/nosuchlink', '/account-links/{accountLinkId}', 404, 'accountLinkNotFound');

    // Another team's resources are missing ones.
    const other = await newTeam();
    await expectError(other, 'GET', `/account-links/${account.id}`, '/account-links/{accountLinkId}', 404, 'accountLinkNotFound');
    await expectError(other, 'GET', `/members/${team.ownerMemberId}`, '/members/{memberId}', 404, 'memberNotFound');
  });

  it('manages tags and statuses by reference, the same ones v1 sees', async () => {
    const team = await newTeam();
    const hot = await expectV2(team, 'POST', '/tags', '/tags', 201, { name: 'Café', color: 'blue' });
    expect(hot.color).toBe('#3b82f6');
    const plain = await expectV2(team, 'POST', '/tags', '/tags', 201, { name: 'Another' });
    expect(plain.color).toMatch(/^#[0-9a-f]{6}$/);
    const taken = await expectError(team, 'POST', '/tags', '/tags', 409, 'nameTaken', { name: 'cafe' });
    expect(taken.details).toEqual({ name: 'cafe' });
    await expectError(team, 'POST', '/tags', '/tags', 400, 'invalidRequest', { name: '' });
    await expectError(team, 'POST', '/tags', '/tags', 400, 'invalidRequest', { name: 'x', color: 'no-such-color' });

    const listed = await expectV2(team, 'GET', '/tags', '/tags', 200);
    expect(listed.data.map((t: any) => t.name)).toEqual(['Another', 'Café']);
    expect((await expectV2(team, 'GET', '/tags/CAFE', '/tags/{tagRef}', 200)).id).toBe(hot.id);
    expect((await expectV2(team, 'GET', `/tags/${hot.id}`, '/tags/{tagRef}', 200)).id).toBe(hot.id);
    await expectError(team, 'GET', '/tags/nothing', '/tags/{tagRef}', 404, 'tagNotFound');
    const renamed = await expectV2(team, 'PATCH', '/tags/café', '/tags/{tagRef}', 200, { name: 'Hot', color: '#EF4444' });
    expect(renamed).toEqual({ id: hot.id, name: 'Hot', color: '#ef4444' });
    await expectError(team, 'PATCH', '/tags/hot', '/tags/{tagRef}', 409, 'nameTaken', { name: 'another' });
    await expectError(team, 'PATCH', '/tags/nothing', '/tags/{tagRef}', 404, 'tagNotFound', { name: 'x' });
    // One store: v1 shows the tag v2 made.
    expect((await ok(team.request('GET', `/api/v1/tags/${hot.id}`))).name).toBe('Hot');

    const lead = await expectV2(team, 'POST', '/statuses', '/statuses', 201, { name: 'Lead' });
    expect(lead.color).toBeNull();
    await expectV2(team, 'POST', '/statuses', '/statuses', 201, { name: 'Won', color: 'green' });
    await expectError(team, 'POST', '/statuses', '/statuses', 409, 'nameTaken', { name: 'LEAD' });
    const statuses = await expectV2(team, 'GET', '/statuses', '/statuses', 200);
    expect(statuses.data.map((s: any) => s.name)).toEqual(['Lead', 'Won']);
    await expectV2(team, 'GET', '/statuses/lead', '/statuses/{statusRef}', 200);
    await expectError(team, 'GET', '/statuses/none', '/statuses/{statusRef}', 404, 'statusNotFound');
    await expectV2(team, 'PATCH', '/statuses/won', '/statuses/{statusRef}', 200, { color: null });
    await expectError(team, 'PATCH', '/statuses/won', '/statuses/{statusRef}', 409, 'nameTaken', { name: 'lead' });
    await expectError(team, 'PATCH', '/statuses/none', '/statuses/{statusRef}', 404, 'statusNotFound', {});
    await expectV2(team, 'DELETE', '/statuses/won', '/statuses/{statusRef}', 204);
    await expectError(team, 'DELETE', '/statuses/won', '/statuses/{statusRef}', 404, 'statusNotFound');
    await expectV2(team, 'DELETE', '/tags/another', '/tags/{tagRef}', 204);
    await expectError(team, 'DELETE', '/tags/another', '/tags/{tagRef}', 404, 'tagNotFound');

    const colors = await expectV2(team, 'GET', '/colors', '/colors', 200);
    expect(colors.find((c: any) => c.name === 'blue').hex).toBe('#3b82f6');
  });

  it('finds contacts by platform identity without creating any, and changes their CRM state', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const from = randomPlatformId();
    await inbound(team, account.id, from, 'Hi there');
    const tag = await expectV2(team, 'POST', '/tags', '/tags', 201, { name: 'Hot' });
    await expectV2(team, 'POST', '/statuses', '/statuses', 201, { name: 'Qualified' });

    const found = await expectV2(team, 'GET', `/contacts?platform=sandbox&platformId=${from}`, '/contacts', 200);
    expect(found.data).toHaveLength(1);
    const contact = found.data[0];
    expect(contact.profiles).toHaveLength(1);
    expect(contact.profiles[0]).toMatchObject({ platform: 'sandbox', platformId: from, username: `user${from}` });
    expect(contact.profiles[0].id).not.toBe(contact.id);
    const byName = await expectV2(team, 'GET', `/contacts?platform=sandbox&username=USER${from}`, '/contacts', 200);
    expect(byName.data.map((c: any) => c.id)).toEqual([contact.id]);

    // Reads never create a contact: a sandbox user no one talked to is an empty page, and stays unknown to v1.
    const stranger = randomPlatformId();
    expect((await expectV2(team, 'GET', `/contacts?platform=sandbox&platformId=${stranger}`, '/contacts', 200)).data).toEqual([]);
    expect(await ok(team.request('GET', `/api/v1/prospects/lookup?platformId=${stranger}`))).toBeNull();
    await expectError(team, 'GET', '/contacts?platform=sandbox', '/contacts', 400, 'invalidRequest');
    await expectError(team, 'GET', `/contacts?platform=sandbox&platformId=${from}&username=x`, '/contacts', 400, 'invalidRequest');
    await expectError(team, 'GET', `/contacts?platform=myspace&platformId=${from}`, '/contacts', 403, 'platformNotAvailable');
    await expectError(team, 'GET', `/contacts?platform=sandbox&platformId[]=${from}`, '/contacts', 400, 'invalidRequest');

    const patched = await expectV2(team, 'PATCH', `/contacts/${contact.id}`, '/contacts/{contactId}', 200, {
      status: 'qualified',
      notes: 'Asked for a demo',
      valuation: 1200,
      assigneeId: team.ownerMemberId,
    });
    expect(patched).toMatchObject({ notes: 'Asked for a demo', valuation: 1200, assigneeId: team.ownerMemberId });
    await expectError(team, 'PATCH', `/contacts/${contact.id}`, '/contacts/{contactId}', 400, 'invalidRequest', { status: 'No such stage' });
    await expectError(team, 'PATCH', `/contacts/${contact.id}`, '/contacts/{contactId}', 400, 'invalidRequest', { assigneeId: 'nosuchmember' });
    await expectError(team, 'PATCH', `/contacts/${contact.id}`, '/contacts/{contactId}', 400, 'invalidRequest', { unknownField: 1 });
    await expectError(team, 'PATCH', '/contacts/nosuchcontact', '/contacts/{contactId}', 404, 'contactNotFound', { notes: null });

    await expectV2(team, 'PUT', `/contacts/${contact.id}/tags/HOT`, '/contacts/{contactId}/tags/{tagRef}', 204);
    await expectV2(team, 'PUT', `/contacts/${contact.id}/tags/${tag.id}`, '/contacts/{contactId}/tags/{tagRef}', 204);
    await expectError(team, 'PUT', `/contacts/${contact.id}/tags/nothing`, '/contacts/{contactId}/tags/{tagRef}', 404, 'tagNotFound');
    await expectError(team, 'PUT', '/contacts/nosuchcontact/tags/hot', '/contacts/{contactId}/tags/{tagRef}', 404, 'contactNotFound');
    const expandedContact = await expectV2(team, 'GET', `/contacts/${contact.id}?expand=status&expand=tags&expand=assignee`, '/contacts/{contactId}', 200);
    expect(expandedContact.tagIds).toEqual([tag.id]);
    expect(expandedContact.tags.map((t: any) => t.name)).toEqual(['Hot']);
    expect(expandedContact.status.name).toBe('Qualified');
    expect(expandedContact.assignee.id).toBe(team.ownerMemberId);
    // One store, one set of CRM fields: v1 sees the same prospect context.
    const prospect = await ok(team.request('GET', `/api/v1/prospects/${contact.id}`));
    expect(prospect.context).toMatchObject({ tags: [tag.id], notes: 'Asked for a demo', valuation: 1200, assigneeId: team.ownerMemberId });
    await expectV2(team, 'DELETE', `/contacts/${contact.id}/tags/hot`, '/contacts/{contactId}/tags/{tagRef}', 204);
    await expectV2(team, 'DELETE', `/contacts/${contact.id}/tags/hot`, '/contacts/{contactId}/tags/{tagRef}', 204);
    await expectError(team, 'DELETE', `/contacts/${contact.id}/tags/nothing`, '/contacts/{contactId}/tags/{tagRef}', 404, 'tagNotFound');
    expect((await expectV2(team, 'GET', `/contacts/${contact.id}`, '/contacts/{contactId}', 200)).tagIds).toEqual([]);
    await expectError(team, 'GET', '/contacts/nosuchcontact', '/contacts/{contactId}', 404, 'contactNotFound');
    await expectError(team, 'GET', `/contacts/${contact.id}?expand=profiles`, '/contacts/{contactId}', 400, 'invalidRequest');
    const other = await newTeam();
    await expectError(other, 'GET', `/contacts/${contact.id}`, '/contacts/{contactId}', 404, 'contactNotFound');
    expect((await expectV2(other, 'GET', `/contacts?platform=sandbox&platformId=${from}`, '/contacts', 200)).data).toEqual([]);
  });

  it('lists, filters, pages, changes and deletes threads; reads their messages', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const people = [randomPlatformId(), randomPlatformId(), randomPlatformId()];
    const firsts = [];
    for (const [i, person] of people.entries()) firsts.push(await inbound(team, account.id, person, `Hello number ${i} about pricing`));
    const [a, b, c] = firsts.map((f) => f.threadId as string);
    const tag = await expectV2(team, 'POST', '/tags', '/tags', 201, { name: 'Priority' });
    const contactOfB = (await expectV2(team, 'GET', `/contacts?platform=sandbox&platformId=${people[1]}`, '/contacts', 200)).data[0];
    await expectV2(team, 'PUT', `/contacts/${contactOfB.id}/tags/priority`, '/contacts/{contactId}/tags/{tagRef}', 204);
    const reply = await ok(team.request('POST', `/api/v1/threads/${a}/messages`, { content: 'Thanks for writing' }));
    const answer = await inbound(team, account.id, people[0]!, 'Great, send the deck');

    const all = await expectV2(team, 'GET', '/threads?folder=all', '/threads', 200);
    expect(all.data.map((t: any) => t.id)).toEqual([a, c, b]);
    const threadA = all.data[0];
    expect(threadA).toMatchObject({ accountLinkId: account.id, archived: false, isRequest: false, lastMessage: { id: answer.id, direction: 'inbound' }, activity: { preview: 'Great, send the deck', direction: 'inbound' } });
    // A conversation they started is a request until we answer; noReply is the inbox threads whose last message is theirs.
    expect((await expectV2(team, 'GET', '/threads?folder=requests', '/threads', 200)).data.map((t: any) => t.id)).toEqual([c, b]);
    expect((await expectV2(team, 'GET', '/threads?folder=noReply', '/threads', 200)).data.map((t: any) => t.id)).toEqual([a]);
    expect((await expectV2(team, 'GET', '/threads', '/threads', 200)).data.map((t: any) => t.id)).toEqual([a]);
    expect((await expectV2(team, 'GET', '/threads?folder=all&tag=PRIORITY', '/threads', 200)).data.map((t: any) => t.id)).toEqual([b]);
    expect((await expectV2(team, 'GET', `/threads?folder=all&tag=${tag.id}&tag=nothing`, '/threads', 200)).data.map((t: any) => t.id)).toEqual([b]);
    expect((await expectV2(team, 'GET', '/threads?tag=nothing', '/threads', 200)).data).toEqual([]);
    expect((await expectV2(team, 'GET', `/threads?folder=all&contactId=${contactOfB.id}&accountLinkId=${account.id}`, '/threads', 200)).data.map((t: any) => t.id)).toEqual([b]);
    expect((await expectV2(team, 'GET', '/threads?folder=all&q=pricing&order=asc', '/threads', 200)).data.map((t: any) => t.id)).toEqual([b, c, a]);
    expect((await expectV2(team, 'GET', '/threads?platform=twitter', '/threads', 200)).data).toEqual([]);
    expect((await expectV2(team, 'GET', '/threads?folder=all&unassigned=true', '/threads', 200)).data).toHaveLength(3);
    await expectError(team, 'GET', `/threads?unassigned=true&assigneeId=${team.ownerMemberId}`, '/threads', 400, 'invalidRequest');
    await expectError(team, 'GET', '/threads?platform=icq', '/threads', 403, 'platformNotAvailable');
    await expectError(team, 'GET', '/threads?tag[]=priority', '/threads', 400, 'invalidRequest');
    await expectError(team, 'GET', '/threads?folder=spam', '/threads', 400, 'invalidRequest');
    await expectError(team, 'GET', '/threads?limit=101', '/threads', 400, 'invalidRequest');
    await expectError(team, 'GET', '/threads?expand=profile&expand=contact&expand=accountLink&expand=assignee&expand=profile', '/threads', 400, 'invalidRequest');

    const expanded = await expectV2(team, 'GET', '/threads?folder=all&expand=profile&expand=contact&expand=accountLink&limit=1', '/threads', 200);
    expect(expanded.data[0].profile.id).toBe(expanded.data[0].profileId);
    expect(expanded.data[0].contact.id).toBe(expanded.data[0].contactId);
    expect(expanded.data[0].accountLink.id).toBe(account.id);
    const page2 = await expectV2(team, 'GET', `/threads?folder=all&limit=1&cursor=${expanded.nextCursor}`, '/threads', 200);
    const page3 = await expectV2(team, 'GET', `/threads?folder=all&limit=1&cursor=${page2.nextCursor}`, '/threads', 200);
    expect([...expanded.data, ...page2.data, ...page3.data].map((t: any) => t.id)).toEqual([a, c, b]);
    expect(page3.nextCursor).toBeNull();
    await expectError(team, 'GET', `/threads?folder=inbox&limit=1&cursor=${expanded.nextCursor}`, '/threads', 400, 'invalidCursor');
    await expectError(team, 'GET', `/threads?folder=all&cursor=${expanded.nextCursor}x`, '/threads', 400, 'invalidCursor');

    await expectV2(team, 'GET', `/threads/${b}?expand=assignee`, '/threads/{threadId}', 200);
    await expectError(team, 'GET', '/threads/nosuchthread', '/threads/{threadId}', 404, 'threadNotFound');
    const archived = await expectV2(team, 'PATCH', `/threads/${b}`, '/threads/{threadId}', 200, { archived: true, unread: true, assigneeId: team.ownerMemberId, typingIndicators: 'disabled' });
    expect(archived).toMatchObject({ archived: true, unread: true, assigneeId: team.ownerMemberId, typingIndicators: 'disabled' });
    expect((await expectV2(team, 'GET', '/threads?folder=archived', '/threads', 200)).data.map((t: any) => t.id)).toEqual([b]);
    expect((await expectV2(team, 'GET', `/threads?folder=all&assigneeId=${team.ownerMemberId}`, '/threads', 200)).data.map((t: any) => t.id)).toEqual([b]);
    expect((await expectV2(team, 'GET', '/threads?folder=all&unread=true', '/threads', 200)).data.map((t: any) => t.id)).toContain(b);
    await expectError(team, 'PATCH', `/threads/${b}`, '/threads/{threadId}', 400, 'invalidRequest', { assigneeId: 'nosuchmember' });
    await expectError(team, 'PATCH', `/threads/${b}`, '/threads/{threadId}', 400, 'invalidRequest', { done: true });
    await expectError(team, 'PATCH', '/threads/nosuchthread', '/threads/{threadId}', 404, 'threadNotFound', {});
    // v1 sees the same thread change.
    expect((await ok(team.request('GET', `/api/v1/threads/${b}`))).done).toBe(true);

    const messages = await expectV2(team, 'GET', `/threads/${a}/messages`, '/threads/{threadId}/messages', 200);
    expect(messages.data.map((m: any) => [m.direction, m.content])).toEqual([
      ['inbound', 'Great, send the deck'],
      ['outbound', 'Thanks for writing'],
      ['inbound', 'Hello number 0 about pricing'],
    ]);
    expect(messages.data[1].sentBy).toEqual({ type: 'member', memberId: team.ownerMemberId });
    expect(messages.data[0].sentBy).toBeNull();
    const oldest = await expectV2(team, 'GET', `/threads/${a}/messages?order=asc&limit=1`, '/threads/{threadId}/messages', 200);
    expect(oldest.data[0].direction).toBe('inbound');
    const newer = await expectV2(team, 'GET', `/threads/${a}/messages?order=asc&limit=1&cursor=${oldest.nextCursor}`, '/threads/{threadId}/messages', 200);
    expect(newer.data[0].id).toBe(reply.id);
    expect(newer.nextCursor).not.toBeNull();
    await expectError(team, 'GET', `/threads/${a}/messages?cursor=${oldest.nextCursor}`, '/threads/{threadId}/messages', 400, 'invalidCursor');
    await expectError(team, 'GET', '/threads/nosuchthread/messages', '/threads/{threadId}/messages', 404, 'threadNotFound');
    const message = await expectV2(team, 'GET', `/messages/${reply.id}?expand=thread&expand=accountLink&expand=sentBy`, '/messages/{messageId}', 200);
    expect(message).toMatchObject({ id: reply.id, threadId: a, thread: { id: a }, accountLink: { id: account.id }, sentBy: { member: { id: team.ownerMemberId } } });
    await expectError(team, 'GET', '/messages/nosuchmessage', '/messages/{messageId}', 404, 'messageNotFound');

    expect(await expectV2(team, 'DELETE', `/threads/${c}`, '/threads/{threadId}', 200)).toEqual({ scope: 'local' });
    await expectError(team, 'DELETE', `/threads/${c}`, '/threads/{threadId}', 404, 'threadNotFound');
    await expectError(team, 'GET', `/threads/${c}`, '/threads/{threadId}', 404, 'threadNotFound');
    const other = await newTeam();
    await expectError(other, 'GET', `/threads/${a}`, '/threads/{threadId}', 404, 'threadNotFound');
    await expectError(other, 'GET', `/messages/${reply.id}`, '/messages/{messageId}', 404, 'messageNotFound');
  });

  it('sends to a thread, a contact and a profile, into the threads v1 sees (the Idempotency-Key: api-v2-send.test.ts)', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const from = randomPlatformId();
    const first = await inbound(team, account.id, from, 'Can you send the deck?');
    const contact = (await expectV2(team, 'GET', `/contacts?platform=sandbox&platformId=${from}`, '/contacts', 200)).data[0];
    const sent = await expectV2(team, 'POST', '/messages', '/messages', 201, { target: { type: 'thread', threadId: first.threadId }, content: 'Here it is', replyToMessageId: first.id });
    expect(sent.message).toMatchObject({ threadId: first.threadId, direction: 'outbound', replyTo: { messageId: first.id } });
    expect(sent.thread).toMatchObject({ id: first.threadId, contactId: contact.id, lastMessage: { id: sent.message.id } });
    const toContact = await expectV2(team, 'POST', '/messages', '/messages', 201, { target: { type: 'contact', accountLinkId: account.id, contactId: contact.id }, content: 'And the pricing' });
    expect(toContact.thread.id).toBe(first.threadId);
    const stranger = randomPlatformId();
    const toProfile = await expectV2(team, 'POST', '/messages', '/messages', 201, { target: { type: 'profile', accountLinkId: account.id, platform: 'sandbox', platformId: stranger }, content: 'Hello there' });
    expect(toProfile.thread.contactId).not.toBe(contact.id);
    // Media with the text (our extension of the send), and the text's entities, on the vendor's Message.
    const withMedia = await expectV2(team, 'POST', '/messages', '/messages', 201, {
      target: { type: 'thread', threadId: first.threadId },
      content: 'And the pricing for @jane: https://example.com/pricing. #launch $ACME',
      attachments: [{ kind: 'image', url: 'https://cdn.example.com/pricing.png', contentType: 'image/png' }],
    });
    expect(withMedia.message.attachments).toMatchObject([{ index: 0, kind: 'image', status: 'ready', url: 'https://cdn.example.com/pricing.png', filename: 'pricing.png' }]);
    expect(withMedia.message.entities).toEqual({
      urls: [{ url: 'https://example.com/pricing', displayUrl: 'example.com/pricing', indices: { start: 27, end: 54 } }],
      postShares: [],
      mentions: [{ username: 'jane', displayName: null, platformId: null, indices: { start: 20, end: 25 } }],
      hashtags: [{ tag: 'launch', indices: { start: 56, end: 63 } }],
      cashtags: [{ symbol: 'ACME', indices: { start: 64, end: 69 } }],
      format: [],
    });
    const listed = await expectV2(team, 'GET', `/threads/${first.threadId}/messages?limit=1`, '/threads/{threadId}/messages', 200);
    expect(listed.data[0]).toMatchObject({ id: withMedia.message.id, entities: withMedia.message.entities, attachments: withMedia.message.attachments });
    const v1 = await ok(team.request('GET', `/api/v1/threads/${first.threadId}/messages`));
    expect(v1.messages.map((m: any) => m.content)).toEqual([withMedia.message.content, 'And the pricing', 'Here it is', 'Can you send the deck?']);
    await expectError(team, 'POST', '/messages', '/messages', 404, 'threadNotFound', { target: { type: 'thread', threadId: 'nosuchthread' }, content: 'x' });
    await expectError(team, 'POST', '/messages', '/messages', 404, 'contactNotFound', { target: { type: 'contact', accountLinkId: account.id, contactId: 'nosuchcontact' }, content: 'x' });
    await expectError(team, 'POST', '/messages', '/messages', 422, 'platformNotSupported', { target: { type: 'profile', accountLinkId: account.id, platform: 'twitter', platformId: stranger }, content: 'x' });
    await expectError(team, 'POST', '/messages', '/messages', 400, 'invalidRequest', { target: { type: 'thread', threadId: first.threadId }, text: 'x' });
    await expectError(team, 'POST', '/messages', '/messages', 422, 'contentRejected', { target: { type: 'thread', threadId: first.threadId }, content: 'x', attachments: Array(5).fill({ kind: 'file', url: 'https://cdn.example.com/a.pdf' }) });
    const other = await newTeam();
    await expectError(other, 'POST', '/messages', '/messages', 404, 'threadNotFound', { target: { type: 'thread', threadId: first.threadId }, content: 'x' });
  });

  it('replays the one event log with v2 names and thin payloads, at v1 sequence numbers', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const from = randomPlatformId();
    const first = await inbound(team, account.id, from, 'Hey');
    await ok(team.request('POST', `/api/v1/threads/${first.threadId}/messages`, { content: 'Hello back' }));
    const tag = await expectV2(team, 'POST', '/tags', '/tags', 201, { name: 'Warm' });
    const contact = (await expectV2(team, 'GET', `/contacts?platform=sandbox&platformId=${from}`, '/contacts', 200)).data[0];
    await expectV2(team, 'PUT', `/contacts/${contact.id}/tags/warm`, '/contacts/{contactId}/tags/{tagRef}', 204);
    await expectV2(team, 'PATCH', `/contacts/${contact.id}`, '/contacts/{contactId}', 200, { notes: 'n' });
    await expectV2(team, 'PATCH', `/threads/${first.threadId}`, '/threads/{threadId}', 200, { archived: true });

    const v1 = await ok(team.request('GET', '/api/v1/events?limit=1000'));
    const page = await expectV2(team, 'GET', '/events', '/events', 200);
    expect(page.lastSeq).toBe(v1.lastSeq);
    expect(page.data.map((e: any) => e.type)).toEqual([
      'thread.created',
      'message.received',
      'message.sent',
      'tag.created',
      'contact.tagsChanged',
      'contact.notesChanged',
      'thread.archived',
    ]);
    const bySeq = new Map(v1.events.map((e: any) => [e.seq, e]));
    for (const event of page.data) expect((bySeq.get(event.seq) as any).id).toBe(event.id);
    expect(page.data.find((e: any) => e.type === 'contact.tagsChanged')).toMatchObject({ object: { type: 'contact', id: contact.id, url: `/contacts/${contact.id}` }, data: { tagIds: [tag.id] } });
    expect(page.data.find((e: any) => e.type === 'message.received').data).toEqual({ threadId: first.threadId });

    const filtered = await expectV2(team, 'GET', '/events?type=message.sent&type=thread.archived&limit=4', '/events', 200);
    expect(filtered.data.map((e: any) => e.type)).toEqual(['message.sent']);
    expect(filtered.hasMore).toBe(true);
    const next = await expectV2(team, 'GET', `/events?type=message.sent&type=thread.archived&afterSeq=${filtered.lastSeq}`, '/events', 200);
    expect(next.data.map((e: any) => e.type)).toEqual(['thread.archived']);
    await expectError(team, 'GET', '/events?type=prospect.created', '/events', 400, 'invalidRequest');
    await expectError(team, 'GET', '/events?limit=1001', '/events', 400, 'invalidRequest');
  });

  it('answers every refusal in the v2 envelope, while v1 keeps its own', async () => {
    const app = await testApp();
    const anonymous = await app.inject({ method: 'GET', url: '/api/v2/team' });
    expect(anonymous.statusCode).toBe(401);
    expectV2Contract('GET', '/team', 401, anonymous.json());
    expect(anonymous.json().requestId).toBe(anonymous.headers['x-request-id']);
    const v1 = await app.inject({ method: 'GET', url: '/api/v1/team' });
    expect(v1.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'Invalid or missing authentication token', status: 401 } });

    const team = await newTeam();
    const unknown = await team.request('GET', '/api/v2/nowhere');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'notFound', details: null });
    const wrongMethod = await team.request('POST', '/api/v2/team');
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD');
    const badEscape = await team.request('GET', '/api/v2/tags/%E0%A4%A');
    expect(badEscape.statusCode).toBe(400);
    expectV2Contract('GET', '/tags/{tagRef}', 400, badEscape.json());
    const longRef = await team.request('GET', `/api/v2/tags/${'a'.repeat(600)}`);
    expectV2Contract('GET', '/tags/{tagRef}', longRef.statusCode, longRef.json());
    const badJson = await team.request('POST', '/api/v2/tags', '{"name":');
    expect(badJson.statusCode).toBe(400);
    expectV2Contract('POST', '/tags', 400, badJson.json());
    const nul = await team.request('POST', '/api/v2/tags', { name: 'a\u0000b' });
    expectV2Contract('POST', '/tags', 400, nul.json());
    expect(nul.json().details.issues[0].path).toEqual(['name']);
  });
});

describe('API v2 rate limits', () => {
  let server: FastifyInstance | undefined;
  afterAll(() => server?.close());

  it('counts v1 and v2 requests against the same team limits', async () => {
    const ctx = await testContext({ env: { INBOX_RATE_LIMIT_PER_MINUTE: '3' } });
    server = await buildServer(ctx);
    await sharedStore();
    const team = await newTeam(server);
    expect((await team.request('GET', '/api/v1/team')).statusCode).toBe(200);
    expect((await team.request('GET', '/api/v2/team')).statusCode).toBe(200);
    const third = await team.request('GET', '/api/v1/team');
    expect(third.statusCode).toBe(200);
    const limited = await team.request('GET', '/api/v2/tags');
    expect(limited.statusCode).toBe(429);
    expectV2Contract('GET', '/tags', 429, limited.json());
    expect(limited.json().details).toMatchObject({ window: 'minute', limit: 3 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-ratelimit-limit']).toBe('3');
    const v1Limited = await team.request('GET', '/api/v1/team');
    expect(v1Limited.statusCode).toBe(429);
    expect(v1Limited.json().error.code).toBe('RATE_LIMITED');
  });
});

/** The v2 operations this file walks; test/api-v2-messages.test.ts walks the message changes, typing and attachments. */
const BUILT = [
  'GET /platforms', 'GET /team', 'GET /members', 'GET /members/{memberId}', 'GET /account-links', 'GET /account-links/{accountLinkId}',
  'GET /contacts', 'GET /contacts/{contactId}', 'PATCH /contacts/{contactId}', 'PUT /contacts/{contactId}/tags/{tagRef}', 'DELETE /contacts/{contactId}/tags/{tagRef}',
  'GET /threads', 'GET /threads/{threadId}', 'PATCH /threads/{threadId}', 'DELETE /threads/{threadId}', 'GET /threads/{threadId}/messages', 'GET /messages/{messageId}',
  'POST /messages',
  'GET /tags', 'POST /tags', 'GET /tags/{tagRef}', 'PATCH /tags/{tagRef}', 'DELETE /tags/{tagRef}',
  'GET /statuses', 'POST /statuses', 'GET /statuses/{statusRef}', 'PATCH /statuses/{statusRef}', 'DELETE /statuses/{statusRef}',
  'GET /colors', 'GET /events',
];

/** The operations test/api-v2-messages.test.ts walks (and checks it did, as this file does below). */
const WALKED_BY_MESSAGE_CHANGES = [
  'PATCH /messages/{messageId}', 'DELETE /messages/{messageId}', 'GET /messages/{messageId}/history', 'POST /messages/{messageId}/reactions',
  'DELETE /messages/{messageId}/reactions', 'GET /messages/{messageId}/attachments/{index}', 'POST /threads/{threadId}/typing',
];

describe('API v2 coverage', () => {
  it('walked and validated every operation of this file (run with the whole file)', () => {
    expect(BUILT.filter((operation) => !coveredV2.has(operation))).toEqual([]);
  });

  it('leaves no operation of the vendor document unwalked between this file and the message changes', () => {
    expect([...BUILT, ...WALKED_BY_MESSAGE_CHANGES].sort()).toEqual(v2Operations().sort());
  });
});
