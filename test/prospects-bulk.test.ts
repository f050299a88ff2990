import { describe, expect, it } from 'vitest';
import { newTeam, type TeamClient } from './helpers/app.js';
import { conversation, events, fails, linkAccount, ok, randomPlatformId } from './helpers/sandbox.js';
import { addMember } from './helpers/session.js';

/** `count` new prospects of the team, through a list add as any client makes them; their ids in the order added. */
async function prospects(team: TeamClient, count: number): Promise<{ listId: string; ids: string[] }> {
  const list = await ok(team.request('POST', '/api/v1/lists', { name: `Leads ${randomPlatformId()}` }));
  const platformIds = Array.from({ length: count }, () => randomPlatformId());
  const added = await ok(team.request('POST', `/api/v1/lists/${list.id}/leads`, { platformIds }));
  expect(added.added).toHaveLength(count);
  const ids: string[] = [];
  for (let after: string | null | undefined; after !== null; ) {
    const page = await ok(team.request('GET', `/api/v1/prospects?listId=${list.id}&sort=createdAt&order=asc&limit=500${after ? `&after=${after}` : ''}`));
    ids.push(...page.prospects.map((p: { externalId: string }) => p.externalId));
    after = page.nextCursor;
  }
  expect(ids).toHaveLength(count);
  return { listId: list.id, ids };
}

const bulk = (team: TeamClient, prospectIds: string[], action: Record<string, unknown>) =>
  team.request('POST', '/api/v1/prospects/bulk', { prospectIds, action });

describe('bulk prospect actions', () => {
  // 500 prospects take a while to make through the API on a busy machine; the bulk call is one of the steps.
  it('tags 500 prospects in one call, with one tagsChanged event each, and only for those that changed', async () => {
    const team = await newTeam();
    const { ids } = await prospects(team, 500);
    const hot = await ok(team.request('POST', '/api/v1/tags', { name: 'Hot' }));
    await ok(team.request('PATCH', `/api/v1/prospects/${ids[0]}/context`, { addTags: [hot.id] }));
    const before = (await events(team)).length;

    expect(await ok(bulk(team, ids, { type: 'addTags', tagIds: [hot.id] }))).toEqual({ changed: 499, unchanged: 1 });
    const emitted = (await ok(team.request('GET', `/api/v1/events?afterSeq=${before}&limit=1000`))).events;
    expect(emitted).toHaveLength(499);
    expect(new Set(emitted.map((e: { type: string }) => e.type))).toEqual(new Set(['prospect.tagsChanged']));
    expect(new Set(emitted.map((e: { data: { prospect: { externalId: string } } }) => e.data.prospect.externalId))).toEqual(new Set(ids.slice(1)));
    expect(emitted[0].data.prospect.context.tags).toEqual([hot.id]);

    const tagged = await ok(team.request('GET', `/api/v1/prospects?tagIds=${hot.id}&limit=1`));
    expect(tagged.total).toBe(500);
    expect(await ok(bulk(team, ids, { type: 'removeTags', tagIds: [hot.id] }))).toEqual({ changed: 500, unchanged: 0 });
    expect((await ok(team.request('GET', `/api/v1/prospects?tagIds=${hot.id}`))).total).toBe(0);
  }, 90_000);

  it('sets the status and the assignee, with the events and thread fan-out of the single update', async () => {
    const team = await newTeam();
    const { prospectId, thread } = await conversation(team);
    const { ids } = await prospects(team, 3);
    const all = [prospectId, ...ids];
    const status = await ok(team.request('POST', '/api/v1/statuses', { name: 'Qualified' }));
    const before = (await events(team)).length;

    expect(await ok(bulk(team, all, { type: 'setStatus', statusId: status.id }))).toEqual({ changed: 4, unchanged: 0 });
    expect(await ok(bulk(team, all, { type: 'assign', assigneeId: team.ownerMemberId }))).toEqual({ changed: 4, unchanged: 0 });
    const emitted = (await events(team)).slice(before);
    expect(emitted.map((e) => e.type)).toEqual([...all.map(() => 'prospect.statusChanged'), ...all.map(() => 'prospect.assigneeChanged')]);
    expect(emitted[0]!.data.prospect.context.statusId).toBe(status.id);
    expect(emitted.map((e) => e.seq)).toEqual(emitted.map((_, i) => before + i + 1));
    expect((await ok(team.request('GET', `/api/v1/threads/${thread.id}`))).assigneeId).toBe(team.ownerMemberId);
    const got = await ok(team.request('GET', `/api/v1/prospects/${ids[1]}`));
    expect(got.context).toMatchObject({ statusId: status.id, assigneeId: team.ownerMemberId });

    // The same again changes nothing and emits nothing; null clears.
    expect(await ok(bulk(team, all, { type: 'setStatus', statusId: status.id }))).toEqual({ changed: 0, unchanged: 4 });
    expect((await events(team)).length).toBe(before + emitted.length);
    expect(await ok(bulk(team, all, { type: 'setStatus', statusId: null }))).toEqual({ changed: 4, unchanged: 0 });
    expect((await ok(team.request('GET', '/api/v1/prospects?noStatus=true'))).total).toBe(4);
  });

  it('adds a selection to a list and to a campaign through their own adds', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const { ids } = await prospects(team, 5);
    const target = await ok(team.request('POST', '/api/v1/lists', { name: 'Target' }));
    expect(await ok(bulk(team, ids.slice(0, 2), { type: 'addToList', listId: target.id }))).toEqual({ changed: 2, unchanged: 0 });
    expect(await ok(bulk(team, ids, { type: 'addToList', listId: target.id }))).toEqual({ changed: 3, unchanged: 2 });
    expect((await ok(team.request('GET', `/api/v1/lists/${target.id}`))).leadsCount).toBe(5);

    const campaign = await ok(team.request('POST', '/api/v1/campaigns/v2', { name: 'Bulk', accountLinkIds: [account.id] }));
    expect(await ok(bulk(team, ids, { type: 'addToCampaign', campaignId: campaign.id }))).toEqual({ changed: 5, unchanged: 0 });
    const inCampaign = await ok(team.request('GET', `/api/v1/prospects?campaignId=${campaign.id}`));
    expect(inCampaign.prospects.map((p: { externalId: string }) => p.externalId).sort()).toEqual([...ids].sort());

    const [contacted] = await ok(team.request('GET', '/api/v1/lists'));
    expect(contacted.systemType).toBe('contacted');
    await fails(bulk(team, ids, { type: 'addToList', listId: contacted.id }), 409, 'CONFLICT');
  });

  it('adds to a list and to a campaign with the events and the refusals of the single adds', async () => {
    const team = await newTeam();
    const other = await newTeam();
    const account = await linkAccount(team);
    const { ids } = await prospects(team, 4);
    const [single, byBulk] = [ids.slice(0, 2), ids.slice(2)];
    /** What the team's event log gained since `after`. */
    const emittedSince = async (after: number) => {
      const logged = (await ok(team.request('GET', `/api/v1/events?afterSeq=${after}&limit=1000`))).events as Array<{ seq: number; type: string; data: unknown }>;
      return { events: logged.map(({ type, data }) => ({ type, data })), last: logged.at(-1)?.seq ?? after };
    };
    const lastSeq = async () => (await events(team)).at(-1)?.seq ?? 0;

    // The same add, once by the single route and once in bulk, into lists (and campaigns) made alike.
    const [listA, listB] = [await ok(team.request('POST', '/api/v1/lists', { name: 'Single' })), await ok(team.request('POST', '/api/v1/lists', { name: 'Bulk' }))];
    let seq = await lastSeq();
    const singleAdd = await ok(team.request('POST', `/api/v1/lists/${listA.id}/leads`, { externalIds: single }));
    expect(singleAdd.added).toHaveLength(2);
    const afterSingle = await emittedSince(seq);
    expect(await ok(bulk(team, byBulk, { type: 'addToList', listId: listB.id }))).toEqual({ changed: 2, unchanged: 0 });
    // Known prospects: neither add emits anything (a new prospect's prospect.created is all an add emits, and a bulk
    // add names known prospects only).
    expect(afterSingle.events).toEqual([]);
    expect((await emittedSince(afterSingle.last)).events).toEqual(afterSingle.events);

    const campaign = (name: string) => ok(team.request('POST', '/api/v1/campaigns/v2', { name, accountLinkIds: [account.id] }));
    const [campaignA, campaignB] = [await campaign('Single'), await campaign('Bulk')];
    seq = await lastSeq();
    expect((await ok(team.request('POST', `/api/v1/campaigns/v2/${campaignA.id}/leads`, { externalIds: single }))).added).toBe(2);
    const campaignSingle = await emittedSince(seq);
    expect(await ok(bulk(team, byBulk, { type: 'addToCampaign', campaignId: campaignB.id }))).toEqual({ changed: 2, unchanged: 0 });
    expect(campaignSingle.events).toEqual([]);
    expect((await emittedSince(campaignSingle.last)).events).toEqual(campaignSingle.events);
    for (const [listId, added] of [[listA.id, single], [listB.id, byBulk]] as const) {
      expect((await ok(team.request('GET', `/api/v1/prospects?listId=${listId}`))).prospects.map((p: { externalId: string }) => p.externalId).sort()).toEqual([...added].sort());
    }

    // Refused alike: a list or campaign that does not exist, is malformed, is another team's, or is a system list.
    const theirList = await ok(other.request('POST', '/api/v1/lists', { name: 'Theirs' }));
    const theirCampaign = await ok(other.request('POST', '/api/v1/campaigns/v2', { name: 'Theirs' }));
    const [contacted] = await ok(team.request('GET', '/api/v1/lists'));
    seq = await lastSeq();
    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      [`/api/v1/lists/nosuchlist/leads`, { type: 'addToList', listId: 'nosuchlist' }, 404, 'LIST_NOT_FOUND'],
      [`/api/v1/lists/${theirList.id}/leads`, { type: 'addToList', listId: theirList.id }, 404, 'LIST_NOT_FOUND'],
      [`/api/v1/lists/Not%20An%20Id/leads`, { type: 'addToList', listId: 'Not An Id' }, 400, 'VALIDATION_ERROR'],
      [`/api/v1/lists/${contacted.id}/leads`, { type: 'addToList', listId: contacted.id }, 409, 'CONFLICT'],
      [`/api/v1/campaigns/v2/nosuchcampaign/leads`, { type: 'addToCampaign', campaignId: 'nosuchcampaign' }, 404, 'CAMPAIGN_NOT_FOUND'],
      [`/api/v1/campaigns/v2/${theirCampaign.id}/leads`, { type: 'addToCampaign', campaignId: theirCampaign.id }, 404, 'CAMPAIGN_NOT_FOUND'],
      [`/api/v1/campaigns/v2/Not%20An%20Id/leads`, { type: 'addToCampaign', campaignId: 'Not An Id' }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [url, action, status, code] of cases) {
      await fails(team.request('POST', url, { externalIds: ids }), status, code);
      await fails(bulk(team, ids, action), status, code);
    }
    expect(await lastSeq()).toBe(seq);
    expect((await ok(other.request('GET', `/api/v1/lists/${theirList.id}`))).leadsCount).toBe(0);
  });

  it('refuses bad input with the envelope and changes nothing', async () => {
    const team = await newTeam();
    const { ids } = await prospects(team, 2);
    const tag = await ok(team.request('POST', '/api/v1/tags', { name: 'VIP' }));
    const before = (await events(team)).length;
    for (const body of [
      {},
      { prospectIds: [], action: { type: 'addTags', tagIds: [tag.id] } },
      { prospectIds: ids, action: { type: 'paint', color: 'red' } },
      { prospectIds: ids, action: { type: 'addTags', tagIds: [] } },
      { prospectIds: ['Not An Id'], action: { type: 'addTags', tagIds: [tag.id] } },
      { prospectIds: Array.from({ length: 10_001 }, (_, i) => `p${i}`), action: { type: 'addTags', tagIds: [tag.id] } },
      { prospectIds: ids, action: { type: 'setStatus' } },
    ]) {
      await fails(team.request('POST', '/api/v1/prospects/bulk', body), 400, 'VALIDATION_ERROR');
    }
    await fails(bulk(team, ids, { type: 'addTags', tagIds: ['nosuchtag'] }), 404, 'TAG_NOT_FOUND');
    await fails(bulk(team, ids, { type: 'setStatus', statusId: 'nosuchstatus' }), 404, 'STATUS_NOT_FOUND');
    await fails(bulk(team, ids, { type: 'addToList', listId: 'nosuchlist' }), 404, 'LIST_NOT_FOUND');
    await fails(bulk(team, ids, { type: 'addToCampaign', campaignId: 'nosuchcampaign' }), 404, 'CAMPAIGN_NOT_FOUND');
    await fails(bulk(team, [...ids, 'nosuchprospect'], { type: 'addTags', tagIds: [tag.id] }), 404, 'PROSPECT_NOT_FOUND');
    expect((await events(team)).length).toBe(before);
    expect((await ok(team.request('GET', `/api/v1/prospects?tagIds=${tag.id}`))).total).toBe(0);
  });

  it("keeps teams apart: another team's prospects, tags, lists and members are not found", async () => {
    const team = await newTeam();
    const other = await newTeam();
    const { ids } = await prospects(team, 2);
    const { ids: theirs, listId: theirList } = await prospects(other, 1);
    const tag = await ok(team.request('POST', '/api/v1/tags', { name: 'Ours' }));
    const theirTag = await ok(other.request('POST', '/api/v1/tags', { name: 'Theirs' }));
    await fails(bulk(team, [...ids, theirs[0]!], { type: 'addTags', tagIds: [tag.id] }), 404, 'PROSPECT_NOT_FOUND');
    await fails(bulk(team, ids, { type: 'addTags', tagIds: [theirTag.id] }), 404, 'TAG_NOT_FOUND');
    await fails(bulk(team, ids, { type: 'assign', assigneeId: other.ownerMemberId }), 404, 'MEMBER_NOT_FOUND');
    await fails(bulk(team, ids, { type: 'addToList', listId: theirList }), 404, 'LIST_NOT_FOUND');
    await fails(bulk(team, theirs, { type: 'addToList', listId: theirList }), 404, 'PROSPECT_NOT_FOUND');
    await fails(team.request('GET', `/api/v1/prospects?listId=${theirList}`), 404, 'LIST_NOT_FOUND');
    expect((await ok(other.request('GET', `/api/v1/prospects/${theirs[0]}`))).context.tags).toEqual([]);
    expect((await ok(team.request('GET', '/api/v1/prospects'))).total).toBe(2);
  });
});

describe('the prospects table', () => {
  it("filters by assignee: some members, the unassigned, or both, ANDed with the other filters; another team's member matches nothing", async () => {
    const team = await newTeam();
    const other = await newTeam();
    const teammate = await addMember(team.teamId, 'user');
    const { ids } = await prospects(team, 4);
    const { ids: theirs } = await prospects(other, 1);
    await ok(other.request('PATCH', `/api/v1/prospects/${theirs[0]}/context`, { assigneeId: other.ownerMemberId }));
    await ok(bulk(team, [ids[0]!], { type: 'assign', assigneeId: team.ownerMemberId }));
    await ok(bulk(team, [ids[1]!], { type: 'assign', assigneeId: teammate.memberId }));
    const hot = await ok(team.request('POST', '/api/v1/tags', { name: 'Hot' }));
    await ok(bulk(team, [ids[1]!, ids[2]!], { type: 'addTags', tagIds: [hot.id] }));
    const short = await ok(team.request('POST', '/api/v1/lists', { name: 'Short' }));
    await ok(bulk(team, [ids[0]!, ids[3]!], { type: 'addToList', listId: short.id }));

    /** The prospects a search finds, by their place in `ids`; its total counts the same. */
    const found = async (search: string) => {
      const page = await ok(team.request('GET', `/api/v1/prospects?${search}&limit=500`));
      expect(page.total).toBe(page.prospects.length);
      return page.prospects.map((p: { externalId: string }) => ids.indexOf(p.externalId)).sort();
    };
    const owner = team.ownerMemberId;
    expect(await found(`assigneeIds=${owner}`)).toEqual([0]);
    expect(await found(`assigneeIds=${owner}&assigneeIds=${teammate.memberId}`)).toEqual([0, 1]);
    expect(await found('noAssignee=true')).toEqual([2, 3]);
    expect(await found(`assigneeIds=${teammate.memberId}&noAssignee=true`)).toEqual([1, 2, 3]);
    expect(await found('noAssignee=false')).toEqual([0, 1, 2, 3]);
    // ANDed with the other filters.
    expect(await found(`assigneeIds=${teammate.memberId}&tagIds=${hot.id}`)).toEqual([1]);
    expect(await found(`noAssignee=true&tagIds=${hot.id}`)).toEqual([2]);
    expect(await found(`assigneeIds=${owner}&tagIds=${hot.id}`)).toEqual([]);
    expect(await found(`noAssignee=true&listId=${short.id}`)).toEqual([3]);
    expect(await found(`assigneeIds=${owner}&noAssignee=true&listId=${short.id}&q=user`)).toEqual([0, 3]);
    // Another team's member is no one here: their prospect stays out, and the unassigned still match.
    expect(await found(`assigneeIds=${other.ownerMemberId}`)).toEqual([]);
    expect(await found(`assigneeIds=${other.ownerMemberId}&noAssignee=true`)).toEqual([2, 3]);
    await fails(team.request('GET', '/api/v1/prospects?assigneeIds=Not%20An%20Id'), 400, 'VALIDATION_ERROR');
    await fails(team.request('GET', '/api/v1/prospects?noAssignee=yes'), 400, 'VALIDATION_ERROR');
  });

  it('sorts and pages by cursor without skipping or repeating, and filters by text', async () => {
    const team = await newTeam();
    const { ids } = await prospects(team, 7);
    await Promise.all(ids.map((id, i) => ok(team.request('PATCH', `/api/v1/prospects/${id}/context`, { valuation: i % 3 === 0 ? null : i * 10 }))));
    for (const [sort, order] of [['valuation', 'desc'], ['displayName', 'asc'], ['createdAt', 'desc']] as const) {
      const seen: Array<{ externalId: string; context: { valuation: number | null }; displayName: string }> = [];
      for (let after: string | null | undefined; after !== null; ) {
        const page = await ok(team.request('GET', `/api/v1/prospects?sort=${sort}&order=${order}&limit=2${after ? `&after=${after}` : ''}`));
        expect(page.total).toBe(7);
        seen.push(...page.prospects);
        after = page.nextCursor;
      }
      expect(seen.map((p) => p.externalId).sort()).toEqual([...ids].sort());
      if (sort === 'valuation') expect(seen.map((p) => p.context.valuation ?? -1)).toEqual([...seen.map((p) => p.context.valuation ?? -1)].sort((a, b) => b - a));
      if (sort === 'displayName') expect(seen.map((p) => p.displayName.toLowerCase())).toEqual(seen.map((p) => p.displayName.toLowerCase()).sort());
    }
    const one = await ok(team.request('GET', `/api/v1/prospects/${ids[3]}`));
    const found = await ok(team.request('GET', `/api/v1/prospects?q=${one.username.toUpperCase()}`));
    expect(found.prospects.map((p: { externalId: string }) => p.externalId)).toEqual([ids[3]]);
    await fails(team.request('GET', '/api/v1/prospects?after=garbage'), 400, 'VALIDATION_ERROR');
    await fails(team.request('GET', '/api/v1/prospects?sort=bio'), 400, 'VALIDATION_ERROR');
    await fails(team.request('GET', '/api/v1/prospects?limit=501'), 400, 'VALIDATION_ERROR');
  });
});
