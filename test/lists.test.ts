import { describe, expect, it } from 'vitest';
import { newTeam, type TeamClient } from './helpers/app.js';
import { eventTypes, fails, inbound, linkAccount, ok, randomPlatformId, randomUsername } from './helpers/sandbox.js';

const api = '/api/v1/lists';

const createList = (team: TeamClient, name = 'Founders') => ok(team.request('POST', api, { name, description: 'Seed-stage founders' }));
const setProfile = (team: TeamClient, platformId: string, profile: Record<string, unknown>) =>
  ok(team.request('PUT', `/api/v1/sandbox/profiles/${platformId}`, profile));
const leadsOf = async (team: TeamClient, listId: string, query = '') => ok(team.request('GET', `${api}/${listId}/leads${query}`));

describe('lists', () => {
  it('creates, lists, gets, updates and deletes a list beside the two system lists', async () => {
    const team = await newTeam();
    const list = await createList(team);
    expect(list).toEqual({
      id: expect.stringMatching(/^[0-9a-z]+$/),
      name: 'Founders',
      description: 'Seed-stage founders',
      leadsCount: 0,
      systemType: null,
      createdAt: expect.any(String),
      updatedAt: null,
    });
    const all = await ok(team.request('GET', api));
    expect(all.map((l: { name: string; systemType: string | null }) => [l.name, l.systemType])).toEqual([
      ['Contacted', 'contacted'],
      ['Mutual', 'mutual'],
      ['Founders', null],
    ]);
    expect(await ok(team.request('GET', `${api}/${list.id}`))).toEqual(list);
    const patched = await ok(team.request('PATCH', `${api}/${list.id}`, { name: 'Angels', description: null }));
    expect(patched).toMatchObject({ id: list.id, name: 'Angels', description: null, updatedAt: expect.any(String) });
    const deleted = await team.request('DELETE', `${api}/${list.id}`);
    expect(deleted.statusCode).toBe(200);
    await fails(team.request('GET', `${api}/${list.id}`), 404, 'LIST_NOT_FOUND');
    // Reading the lists again does not create the system lists twice.
    expect((await ok(team.request('GET', api))).length).toBe(2);
  });

  it('validates list fields and changes nothing on a bad request', async () => {
    const team = await newTeam();
    for (const body of [{}, { name: '' }, { name: '  ' }, { name: 'x'.repeat(256) }, { name: 'ok', description: 'd'.repeat(1001) }, { name: 7 }]) {
      await fails(team.request('POST', api, body), 400, 'VALIDATION_ERROR');
    }
    expect((await ok(team.request('GET', api))).filter((l: { systemType: string | null }) => !l.systemType)).toEqual([]);
    const list = await createList(team);
    await fails(team.request('PATCH', `${api}/${list.id}`, { name: '' }), 400, 'VALIDATION_ERROR');
    await fails(team.request('GET', `${api}/NOT_AN_ID`), 400, 'VALIDATION_ERROR');
    expect((await ok(team.request('GET', `${api}/${list.id}`))).name).toBe('Founders');
  });

  it('refuses to edit, delete or fill the system lists by hand', async () => {
    const team = await newTeam();
    const [contacted, mutual] = await ok(team.request('GET', api));
    for (const system of [contacted, mutual]) {
      const error = await fails(team.request('PATCH', `${api}/${system.id}`, { name: 'Mine' }), 409, 'CONFLICT');
      expect(error.message).toMatch(/system list/);
      await fails(team.request('DELETE', `${api}/${system.id}`), 409, 'CONFLICT');
      await fails(team.request('POST', `${api}/${system.id}/leads`, { platformIds: [randomPlatformId()] }), 409, 'CONFLICT');
      await fails(team.request('DELETE', `${api}/${system.id}/leads`, { platformIds: [randomPlatformId()] }), 409, 'CONFLICT');
      await fails(team.request('POST', `${api}/${system.id}/columns`, { name: 'Company' }), 409, 'CONFLICT');
      expect(await ok(team.request('GET', `${api}/${system.id}/columns`))).toEqual([]);
    }
    expect((await ok(team.request('GET', api))).slice(0, 2)).toEqual([contacted, mutual]);
  });

  it('derives Contacted and Mutual from the team’s real conversations', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const [quiet, answered, theyWrote] = [randomPlatformId(), randomPlatformId(), randomPlatformId()];
    for (const to of [quiet, answered]) {
      await ok(team.request('POST', '/api/v1/threads/messages', { accountLinkId: account.id, externalPlatformId: to, content: `Hi ${to}` }));
    }
    await inbound(team, account.id, answered, 'Thanks, happy to chat');
    await inbound(team, account.id, theyWrote, 'Cold inbound'); // never answered: neither list

    const [contacted, mutual] = await ok(team.request('GET', api));
    expect([contacted.leadsCount, mutual.leadsCount]).toEqual([2, 1]);
    const contactedLeads = await leadsOf(team, contacted.id);
    expect(contactedLeads.leads.map((l: { prospect: { platformId: string } }) => l.prospect.platformId).sort()).toEqual([quiet, answered].sort());
    expect(contactedLeads.leads[0]).toMatchObject({ data: {}, addedAt: expect.any(String), prospect: { context: { tags: [] } } });
    const mutualLeads = await leadsOf(team, mutual.id);
    expect(mutualLeads.leads.map((l: { prospect: { platformId: string } }) => l.prospect.platformId)).toEqual([answered]);

    // Deleting the thread takes its prospect out of both lists.
    const threadId = mutualLeads.leads[0].prospect.externalId;
    const threads = await ok(team.request('GET', `/api/v1/prospects/${threadId}`));
    expect((await team.request('DELETE', `/api/v1/threads/${threads.context.threads[0].id}`, {})).statusCode).toBe(200);
    const [c2, m2] = await ok(team.request('GET', api));
    expect([c2.leadsCount, m2.leadsCount]).toEqual([1, 0]);
  });

  it('hides another team’s lists: 404 on every list route', async () => {
    const [a, b] = [await newTeam(), await newTeam()];
    const list = await createList(a);
    const pid = randomPlatformId();
    await ok(a.request('POST', `${api}/${list.id}/leads`, { platformIds: [pid] }));
    const column = await ok(a.request('POST', `${api}/${list.id}/columns`, { name: 'Company' }));
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `${api}/${list.id}`],
      ['PATCH', `${api}/${list.id}`, { name: 'Stolen' }],
      ['DELETE', `${api}/${list.id}`],
      ['GET', `${api}/${list.id}/leads`],
      ['POST', `${api}/${list.id}/leads`, { platformIds: [randomPlatformId()] }],
      ['DELETE', `${api}/${list.id}/leads`, { platformIds: [pid] }],
      ['PATCH', `${api}/${list.id}/leads/${pid}`, { data: {} }],
      ['GET', `${api}/${list.id}/columns`],
      ['POST', `${api}/${list.id}/columns`, { name: 'X' }],
      ['PATCH', `${api}/${list.id}/columns/${column.id}`, { name: 'Y' }],
      ['DELETE', `${api}/${list.id}/columns/${column.id}`],
    ];
    for (const [method, url, body] of routes) {
      const response = await b.request(method as 'GET', url, body);
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      expect(response.json().error.code).toBe('LIST_NOT_FOUND');
    }
    expect(await ok(a.request('GET', `${api}/${list.id}`))).toMatchObject({ name: 'Founders', leadsCount: 1 });
    expect(await ok(a.request('GET', `${api}/${list.id}/columns`))).toEqual([column]);
  });
});

describe('list leads', () => {
  it('adds by platform id, username, externalId and leads[], reporting added, skipped and failed', async () => {
    const team = await newTeam();
    const list = await createList(team);
    const [a, b, suspended, gone] = [randomPlatformId(), randomPlatformId(), randomPlatformId(), randomPlatformId()];
    const handle = randomUsername('h');
    const named = randomPlatformId();
    await setProfile(team, named, { username: handle, displayName: 'Named One' });
    await setProfile(team, suspended, { accountStatus: 'suspended' });
    await setProfile(team, gone, { accountStatus: 'deactivated' });

    const first = await ok(team.request('POST', `${api}/${list.id}/leads`, { platformIds: [a, suspended, gone, 'not-a-number'] }));
    expect(first).toEqual({ added: [a], skipped: [], failed: [suspended, gone, 'not-a-number'] });
    const leads = (await leadsOf(team, list.id)).leads;
    const externalId = leads[0].prospect.externalId;

    const second = await ok(
      team.request('POST', `${api}/${list.id}/leads`, {
        platformIds: [a, b],
        usernames: [handle, 'nobody_by_that_name'],
        externalIds: [externalId, 'unknownprospect'],
        leads: [{ platformId: b }, { username: `user${randomPlatformId()}` }],
      }),
    );
    // Identifiers come back as given, once each, in the order of the body.
    expect(second.added).toEqual([b, handle, expect.stringMatching(/^user\d+$/)]);
    expect(second.skipped).toEqual([a, externalId]);
    expect(second.failed).toEqual(['nobody_by_that_name', 'unknownprospect']);

    const page = await leadsOf(team, list.id);
    expect(page.leads).toHaveLength(4);
    expect(page.leads.find((l: { prospect: { platformId: string } }) => l.prospect.platformId === named).prospect).toMatchObject({
      username: handle,
      displayName: 'Named One',
    });
    expect((await ok(team.request('GET', `${api}/${list.id}`))).leadsCount).toBe(4);
    // Each new prospect was announced once.
    expect((await eventTypes(team)).filter((t) => t === 'prospect.created')).toHaveLength(4);
  });

  it('accepts handles as people paste them: @name and profile links name the same lead', async () => {
    const team = await newTeam();
    const list = await createList(team);
    const handle = randomUsername('p');
    const named = randomPlatformId();
    await setProfile(team, named, { username: handle, displayName: 'Pasted One' });
    const spellings = [`@${handle}`, `https://x.com/${handle}`, `twitter.com/${handle.toUpperCase()}/status/1?s=20`];
    const added = await ok(team.request('POST', `${api}/${list.id}/leads`, { usernames: spellings }));
    // One lead, reported under the first spelling given; the others are the same identifier.
    expect(added.added).toEqual([spellings[0]]);
    expect(added.failed).toEqual([]);
    const again = await ok(team.request('POST', `${api}/${list.id}/leads`, { usernames: [`https://www.x.com/${handle}`] }));
    expect(again).toEqual({ added: [], skipped: [`https://www.x.com/${handle}`], failed: [] });
    const page = await leadsOf(team, list.id);
    expect(page.leads.map((l: { prospect: { platformId: string } }) => l.prospect.platformId)).toEqual([named]);
  });

  it('adds 2,000 leads in one call, then pages through them', async () => {
    const team = await newTeam();
    const list = await createList(team);
    const base = 3_000_000_000_000 + Math.floor(Math.random() * 1e12);
    const ids = Array.from({ length: 2000 }, (_, i) => String(base + i));
    const started = Date.now();
    const result = await ok(team.request('POST', `${api}/${list.id}/leads`, { platformIds: ids }));
    expect(result.added).toHaveLength(2000);
    expect(result.skipped).toEqual([]);
    expect(Date.now() - started).toBeLessThan(20_000);
    const again = await ok(team.request('POST', `${api}/${list.id}/leads`, { platformIds: ids }));
    expect(again.skipped).toHaveLength(2000);

    const seen = new Set<string>();
    let query = '?limit=100';
    for (;;) {
      const page = await leadsOf(team, list.id, query);
      for (const l of page.leads) seen.add(l.prospect.platformId);
      if (!page.nextCursor) break;
      query = `?limit=100&cursorId=${page.nextCursor.id}&cursorTimestamp=${encodeURIComponent(page.nextCursor.timestamp)}`;
    }
    expect(seen.size).toBe(2000);
    expect((await eventTypes(team)).filter((t) => t === 'prospect.created')).toHaveLength(1000); // the events page is capped at 1000
  });

  it('validates add, remove and update bodies; a failed request changes nothing', async () => {
    const team = await newTeam();
    const list = await createList(team);
    const column = await ok(team.request('POST', `${api}/${list.id}/columns`, { name: 'Employees', type: 'number' }));
    const pid = randomPlatformId();
    const bad = [
      {},
      { platformIds: [] },
      { platformIds: [''] },
      { platformIds: Array.from({ length: 2001 }, (_, i) => String(i + 1)) },
      { leads: [{ platformId: pid, username: 'both' }] },
      { leads: [{}] },
      { leads: [{ platformId: pid, data: { custom_unknown: 'x' } }] },
      { leads: [{ platformId: pid, data: { [column.id]: 'many' } }] },
    ];
    for (const body of bad) await fails(team.request('POST', `${api}/${list.id}/leads`, body), 400, 'VALIDATION_ERROR');
    expect((await leadsOf(team, list.id)).leads).toEqual([]);
    expect((await eventTypes(team)).filter((t) => t === 'prospect.created')).toEqual([]);

    await fails(team.request('DELETE', `${api}/${list.id}/leads`, { platformIds: [] }), 400, 'VALIDATION_ERROR');
    await fails(team.request('DELETE', `${api}/${list.id}/leads`, {}), 400, 'VALIDATION_ERROR');
    await fails(team.request('POST', `${api}/unknownlist/leads`, { platformIds: [pid] }), 404, 'LIST_NOT_FOUND');
  });

  it('sets column values by type, removes leads and reports how many were there', async () => {
    const team = await newTeam();
    const list = await createList(team);
    const col = async (name: string, type: string) => (await ok(team.request('POST', `${api}/${list.id}/columns`, { name, type }))).id as string;
    const [company, size, site, since] = [await col('Company', 'text'), await col('Size', 'number'), await col('Site', 'url'), await col('Since', 'date')];
    const [p1, p2] = [randomPlatformId(), randomPlatformId()];
    await ok(team.request('POST', `${api}/${list.id}/leads`, { leads: [{ platformId: p1, data: { [company]: 'Acme', [size]: '42' } }, { platformId: p2 }] }));

    const updated = await ok(team.request('PATCH', `${api}/${list.id}/leads/${p1}`, { data: { [site]: 'https://acme.test', [since]: '2024-02-29', [company]: null } }));
    expect(updated.data).toEqual({ [size]: 42, [site]: 'https://acme.test', [since]: '2024-02-29' });
    expect(updated.prospect).toMatchObject({ platformId: p1, context: { tags: [] } });

    for (const data of [{ [size]: 'lots' }, { [site]: 'ftp://x' }, { [since]: '2023-02-29' }, { [company]: 5 }, { custom_nope: 'x' }]) {
      await fails(team.request('PATCH', `${api}/${list.id}/leads/${p1}`, { data }), 400, 'VALIDATION_ERROR');
    }
    await fails(team.request('PATCH', `${api}/${list.id}/leads/${randomPlatformId()}`, { data: {} }), 404, 'LEAD_NOT_FOUND');
    const lead = (await leadsOf(team, list.id)).leads.find((l: { prospect: { platformId: string } }) => l.prospect.platformId === p1);
    expect(lead.data).toEqual(updated.data);

    // Deleting a column drops its values from every lead.
    expect((await team.request('DELETE', `${api}/${list.id}/columns/${site}`)).statusCode).toBe(200);
    const after = (await leadsOf(team, list.id)).leads.find((l: { prospect: { platformId: string } }) => l.prospect.platformId === p1);
    expect(after.data).toEqual({ [size]: 42, [since]: '2024-02-29' });

    expect(await ok(team.request('DELETE', `${api}/${list.id}/leads`, { platformIds: [p1, randomPlatformId()] }))).toEqual({ removed: 1 });
    expect((await leadsOf(team, list.id)).leads.map((l: { prospect: { platformId: string } }) => l.prospect.platformId)).toEqual([p2]);
  });

  it('manages list columns through the generic column rules', async () => {
    const team = await newTeam();
    const list = await createList(team);
    const column = await ok(team.request('POST', `${api}/${list.id}/columns`, { name: 'Role', type: 'text', description: 'Job title' }));
    expect(column).toMatchObject({ id: expect.stringMatching(/^custom_[0-9a-z]+$/), name: 'Role', type: 'text', description: 'Job title' });
    await fails(team.request('POST', `${api}/${list.id}/columns`, { name: 'role' }), 409, 'CONFLICT');
    await fails(team.request('POST', `${api}/${list.id}/columns`, { name: 'Bad', type: 'money' }), 400, 'VALIDATION_ERROR');
    await fails(team.request('POST', `${api}/${list.id}/columns`, { name: 'Long', description: 'd'.repeat(1001) }), 400, 'VALIDATION_ERROR');
    const renamed = await ok(team.request('PATCH', `${api}/${list.id}/columns/${column.id}`, { name: 'Title' }));
    expect(renamed).toMatchObject({ id: column.id, name: 'Title', updatedAt: expect.any(String) });
    expect(await ok(team.request('GET', `${api}/${list.id}/columns`))).toEqual([renamed]);
    await fails(team.request('PATCH', `${api}/${list.id}/columns/custom_missing`, { name: 'x' }), 404, 'COLUMN_NOT_FOUND');
  });
});
