import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { listThreadRows, threadPageQuery } from '../src/app/inbox/threads.js';
import { newTeam } from './helpers/app.js';
import { expectContract } from './helpers/contract.js';
import { conversation, eventTypes, events, fails, inbound, linkAccount, ok, randomPlatformId, xChat } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';

const ids = (page: { threads: Array<{ id: string }> }) => page.threads.map((t) => t.id);

describe('threads', () => {
  it('creates one thread per account and prospect, idempotently, and restores a deleted one', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const target = randomPlatformId();
    const created = await ok(team.request('POST', '/api/v1/threads', { accountLinkId: account.id, externalPlatformId: target }));
    expectContract('POST', '/threads', created);
    expect(created).toMatchObject({ lastMessage: null, lastMessageTimestamp: null, variant: 'unencrypted', isRequest: false });
    expect(created.computedSortTimestamp).toBe(created.createdAt);

    const again = await ok(team.request('POST', '/api/v1/threads', { accountLinkId: account.id, externalId: created.prospect.externalId }));
    expect(again.id).toBe(created.id);

    const lookup = await ok(team.request('GET', `/api/v1/threads/lookup?accountLinkId=${account.id}&externalPlatformId=${target}`));
    expectContract('GET', '/threads/lookup', lookup);
    expect(lookup.id).toBe(created.id);
    const missing = await ok(team.request('GET', `/api/v1/threads/lookup?accountLinkId=${account.id}&externalPlatformId=${randomPlatformId()}`));
    expect(missing).toBeNull();
    expectContract('GET', '/threads/lookup', missing);

    const byName = await ok(team.request('GET', `/api/v1/threads/lookup-by-username?username=user${target}`));
    expectContract('GET', '/threads/lookup-by-username', byName);
    expect(byName.map((t: { id: string }) => t.id)).toEqual([created.id]);
    expect(await ok(team.request('GET', `/api/v1/threads/lookup-by-username?username=user${target}&accountLinkIds[]=${created.prospect.externalId}`))).toEqual([]);

    const deleted = await team.request('DELETE', `/api/v1/threads/${created.id}`);
    expect(deleted.statusCode).toBe(200);
    expect(deleted.body).toBe('');
    await fails(team.request('GET', `/api/v1/threads/${created.id}`), 404, 'THREAD_NOT_FOUND');
    expect(await ok(team.request('GET', `/api/v1/threads/lookup?accountLinkId=${account.id}&externalPlatformId=${target}`))).toBeNull();

    const restored = await ok(team.request('POST', '/api/v1/threads', { accountLinkId: account.id, externalPlatformId: target }));
    expect(restored.id).toBe(created.id);
    expect(await eventTypes(team)).toEqual(['prospect.created', 'thread.created', 'thread.deleted', 'thread.created']);
  });

  it('marks done, assigns and unassigns with their events', async () => {
    const team = await newTeam();
    const { thread } = await conversation(team);
    const before = (await events(team)).length;
    const done = await ok(team.request('PATCH', `/api/v1/threads/${thread.id}`, { done: true, assigneeId: team.ownerMemberId }));
    expectContract('PATCH', '/threads/{threadId}', done);
    expect(done).toMatchObject({ done: true, assigneeId: team.ownerMemberId });
    expect(done.prospect.context.assigneeId).toBe(team.ownerMemberId);
    expect(ids(await ok(team.request('GET', '/api/v1/threads?inbox=archived')))).toEqual([thread.id]);

    const undone = await ok(team.request('PATCH', `/api/v1/threads/${thread.id}`, { done: false, assigneeId: null }));
    expect(undone).toMatchObject({ done: false, assigneeId: null });
    expect((await eventTypes(team)).slice(before)).toEqual([
      'thread.archived',
      'thread.assigned',
      'prospect.assigneeChanged',
      'thread.unarchived',
      'thread.unassigned',
      'prospect.assigneeChanged',
    ]);
    await fails(team.request('PATCH', `/api/v1/threads/${thread.id}`, { assigneeId: 'nosuchmember' }), 404, 'MEMBER_NOT_FOUND');
    // No-op patches change nothing and emit nothing.
    expect(await ok(team.request('PATCH', `/api/v1/threads/${thread.id}`, {}))).toMatchObject({ done: false });
    expect((await events(team)).length).toBe(before + 6);
  });

  it('typing indicators only in X Chat, and only when not disabled', async () => {
    const team = await newTeam();
    const { thread } = await conversation(team);
    const skipped = await ok(team.request('POST', `/api/v1/threads/${thread.id}/typing`, {}));
    expectContract('POST', '/threads/{threadId}/typing', skipped);
    expect(skipped).toEqual({ status: 'skipped', reason: 'unsupported' });
    await ok(team.request('POST', `/api/v1/threads/${thread.id}/messages`, { content: 'Now both have spoken' }));
    expect(await ok(team.request('POST', `/api/v1/threads/${thread.id}/typing`))).toEqual({ status: 'sent' });

    const settings = await ok(team.request('PATCH', `/api/v1/threads/${thread.id}/settings`, { typingIndicatorsEnabled: false }));
    expectContract('PATCH', '/threads/{threadId}/settings', settings);
    expect(settings).toEqual({ threadId: thread.id, typingIndicatorsEnabled: false });
    expect(await ok(team.request('POST', `/api/v1/threads/${thread.id}/typing`, {}))).toEqual({ status: 'skipped', reason: 'typingDisabled' });
    expect(await ok(team.request('PATCH', `/api/v1/threads/${thread.id}/settings`, { typingIndicatorsEnabled: null }))).toEqual({
      threadId: thread.id,
      typingIndicatorsEnabled: null,
    });
    expect((await ok(team.request('GET', `/api/v1/threads/${thread.id}`))).typingIndicatorsEnabled).toBeNull();
  });

  it('pages through the inbox by computedSortTimestamp in both orders, with each cursor spelling', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await conversation(team, account)).thread.id);
    const newestFirst = [...made].reverse();

    const walk = async (extra: string, spell: (c: { id: string; timestamp: string }) => string) => {
      const seen: string[] = [];
      let url = `/api/v1/threads?inbox=requests&limit=2${extra}`;
      for (;;) {
        const page = await ok(team.request('GET', url));
        expectContract('GET', '/threads', page);
        seen.push(...ids(page));
        if (!page.nextCursor) break;
        url = `/api/v1/threads?inbox=requests&limit=2${extra}&${spell(page.nextCursor)}`;
      }
      return seen;
    };
    const flat = (c: { id: string; timestamp: string }) => `cursorId=${c.id}&cursorTimestamp=${encodeURIComponent(c.timestamp)}`;
    const bracket = (c: { id: string; timestamp: string }) => `cursor[id]=${c.id}&cursor[timestamp]=${encodeURIComponent(c.timestamp)}`;
    expect(await walk('', flat)).toEqual(newestFirst);
    expect(await walk('&filters[sortOrder]=asc', bracket)).toEqual(made);
    expect(await walk(`&accountLinkIds[]=${account.id}`, flat)).toEqual(newestFirst);
    expect(ids(await ok(team.request('GET', `/api/v1/threads?inbox=requests&accountLinkIds=${made[0]}`)))).toEqual([]);
  });

  it('filters by tags, statuses, assignees and campaigns', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const [a, b, c] = [await conversation(team, account), await conversation(team, account), await conversation(team, account)];
    const tag = await ok(team.request('POST', '/api/v1/tags', { name: 'Hot' }));
    const status = await ok(team.request('POST', '/api/v1/statuses', { name: 'Qualified' }));
    await ok(team.request('PATCH', `/api/v1/prospects/${a.prospectId}/context`, { addTags: [tag.id], statusId: status.id }));
    await ok(team.request('PATCH', `/api/v1/prospects/${b.prospectId}/context`, { assigneeId: team.ownerMemberId }));
    const list = async (query: string) =>
      ids(await ok(team.request('GET', `/api/v1/threads?inbox=requests&filters[sortOrder]=asc&${query}`))).map((id) =>
        [a, b, c].findIndex((x) => x.thread.id === id),
      );
    expect(await list(`filters[tags][selectedIds][0]=${tag.id}`)).toEqual([0]);
    expect(await list('filters[tags][noTags]=true')).toEqual([1, 2]);
    expect(await list(`filters[tags][selectedIds][]=${tag.id}&filters[tags][noTags]=true`)).toEqual([0, 1, 2]);
    expect(await list('filters[tags][noTags]=false')).toEqual([0, 1, 2]);
    expect(await list(`filters[statuses][selectedIds]=${status.id}`)).toEqual([0]);
    expect(await list('filters[statuses][noStatus]=true')).toEqual([1, 2]);
    expect(await list(`filters[assignees][selectedIds]=${team.ownerMemberId}`)).toEqual([1]);
    expect(await list('filters[assignees][noAssignee]=true')).toEqual([0, 2]);
    expect(await list(`filters[statuses][noStatus]=true&filters[assignees][noAssignee]=true`)).toEqual([2]);
    expect(await list('filters[campaigns][noCampaign]=true')).toEqual([0, 1, 2]);
    expect(await list('filters[campaigns][selectedIds]=somecampaign')).toEqual([]);
  });

  it('keeps views apart: default, no-reply, requests, archived', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const request = await conversation(team, account);
    const answered = await xChat(team, account);
    const theirTurn = await xChat(team, account);
    await inbound(team, account.id, theirTurn.from, 'And another thing');
    const view = async (inbox: string) => ids(await ok(team.request('GET', `/api/v1/threads?inbox=${inbox}`)));
    expect(await view('requests')).toEqual([request.thread.id]);
    expect(await view('no-reply')).toEqual([answered.thread.id]);
    expect(await view('default')).toEqual([theirTurn.thread.id, answered.thread.id]);
    expect(await view('archived')).toEqual([]);
  });

  it('answers each inbox page from the threads_team_sort index', async () => {
    const team = await newTeam();
    const { db } = await sharedStore();
    const plan = await db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      const query = threadPageQuery(trx, team.teamId, {
        inbox: 'default',
        filters: { tags: { noTags: true } },
        cursor: { id: 'x', timestamp: new Date() },
        limit: 20,
      });
      return (await query.explain()).map((r) => Object.values(r).join(' ')).join('\n');
    });
    expect(plan).toContain('threads_team_sort');
    expect(plan).not.toMatch(/Seq Scan on threads/);
    expect(await listThreadRows(db, team.teamId, { inbox: 'default', limit: 5 })).toEqual([]);
  });

  it('rejects bad parameters with VALIDATION_ERROR', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const bad = [
      ['GET', '/api/v1/threads?inbox=everything'],
      ['GET', '/api/v1/threads?limit=0'],
      ['GET', '/api/v1/threads?limit=101'],
      ['GET', '/api/v1/threads?filters[sortOrder]=sideways'],
      ['GET', '/api/v1/threads?filters[tags][selectedIds][0]=NOT_AN_ID'],
      ['GET', '/api/v1/threads?filters[tags][noTags]=maybe'],
      ['GET', '/api/v1/threads?accountLinkIds[]=Bad-Id'],
      ['GET', '/api/v1/threads?cursorId=abc'],
      ['GET', '/api/v1/threads?cursorId=abc&cursorTimestamp=yesterday'],
      ['GET', `/api/v1/threads/lookup?accountLinkId=${account.id}`],
      ['GET', `/api/v1/threads/lookup?accountLinkId=${account.id}&externalPlatformId=1&externalId=abc`],
      ['GET', '/api/v1/threads/lookup-by-username?username='],
      ['GET', '/api/v1/threads/UPPER'],
    ] as const;
    for (const [method, url] of bad) await fails(team.request(method, url), 400, 'VALIDATION_ERROR');
    const badBodies: unknown[] = [
      { accountLinkId: account.id },
      { accountLinkId: account.id, externalPlatformId: '123', externalId: 'abc' },
      { accountLinkId: account.id, externalPlatformId: 'not-a-number' },
      { externalPlatformId: '123' },
    ];
    for (const body of badBodies) await fails(team.request('POST', '/api/v1/threads', body), 400, 'VALIDATION_ERROR');
    const { thread } = await conversation(team, account);
    for (const body of [{ done: 'yes' }, { assigneeId: 'Not An Id' }]) {
      await fails(team.request('PATCH', `/api/v1/threads/${thread.id}`, body), 400, 'VALIDATION_ERROR');
    }
    await fails(team.request('PATCH', `/api/v1/threads/${thread.id}/settings`, { typingIndicatorsEnabled: 'on' }), 400, 'VALIDATION_ERROR');
    await fails(team.request('POST', '/api/v1/threads', { accountLinkId: account.id, externalId: 'nosuchprospect' }), 404, 'PROSPECT_NOT_FOUND');
    await fails(team.request('POST', '/api/v1/threads', { accountLinkId: 'nosuchaccount', externalPlatformId: '5' }), 404, 'ACCOUNT_LINK_NOT_FOUND');
  });
});
