import { describe, expect, it } from 'vitest';
import { prefixQuery } from '../src/app/inbox/threads.js';
import { newTeam, type TeamClient } from './helpers/app.js';
import { expectContract } from './helpers/contract.js';
import { eventTypes, fails, inbound, linkAccount, ok, randomPlatformId, randomUsername } from './helpers/sandbox.js';

const ids = (page: { threads: Array<{ id: string }> }) => page.threads.map((t) => t.id);
const list = (team: TeamClient, query: string) => ok(team.request('GET', `/api/v1/threads?${query}`));

/** A sandbox user with this name and username DMs the account; returns the thread. */
async function dmFrom(team: TeamClient, accountLinkId: string, profile: { username: string; displayName: string }, content: string) {
  const from = randomPlatformId();
  await ok(team.request('PUT', `/api/v1/sandbox/profiles/${from}`, profile));
  const first = await inbound(team, accountLinkId, from, content);
  return ok(team.request('GET', `/api/v1/threads/${first.threadId}`));
}

describe('unread threads', () => {
  it('an inbound DM makes a thread unread; PATCH marks it read and unread again without events; our reply changes nothing', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const thread = await dmFrom(team, account.id, { username: randomUsername('lead'), displayName: 'Lead One' }, 'Hi there');
    expectContract('GET', '/threads/{threadId}', thread);
    expect(thread.unread).toBe(true);

    const eventsBefore = await eventTypes(team);
    const read = await ok(team.request('PATCH', `/api/v1/threads/${thread.id}`, { unread: false }));
    expectContract('PATCH', '/threads/{threadId}', read);
    expect(read).toMatchObject({ id: thread.id, unread: false, done: false });
    expect(await eventTypes(team)).toEqual(eventsBefore);

    await ok(team.request('POST', `/api/v1/threads/${thread.id}/messages`, { content: 'Our reply' }));
    expect((await ok(team.request('GET', `/api/v1/threads/${thread.id}`))).unread).toBe(false);

    const unread = await ok(team.request('PATCH', `/api/v1/threads/${thread.id}`, { unread: true }));
    expect(unread.unread).toBe(true);
    const both = await ok(team.request('PATCH', `/api/v1/threads/${thread.id}`, { unread: false, done: true }));
    expect(both).toMatchObject({ unread: false, done: true });
    expect((await eventTypes(team)).slice(eventsBefore.length)).toEqual(['message.created', 'thread.archived']);

    // The prospect writes again: unread, and back in the inbox.
    await inbound(team, account.id, thread.prospect.platformId, 'Any news?');
    expect(await ok(team.request('GET', `/api/v1/threads/${thread.id}`))).toMatchObject({ unread: true, done: false });
    await fails(team.request('PATCH', `/api/v1/threads/${thread.id}`, { unread: 'yes' }), 400, 'VALIDATION_ERROR');
  });

  it('filters the list by unread, with the other filters and the cursor', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const threads = [];
    for (let i = 0; i < 3; i++) threads.push(await dmFrom(team, account.id, { username: randomUsername('f'), displayName: `Filter ${i}` }, `message ${i}`));
    await ok(team.request('PATCH', `/api/v1/threads/${threads[1].id}`, { unread: false }));

    const unread = await list(team, 'inbox=requests&unread=true');
    expectContract('GET', '/threads', unread);
    expect(ids(unread)).toEqual([threads[2].id, threads[0].id]);
    expect(ids(await list(team, 'inbox=requests&unread=false'))).toEqual([threads[1].id]);
    expect(ids(await list(team, 'inbox=requests'))).toHaveLength(3);

    const first = await list(team, 'inbox=requests&unread=true&limit=1');
    expect(ids(first)).toEqual([threads[2].id]);
    const { id, timestamp } = first.nextCursor;
    expect(ids(await list(team, `inbox=requests&unread=true&limit=1&cursorId=${id}&cursorTimestamp=${encodeURIComponent(timestamp)}`))).toEqual([threads[0].id]);
    await fails(team.request('GET', '/api/v1/threads?unread=maybe'), 400, 'VALIDATION_ERROR');
  });
});

describe('thread search', () => {
  it('finds threads by name, username prefix and message text, within the team, combined with filters', async () => {
    const team = await newTeam();
    const other = await newTeam();
    const account = await linkAccount(team);
    const otherAccount = await linkAccount(other);
    const tag = randomUsername('z');
    const ada = await dmFrom(team, account.id, { username: `ada_${tag}`, displayName: 'Ada Lovelace' }, 'About the analytical engine');
    const bob = await dmFrom(team, account.id, { username: `bob_${tag}`, displayName: 'Bob Builder' }, `Can we fix it? Quote ${tag}-77`);
    const elsewhere = await dmFrom(other, otherAccount.id, { username: `ada_${tag}x`, displayName: 'Ada Elsewhere' }, 'analytical engine too');

    const search = (q: string, extra = '') => list(team, `inbox=requests&q=${encodeURIComponent(q)}${extra}`);
    const byName = await search('lovelace');
    expectContract('GET', '/threads', byName);
    expect(ids(byName)).toEqual([ada.id]);
    expect(ids(await search('Ada Love'))).toEqual([ada.id]);
    expect(ids(await search(`bob_${tag.slice(0, 4)}`))).toEqual([bob.id]);
    expect(ids(await search(`@${tag}`))).toEqual([bob.id, ada.id]);
    expect(ids(await search('analyt'))).toEqual([ada.id]);
    expect(ids(await search(`quote ${tag}`))).toEqual([bob.id]);
    expect(ids(await search('nothing-like-this'))).toEqual([]);
    expect(ids(await search("'):* | !"))).toEqual([]);
    expect(ids(await list(other, `inbox=requests&q=ada`))).toEqual([elsewhere.id]);

    // With a filter and the cursor.
    await ok(team.request('PATCH', `/api/v1/threads/${bob.id}`, { unread: false }));
    expect(ids(await search(tag, '&unread=true'))).toEqual([ada.id]);
    expect(ids(await search(tag, '&unread=false'))).toEqual([bob.id]);
    const first = await search(tag, '&limit=1');
    expect(ids(first)).toEqual([bob.id]);
    const { id, timestamp } = first.nextCursor;
    expect(ids(await search(tag, `&limit=1&cursorId=${id}&cursorTimestamp=${encodeURIComponent(timestamp)}`))).toEqual([ada.id]);

    // Blank is no search; over 200 characters is refused.
    expect(ids(await search('   '))).toHaveLength(2);
    const tooLong = await fails(team.request('GET', `/api/v1/threads?q=${'a'.repeat(201)}`), 400, 'VALIDATION_ERROR');
    expect(JSON.stringify(tooLong.details)).toContain('q');
  });

  it('builds a prefix tsquery from letters and digits only', () => {
    expect(prefixQuery("Ada  O'Brien-x @bob_42")).toBe("'ada':* & 'o':* & 'brien':* & 'x':* & 'bob':* & '42':*");
    expect(prefixQuery(' !&|: ')).toBeNull();
  });
});
