import { describe, expect, it } from 'vitest';
import { newTeam, type TeamClient } from './helpers/app.js';
import { fillList, getCampaign, newCampaign, newList, randomIds, runSyncs, setRules, statesOf, syncRunner, leadsByPlatformId } from './helpers/lead-rules.js';
import { fails, inbound, linkAccount, ok } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';

const rulesOf = async (team: TeamClient, id: string) => (await getCampaign(team, id)).rules;

const syncJobs = async (campaignId: string) => {
  const { db } = await sharedStore();
  return db.selectFrom('jobs').select(['status', 'payload']).where('kind', '=', 'campaign-sync').where('subject_id', '=', campaignId).execute();
};

/** A list holding these platform ids, and a campaign syncing it. */
async function syncedCampaign(team: TeamClient, ids: readonly string[], rules: Record<string, unknown> = {}) {
  const list = await newList(team);
  await fillList(team, list.id, ids);
  const campaign = await newCampaign(team);
  expect(await setRules(team, campaign.id, { syncedListIds: [list.id], ...rules })).toEqual({ success: true });
  await runSyncs(team);
  return { list, campaign };
}

/** Marks a lead as contacted by the campaign, as the engine does when it sends the first message. */
async function markContacted(campaignId: string, externalId: string) {
  const { db } = await sharedStore();
  const now = new Date();
  await db
    .updateTable('campaign_leads')
    .set({ state: 'active', contacted_at: now, last_contact_at: now, next_rank: 1 })
    .where('campaign_id', '=', campaignId)
    .where('prospect_id', '=', externalId)
    .execute();
}

describe('lead rules: PATCH /campaigns/v2/{id}/rules', () => {
  it('saves the rules, shows them on the campaign and starts one background sync', async () => {
    const team = await newTeam();
    const [synced, excluded] = [await newList(team, 'Synced'), await newList(team, 'Excluded')];
    const campaign = await newCampaign(team);
    await setRules(team, campaign.id, { syncedListIds: [synced.id], excludedListIds: [excluded.id], excludeContacted: true });
    const after = await getCampaign(team, campaign.id);
    expect(after.rules).toEqual({
      syncedLists: [{ listId: synced.id, listName: 'Synced', columnMapping: {} }],
      excludedLists: [{ listId: excluded.id, listName: 'Excluded' }],
      excludeContacted: true,
      excludeMutuals: false,
    });
    expect(after).toMatchObject({ isSyncing: true, scopeAssessedCount: 0 });
    // A newer request joins the queued job instead of adding one.
    await setRules(team, campaign.id, { excludeMutuals: true });
    expect(await syncJobs(campaign.id)).toEqual([{ status: 'queued', payload: { full: true } }]);
    expect((await rulesOf(team, campaign.id)).excludeContacted).toBe(true);
    await runSyncs(team);
    expect(await getCampaign(team, campaign.id)).toMatchObject({ isSyncing: false, scopeAssessedCount: 0 });
    expect((await syncJobs(campaign.id)).map((j) => j.status)).toEqual(['completed']);
  });

  it('refuses bad rules with one 400 naming every problem, and changes nothing', async () => {
    const team = await newTeam();
    const other = await newTeam();
    const [list, second] = [await newList(team), await newList(team, 'Second')];
    const foreign = await newList(other);
    const [contacted, mutual] = await ok(team.request('GET', '/api/v1/lists'));
    const campaign = await newCampaign(team);
    const column = await ok(team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/columns`, { name: 'Company' }));
    await setRules(team, campaign.id, { syncedListIds: [second.id] });
    await runSyncs(team);
    const before = await getCampaign(team, campaign.id);
    const path = `/api/v1/campaigns/v2/${campaign.id}/rules`;

    let error = await fails(team.request('PATCH', path, { excludedListIds: [contacted.id, mutual.id] }), 400, 'VALIDATION_ERROR');
    expect(error.message).toMatch(/excludeContacted/);
    expect(error.message).toMatch(/excludeMutuals/);
    error = await fails(team.request('PATCH', path, { syncedListIds: [foreign.id, contacted.id, list.id, list.id] }), 400, 'VALIDATION_ERROR');
    expect(error.details).toEqual([
      { field: 'syncedListIds.0', message: `no list '${foreign.id}' in this team` },
      { field: 'syncedListIds.1', message: "'Contacted' is a system list: only user lists can be synced" },
      { field: 'syncedListIds.3', message: `'${list.id}' is listed twice` },
    ]);
    error = await fails(team.request('PATCH', path, { syncedListIds: [list.id], excludedListIds: [list.id] }), 400, 'VALIDATION_ERROR');
    expect(error.message).toMatch(/either synced or excluded/);
    error = await fails(
      team.request('PATCH', path, { syncedListIds: [list.id], columnMappings: { [list.id]: { custom_nosuchcolumn: column.id }, [second.id]: {} } }),
      400,
      'VALIDATION_ERROR',
    );
    expect(error.details).toEqual([
      { field: `columnMappings.${list.id}.custom_nosuchcolumn`, message: `no column 'custom_nosuchcolumn' in list '${list.id}'` },
      { field: `columnMappings.${second.id}`, message: 'only a synced list can map its columns' },
    ]);
    for (const body of [
      { syncedListIds: 'x' },
      { syncedListIds: ['NOT-AN-ID'] },
      { excludeContacted: 'yes' },
      { detachBehavior: 'drop' },
      { columnMappings: { [list.id]: { notacolumn: column.id } } },
      { syncedListIds: Array.from({ length: 21 }, () => list.id) },
    ]) {
      await fails(team.request('PATCH', path, body), 400, 'VALIDATION_ERROR');
    }
    await fails(team.request('PATCH', '/api/v1/campaigns/v2/nosuchcampaign/rules', {}), 404, 'CAMPAIGN_NOT_FOUND');
    expect(await getCampaign(team, campaign.id)).toEqual(before);
    expect((await syncJobs(campaign.id)).map((j) => j.status)).toEqual(['completed']);
  });

  it('syncs synced lists into the campaign, and excluded lists beat them', async () => {
    const team = await newTeam();
    const [a, b, c, d] = randomIds(4);
    const [listA, listB, blocked] = [await newList(team, 'A'), await newList(team, 'B'), await newList(team, 'Blocked')];
    await fillList(team, listA.id, [a!, b!, c!]);
    await fillList(team, listB.id, [c!, d!]);
    await fillList(team, blocked.id, [b!]);
    const campaign = await newCampaign(team);
    await setRules(team, campaign.id, { syncedListIds: [listA.id, listB.id], excludedListIds: [blocked.id] });
    await runSyncs(team);
    expect(await statesOf(team, campaign.id)).toEqual({ [a!]: 'pending', [b!]: 'excluded:excluded_list', [c!]: 'pending', [d!]: 'pending' });
    const leads = await leadsByPlatformId(team, campaign.id);
    expect(leads.get(c!)!.source).toEqual({ direct: false, listIds: [listA.id, listB.id].sort() });
    expect(await getCampaign(team, campaign.id)).toMatchObject({ isSyncing: false, scopeAssessedCount: 4, targetsCount: 3, contactedCount: 0 });

    // Lifting the exclusion lets the lead in; a lead is never in the campaign twice.
    await setRules(team, campaign.id, { excludedListIds: [] });
    await runSyncs(team);
    expect(Object.values(await statesOf(team, campaign.id))).toEqual(['pending', 'pending', 'pending', 'pending']);
  });

  it('excludes leads any team account contacted, or mutuals, from real threads', async () => {
    const team = await newTeam();
    const [account, other] = [await linkAccount(team), await linkAccount(team)];
    const [contacted, mutual, fresh] = randomIds(3);
    // Contacted from the second account: the flags span all the team's accounts.
    await ok(team.request('POST', '/api/v1/threads/messages', { accountLinkId: other.id, externalPlatformId: contacted, content: 'Hi' }));
    await inbound(team, account.id, mutual!, 'Hello there');
    await ok(team.request('POST', '/api/v1/threads/messages', { accountLinkId: account.id, externalPlatformId: mutual, content: 'Hi back' }));
    const { campaign } = await syncedCampaign(team, [contacted!, mutual!, fresh!], { excludeContacted: true });
    expect(await statesOf(team, campaign.id)).toEqual({ [contacted!]: 'excluded:contacted', [mutual!]: 'excluded:contacted', [fresh!]: 'pending' });
    await setRules(team, campaign.id, { excludeContacted: false, excludeMutuals: true });
    await runSyncs(team);
    expect(await statesOf(team, campaign.id)).toEqual({ [contacted!]: 'pending', [mutual!]: 'excluded:mutual', [fresh!]: 'pending' });
    expect((await getCampaign(team, campaign.id)).targetsCount).toBe(2);
  });

  it('never removes or excludes a lead the campaign already contacted', async () => {
    const team = await newTeam();
    const [reached, waiting] = randomIds(2);
    const { list, campaign } = await syncedCampaign(team, [reached!, waiting!]);
    const leads = await leadsByPlatformId(team, campaign.id);
    await markContacted(campaign.id, leads.get(reached!)!.prospect.externalId);
    const blocked = await newList(team, 'Blocked');
    await fillList(team, blocked.id, [reached!, waiting!]);
    await setRules(team, campaign.id, { excludedListIds: [blocked.id], excludeContacted: true });
    await runSyncs(team);
    expect(await statesOf(team, campaign.id)).toEqual({ [reached!]: 'active', [waiting!]: 'excluded:excluded_list' });
    // Its list letting it go does not remove it either.
    await ok(team.request('DELETE', `/api/v1/lists/${list.id}/leads`, { platformIds: [reached, waiting] }));
    await runSyncs(team);
    expect(await statesOf(team, campaign.id)).toEqual({ [reached!]: 'active' });
    expect(await getCampaign(team, campaign.id)).toMatchObject({ targetsCount: 1, contactedCount: 1, completionRate: 0 }); // contacted, not yet through its sequence
  });

  it('unlink keeps a detached list’s leads as direct ones; remove drops those only it brought', async () => {
    const team = await newTeam();
    const [only, shared, reached] = randomIds(3);
    for (const detachBehavior of ['unlink', 'remove'] as const) {
      const [listA, listB] = [await newList(team, `A ${detachBehavior}`), await newList(team, `B ${detachBehavior}`)];
      await fillList(team, listA.id, [only!, shared!, reached!]);
      await fillList(team, listB.id, [shared!]);
      const campaign = await newCampaign(team);
      await setRules(team, campaign.id, { syncedListIds: [listA.id, listB.id] });
      await runSyncs(team);
      await markContacted(campaign.id, (await leadsByPlatformId(team, campaign.id)).get(reached!)!.prospect.externalId);
      await setRules(team, campaign.id, { syncedListIds: [listB.id], detachBehavior });
      await runSyncs(team);
      const leads = await leadsByPlatformId(team, campaign.id);
      if (detachBehavior === 'unlink') {
        expect([...leads.keys()].sort()).toEqual([only!, shared!, reached!].sort());
        expect(leads.get(only!)!.source).toEqual({ direct: true, listIds: [] });
        expect(leads.get(shared!)!.source).toEqual({ direct: true, listIds: [listB.id] });
        // Unlinked leads no longer follow the list.
        await ok(team.request('DELETE', `/api/v1/lists/${listA.id}/leads`, { platformIds: [only] }));
        await runSyncs(team);
        expect((await leadsByPlatformId(team, campaign.id)).has(only!)).toBe(true);
      } else {
        expect([...leads.keys()].sort()).toEqual([shared!, reached!].sort());
        expect(leads.get(shared!)!.source).toEqual({ direct: false, listIds: [listB.id] });
        expect(leads.get(reached!)!.state).toBe('active');
      }
    }
  });

  it('follows list membership: added, removed and newly excluded leads reach the campaign', async () => {
    const team = await newTeam();
    const [first, second, third] = randomIds(3);
    const { list, campaign } = await syncedCampaign(team, [first!]);
    const blocked = await newList(team, 'Blocked');
    await setRules(team, campaign.id, { excludedListIds: [blocked.id] });
    await runSyncs(team);

    await fillList(team, list.id, [second!, third!]);
    expect((await getCampaign(team, campaign.id)).isSyncing).toBe(true);
    await runSyncs(team);
    expect(await statesOf(team, campaign.id)).toEqual({ [first!]: 'pending', [second!]: 'pending', [third!]: 'pending' });
    expect((await getCampaign(team, campaign.id)).isSyncing).toBe(false);

    await ok(team.request('DELETE', `/api/v1/lists/${list.id}/leads`, { platformIds: [first] }));
    await fillList(team, blocked.id, [second!]);
    // Both changes wait in one job.
    expect((await syncJobs(campaign.id)).filter((j) => j.status === 'queued')).toHaveLength(1);
    await runSyncs(team);
    expect(await statesOf(team, campaign.id)).toEqual({ [second!]: 'excluded:excluded_list', [third!]: 'pending' });
  });

  it('copies mapped list column values into campaign columns, and follows their changes', async () => {
    const team = await newTeam();
    const list = await newList(team);
    const listColumn = await ok(team.request('POST', `/api/v1/lists/${list.id}/columns`, { name: 'Company' }));
    const unmapped = await ok(team.request('POST', `/api/v1/lists/${list.id}/columns`, { name: 'Notes' }));
    const [lead] = randomIds(1);
    await fillList(team, list.id, [lead!], { [listColumn.id]: 'Acme', [unmapped.id]: 'ignore me' });
    const campaign = await newCampaign(team);
    const column = await ok(team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/columns`, { name: 'Company' }));
    await setRules(team, campaign.id, { syncedListIds: [list.id], columnMappings: { [list.id]: { [listColumn.id]: column.id } } });
    expect((await rulesOf(team, campaign.id)).syncedLists[0].columnMapping).toEqual({ [listColumn.id]: column.id });
    await runSyncs(team);
    expect((await leadsByPlatformId(team, campaign.id)).get(lead!)!.data).toEqual({ [column.id]: 'Acme' });
    await ok(team.request('PATCH', `/api/v1/lists/${list.id}/leads/${lead}`, { data: { [listColumn.id]: 'Acme Inc' } }));
    await runSyncs(team);
    expect((await leadsByPlatformId(team, campaign.id)).get(lead!)!.data).toEqual({ [column.id]: 'Acme Inc' });
    // The mapped campaign column cannot go while the mapping needs it.
    await fails(team.request('DELETE', `/api/v1/campaigns/v2/${campaign.id}/columns/${column.id}`), 409, 'CONFLICT');
  });

  it('keeps unreachable profiles out (suspended, deactivated, DMs closed) and lets them in when reachable', async () => {
    const team = await newTeam();
    const [suspended, deactivated, closed, fine] = randomIds(4);
    const list = await newList(team);
    await fillList(team, list.id, [suspended!, deactivated!, closed!, fine!]);
    const profile = (id: string, body: Record<string, unknown>) => ok(team.request('PUT', `/api/v1/sandbox/profiles/${id}`, body));
    await profile(suspended!, { accountStatus: 'suspended' });
    await profile(deactivated!, { accountStatus: 'deactivated' });
    await profile(closed!, { dmsOpen: false });
    const campaign = await newCampaign(team);
    await setRules(team, campaign.id, { syncedListIds: [list.id] });
    await runSyncs(team);
    expect(await statesOf(team, campaign.id)).toEqual({
      [suspended!]: 'excluded:suspended',
      [deactivated!]: 'excluded:deactivated',
      [closed!]: 'excluded:dms_closed',
      [fine!]: 'pending',
    });
    expect((await getCampaign(team, campaign.id)).targetsCount).toBe(1);
    await profile(closed!, { dmsOpen: true });
    await setRules(team, campaign.id, {});
    await runSyncs(team);
    expect((await statesOf(team, campaign.id))[closed!]).toBe('pending');
  });

  it('shows isSyncing and scopeAssessedCount while a sync runs batch by batch', async () => {
    const team = await newTeam();
    const list = await newList(team);
    await fillList(team, list.id, randomIds(2_500));
    const campaign = await newCampaign(team);
    await setRules(team, campaign.id, { syncedListIds: [list.id] });
    expect(await getCampaign(team, campaign.id)).toMatchObject({ isSyncing: true, scopeAssessedCount: 0, targetsCount: 0 });
    const oneBatchATurn = await syncRunner(1);
    // Turn by turn until one was this campaign's (on a shared PostgreSQL, other workers' jobs are due too).
    const nextBatch = async () => {
      const before = (await getCampaign(team, campaign.id)).scopeAssessedCount;
      while ((await getCampaign(team, campaign.id)).scopeAssessedCount === before) await oneBatchATurn.runOnce();
    };
    await nextBatch();
    expect(await getCampaign(team, campaign.id)).toMatchObject({ isSyncing: true, scopeAssessedCount: 1_000, targetsCount: 1_000 });
    await nextBatch();
    expect(await getCampaign(team, campaign.id)).toMatchObject({ isSyncing: true, scopeAssessedCount: 2_000 });
    // A rules change mid-sync supersedes the running pass: the new one starts over.
    await setRules(team, campaign.id, { excludeMutuals: true });
    expect((await getCampaign(team, campaign.id)).scopeAssessedCount).toBe(0);
    await runSyncs(team, oneBatchATurn);
    expect(await getCampaign(team, campaign.id)).toMatchObject({ isSyncing: false, scopeAssessedCount: 2_500, targetsCount: 2_500 });
  });

  it('syncs a 5,000-lead list in batches of 1,000', { timeout: 300_000 }, async () => {
    const team = await newTeam();
    const list = await newList(team);
    const ids = randomIds(5_000);
    await fillList(team, list.id, ids);
    const campaign = await newCampaign(team);
    await setRules(team, campaign.id, { syncedListIds: [list.id] });
    await runSyncs(team);
    expect(await getCampaign(team, campaign.id)).toMatchObject({ isSyncing: false, scopeAssessedCount: 5_000, targetsCount: 5_000 });
    const { db } = await sharedStore();
    const sources = await db
      .selectFrom('campaign_lead_sources')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('campaign_id', '=', campaign.id)
      .executeTakeFirstOrThrow();
    expect(Number(sources.n)).toBe(5_000);
  });

  it('is invisible to other teams', async () => {
    const team = await newTeam();
    const other = await newTeam();
    const campaign = await newCampaign(team);
    await fails(other.request('PATCH', `/api/v1/campaigns/v2/${campaign.id}/rules`, { excludeContacted: true }), 404, 'CAMPAIGN_NOT_FOUND');
    expect((await rulesOf(team, campaign.id)).excludeContacted).toBe(false);
  });
});

describe('lead rules given when the campaign is created', () => {
  it('applies them and syncs the lists, or refuses the whole create when they are invalid', async () => {
    const team = await newTeam();
    const ids = randomIds(3);
    const list = await newList(team, 'At creation');
    await fillList(team, list.id, ids);
    const created = await team.request('POST', '/api/v1/campaigns/v2', {
      name: 'Ruled from the start',
      rules: { syncedListIds: [list.id], excludeContacted: true },
    });
    expect(created.statusCode).toBe(200);
    const campaign = created.json();
    expect(campaign.rules).toMatchObject({ syncedLists: [{ listId: list.id, listName: 'At creation' }], excludeContacted: true });
    expect(campaign.isSyncing).toBe(true);
    await runSyncs(team);
    expect((await getCampaign(team, campaign.id)).targetsCount).toBe(3);

    const before = (await team.request('GET', '/api/v1/campaigns')).json().campaigns.length;
    const refused = await team.request('POST', '/api/v1/campaigns/v2', { name: 'Bad rules', rules: { syncedListIds: ['nosuchlist'] } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.code).toBe('VALIDATION_ERROR');
    expect((await team.request('GET', '/api/v1/campaigns')).json().campaigns).toHaveLength(before);
  });
});
