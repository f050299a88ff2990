import { beforeAll, describe, expect, it } from 'vitest';
import { newTeam, testApp, type TeamClient } from './helpers/app.js';
import { eventTypes, HELLO_SEQUENCE, insertLead, linkAccount, newProspect, readyCampaign } from './helpers/campaigns.js';
import { sharedStore } from './helpers/store.js';

const api = '/api/v1/campaigns';
const v2 = `${api}/v2`;
const WEEKDAYS_9_TO_5 = Object.fromEntries(['1', '2', '3', '4', '5'].map((d) => [d, { start: 540, end: 1020 }]));

/** The CampaignSummary of webhook payloads: the v2 values under their legacy names (spec 4.12.3). */
const legacySummary = (c: Record<string, unknown>) => ({
  id: c.id,
  name: c.name,
  description: c.description,
  status: c.status,
  dryRun: c.isSimulated,
  targetsCount: c.targetsCount,
  contactedCount: c.contactedCount,
  repliesCount: c.repliedCount,
  completionRate: c.completionRate,
  replyRate: c.replyRate,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
  pausedAt: c.pausedAt,
  completedAt: c.completedAt,
  lastStartedAt: c.startedAt,
});

// Starting the store and server is slow when this file is a worker's first: give it the hook timeout.
beforeAll(() => testApp());

async function create(team: TeamClient, body: Record<string, unknown> = { name: 'Q1 founders' }) {
  const response = await team.request('POST', v2, body);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

describe('campaign settings', () => {
  it('creates a draft with the defaults and shows it exactly in the v2 shape', async () => {
    const team = await newTeam();
    const campaign = await create(team);
    expect(campaign).toEqual({
      id: expect.stringMatching(/^[0-9a-z]{24}$/),
      name: 'Q1 founders',
      description: null,
      status: 'draft',
      enabled: false,
      isSimulated: false,
      targetsCount: 0,
      contactedCount: 0,
      repliedCount: 0,
      completionRate: 0,
      replyRate: 0,
      messagesPerHour: 8,
      timezone: 'UTC',
      schedule: WEEKDAYS_9_TO_5,
      isRebalancing: false,
      isSyncing: false,
      scopeAssessedCount: 0,
      accountLinkIds: [],
      rules: { syncedLists: [], excludedLists: [], excludeContacted: false, excludeMutuals: false },
      sequence: { version: 0, steps: [] },
      automations: [],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updatedAt: null,
      pausedAt: null,
      completedAt: null,
      startedAt: null,
      pauseReason: null,
    });
    expect((await team.request('GET', `${v2}/${campaign.id}`)).json()).toEqual(campaign);
  });

  it('creates with every setting and updates them', async () => {
    const team = await newTeam();
    const [a, b] = [await linkAccount(team), await linkAccount(team)];
    const settings = {
      description: 'Targeting SaaS founders',
      accountLinkIds: [b.id, a.id],
      messagesPerHour: 13,
      timezone: 'America/New_York',
      schedule: { '0': { start: 0, end: 1440 } },
    };
    const campaign = await create(team, { name: '  Spring  ', ...settings });
    expect(campaign).toMatchObject({ name: 'Spring', ...settings });
    const patched = await team.request('PATCH', `${v2}/${campaign.id}`, { description: null, accountLinkIds: [a.id], timezone: 'Europe/Paris' });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'Spring', description: null, accountLinkIds: [a.id], messagesPerHour: 13, timezone: 'Europe/Paris' });
    expect(patched.json().updatedAt).not.toBeNull();
    const cleared = await team.request('PATCH', `${v2}/${campaign.id}`, { accountLinkIds: [], schedule: {} });
    expect(cleared.json()).toMatchObject({ accountLinkIds: [], schedule: {} });
  });

  it('rejects bad settings with 400 and every problem named, changing nothing', async () => {
    const team = await newTeam();
    const other = await linkAccount(await newTeam());
    const mine = await linkAccount(team);
    const bad = await team.request('POST', v2, {
      name: 'x',
      timezone: 'Mars/Olympus_Mons',
      schedule: { '1': { start: 600, end: 540 }, '2': { start: 0, end: 1441 } },
      accountLinkIds: [mine.id, other.id, mine.id],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_ERROR');
    expect(bad.json().error.details.map((d: { field: string }) => d.field).sort()).toEqual(
      ['accountLinkIds.1', 'accountLinkIds.2', 'schedule.1', 'schedule.2.end', 'timezone'].sort(),
    );
    for (const body of [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(256) },
      { name: 'ok', messagesPerHour: 0 },
      { name: 'ok', messagesPerHour: 26 },
      { name: 'ok', messagesPerHour: 2.5 },
      { name: 'ok', schedule: { '7': { start: 0, end: 60 } } },
      { name: 'ok', schedule: { '1': { start: -1, end: 60 } } },
      { name: 'ok', schedule: { '1': { start: 'nine', end: 60 } } },
      { name: 'ok', schedule: [] },
      { name: 'ok', timezone: '' },
      { name: 'ok', accountLinkIds: ['NOT-AN-ID'] },
      { name: 'ok', description: 5 },
    ]) {
      const response = await team.request('POST', v2, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_ERROR');
    }
    expect((await team.request('GET', api)).json().campaigns).toEqual([]);

    const campaign = await create(team);
    const patch = await team.request('PATCH', `${v2}/${campaign.id}`, { name: 'Renamed', timezone: 'Nowhere/City', accountLinkIds: [other.id] });
    expect(patch.statusCode).toBe(400);
    expect((await team.request('GET', `${v2}/${campaign.id}`)).json()).toEqual(campaign);
  });

  it('lists newest first with cursor pagination and a status filter', async () => {
    const team = await newTeam();
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) ids.push((await create(team, { name })).id);
    const ready = await readyCampaign(team, 'f');
    expect((await team.request('POST', `${v2}/${ready.id}/enable`)).statusCode).toBe(200);

    const seen: string[] = [];
    let url = `${api}?limit=2`;
    for (;;) {
      const page = (await team.request('GET', url)).json();
      seen.push(...page.campaigns.map((c: { name: string }) => c.name));
      if (!page.nextCursor) break;
      expect(page.campaigns).toHaveLength(2);
      url = `${api}?limit=2&cursorId=${page.nextCursor.id}&cursorTimestamp=${encodeURIComponent(page.nextCursor.timestamp)}`;
    }
    expect(seen).toEqual(['f', 'e', 'd', 'c', 'b', 'a']);

    const active = (await team.request('GET', `${api}?status=active`)).json();
    expect(active.campaigns.map((c: { id: string }) => c.id)).toEqual([ready.id]);
    const both = (await team.request('GET', `${api}?status[]=active&status[]=draft&limit=100`)).json();
    expect(both.campaigns).toHaveLength(6);
    expect(both.nextCursor).toBeNull();
    expect((await team.request('GET', `${api}?status=sleeping`)).statusCode).toBe(400);
    expect((await team.request('GET', `${api}?limit=0`)).statusCode).toBe(400);
  });

  it('counts targets, contacted and replied from the leads; completionRate is the share of targets that completed their sequence', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const campaign = await create(team, { name: 'Counted', accountLinkIds: [account.id] });
    const leads = [
      { state: 'active', contacted: true, replied: true },
      { state: 'active', contacted: true },
      { state: 'completed', contacted: true },
      { state: 'pending' },
      { state: 'excluded' },
    ] as const;
    for (const lead of leads) await insertLead(team, campaign.id, (await newProspect(team, account.id)).id, lead);
    const got = (await team.request('GET', `${v2}/${campaign.id}`)).json();
    // Two of the three contacted leads are mid-sequence: only the completed one counts (issue 23).
    expect(got).toMatchObject({ targetsCount: 4, contactedCount: 3, repliedCount: 1, completionRate: 0.25, replyRate: 1 / 3 });
    const v1 = (await team.request('GET', `${api}/${campaign.id}`)).json();
    expect(v1).toMatchObject({ targetsCount: 4, contactedCount: 3, repliesCount: 1, completionRate: 0.25, estimatedTargets: 4 });
  });

  it('deletes a campaign that is not active, and 409s while it is', async () => {
    const team = await newTeam();
    const draft = await create(team);
    expect((await team.request('DELETE', `${v2}/${draft.id}`)).statusCode).toBe(200);
    expect((await team.request('GET', `${v2}/${draft.id}`)).json().error).toMatchObject({ code: 'CAMPAIGN_NOT_FOUND', status: 404 });

    const ready = await readyCampaign(team);
    await team.request('POST', `${v2}/${ready.id}/enable`, {});
    const refused = await team.request('DELETE', `${v2}/${ready.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('CONFLICT');
    expect((await team.request('GET', `${v2}/${ready.id}`)).json().status).toBe('active');
    await team.request('POST', `${v2}/${ready.id}/disable`, {});
    expect((await team.request('DELETE', `${v2}/${ready.id}`)).statusCode).toBe(200);
    const { db } = await sharedStore();
    expect(await db.selectFrom('campaign_leads').select('id').where('campaign_id', '=', ready.id).execute()).toEqual([]);
  });
});

describe('campaign lifecycle', () => {
  it('starts, pauses and resumes, with the events in order and the timestamps set', async () => {
    const team = await newTeam();
    const { id } = await readyCampaign(team);
    const started = await team.request('POST', `${v2}/${id}/enable`, {});
    expect(started.statusCode, started.body).toBe(200);
    expect(started.json()).toMatchObject({ status: 'active', enabled: true, pausedAt: null, pauseReason: null, targetsCount: 1 });
    const firstStart = started.json().startedAt;
    expect(firstStart).not.toBeNull();

    const paused = (await team.request('POST', `${v2}/${id}/disable`)).json();
    expect(paused).toMatchObject({ status: 'paused', enabled: false, startedAt: firstStart, pauseReason: 'manual' });
    expect(paused.pausedAt).not.toBeNull();

    const resumed = (await team.request('POST', `${v2}/${id}/enable`, {})).json();
    expect(resumed).toMatchObject({ status: 'active', enabled: true, pausedAt: paused.pausedAt, pauseReason: null });
    expect(resumed.startedAt >= firstStart).toBe(true);

    const events = (await team.request('GET', '/api/v1/events')).json().events;
    expect(events.map((e: { type: string }) => e.type)).toEqual([
      'campaign.created',
      'prospect.created',
      'thread.created',
      'campaign.started',
      'campaign.paused',
      'campaign.started',
      'campaign.resumed',
    ]);
    const resumedEvent = events.at(-1);
    expect(resumed.pausedAt).toBe(paused.pausedAt);
    expect(resumedEvent.data.campaign).toEqual(legacySummary(resumed));
    expect(events.find((e: { type: string }) => e.type === 'campaign.paused').data.campaign).toMatchObject({ status: 'paused' });
  });

  it('answers every refused transition with 409 CONFLICT and changes nothing', async () => {
    const team = await newTeam();
    const draft = await create(team);
    const pauseDraft = await team.request('POST', `${v2}/${draft.id}/disable`, {});
    expect(pauseDraft.statusCode).toBe(409);
    expect(pauseDraft.json().error).toMatchObject({ code: 'CONFLICT', status: 409 });
    expect((await team.request('POST', `${api}/${draft.id}/pause`, {})).statusCode).toBe(409);

    const { id } = await readyCampaign(team);
    await team.request('POST', `${v2}/${id}/enable`, {});
    expect((await team.request('POST', `${v2}/${id}/enable`, {})).statusCode).toBe(409);
    await team.request('POST', `${v2}/${id}/disable`, {});
    expect((await team.request('POST', `${v2}/${id}/disable`, {})).statusCode).toBe(409);

    const { db } = await sharedStore();
    await db.updateTable('campaigns').set({ status: 'completed', completed_at: new Date(), enabled: false }).where('id', '=', id).execute();
    const before = (await team.request('GET', `${v2}/${id}`)).json();
    for (const action of ['enable', 'disable']) {
      const response = await team.request('POST', `${v2}/${id}/${action}`, {});
      expect(response.statusCode, action).toBe(409);
      expect(response.json().error.message).toContain('completed');
    }
    expect((await team.request('GET', `${v2}/${id}`)).json()).toEqual(before);
    expect((await team.request('DELETE', `${v2}/${id}`)).statusCode).toBe(200);
    expect((await eventTypes(team)).filter((t) => t.startsWith('campaign.'))).toEqual([
      'campaign.created',
      'campaign.created',
      'campaign.started',
      'campaign.paused',
    ]);
  });

  it('refuses to enable with one 422 CAMPAIGN_NOT_READY listing every missing piece', async () => {
    const team = await newTeam();
    const campaign = await create(team);
    const response = await team.request('POST', `${v2}/${campaign.id}/enable`, {});
    expect(response.statusCode).toBe(422);
    expect(response.json().error).toMatchObject({ code: 'CAMPAIGN_NOT_READY', status: 422 });
    expect(response.json().error.details).toEqual([
      { field: 'leads', message: expect.any(String) },
      { field: 'accountLinkIds', message: 'link at least one account to send from' },
      { field: 'sequence.steps', message: 'the sequence needs at least one message step' },
    ]);
    expect((await team.request('GET', `${v2}/${campaign.id}`)).json()).toEqual(campaign);
    expect(await eventTypes(team)).toEqual(['campaign.created']);
  });

  it('needs an active account, a lead pending or active, and a sequence whose variables exist', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const campaign = await create(team, { name: 'Almost', accountLinkIds: [account.id] });
    const column = (await team.request('POST', `${v2}/${campaign.id}/columns`, { name: 'Company' })).json();
    const sequence = { steps: [{ type: 'message', data: { segments: [{ type: 'variable', name: column.id, fallback: 'your company' }] } }] };
    expect((await team.request('PUT', `${v2}/${campaign.id}/sequence`, sequence)).statusCode).toBe(200);
    // A column used by the sequence cannot be deleted; simulate one gone behind the API's back.
    const { db } = await sharedStore();
    await db.deleteFrom('campaign_columns').where('id', '=', column.id).execute();
    await team.request('PATCH', `/api/v1/account-links/${account.id}`, { status: 'offline' });
    for (const state of ['completed', 'replied', 'excluded', 'cancelled', 'failed'] as const) {
      await insertLead(team, campaign.id, (await newProspect(team, account.id)).id, { state });
    }
    const response = await team.request('POST', `${v2}/${campaign.id}/enable`, {});
    expect(response.statusCode).toBe(422);
    expect(response.json().error.details).toEqual([
      { field: 'leads', message: expect.any(String) },
      { field: 'accountLinkIds', message: 'none of the linked accounts is active' },
      { field: 'sequence.steps.0.data.segments.0.name', message: expect.stringContaining(column.id) },
    ]);

    await team.request('PATCH', `/api/v1/account-links/${account.id}`, { status: 'active' });
    await insertLead(team, campaign.id, (await newProspect(team, account.id)).id, { state: 'active' });
    await team.request('PUT', `${v2}/${campaign.id}/sequence`, HELLO_SEQUENCE);
    expect((await team.request('POST', `${v2}/${campaign.id}/enable`, {})).statusCode).toBe(200);
  });
});

describe('legacy v1 routes', () => {
  it('shows the v1 shape and pauses through /pause', async () => {
    const team = await newTeam();
    const { id, accountLinkId } = await readyCampaign(team);
    const column = (await team.request('POST', `${v2}/${id}/columns`, { name: 'Company name', description: 'Where they work' })).json();
    const status = (await team.request('POST', '/api/v1/statuses', { name: 'Replied' })).json();
    const automations = (
      await team.request('PUT', `${v2}/${id}/automations`, [{ trigger: 'replied', action: 'setStatus', actionData: { statusId: status.id } }])
    ).json();
    const v2Campaign = (await team.request('POST', `${v2}/${id}/enable`, {})).json();

    const v1 = await team.request('GET', `${api}/${id}`);
    expect(v1.statusCode).toBe(200);
    expect(v2Campaign).toMatchObject({ name: 'Ready', status: 'active', targetsCount: 1, pausedAt: null });
    expect(v1.json()).toEqual({
      ...legacySummary(v2Campaign),
      type: 'sequence',
      hourlyMessageRate: 8,
      scheduleTimezone: 'UTC',
      scheduleHours: WEEKDAYS_9_TO_5,
      estimatedTargets: 1,
      isHydrating: false,
      isBuildingPlan: false,
      steps: v2Campaign.sequence.steps.map((s: object) => ({ ...s, campaignVersion: 1 })),
      lists: [],
      accountLinkIds: [accountLinkId],
      automations,
      customVariables: { [column.id]: { displayName: 'Company name', description: 'Where they work' } },
    });

    const paused = await team.request('POST', `${api}/${id}/pause`, {});
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ status: 'paused', type: 'sequence', hourlyMessageRate: 8 });
    expect(paused.json().pausedAt).not.toBeNull();
    expect((await eventTypes(team)).at(-1)).toBe('campaign.paused');
  });
});

describe('isolation', () => {
  it("gives another team 404 CAMPAIGN_NOT_FOUND on every campaign route and leaves the campaign alone", async () => {
    const owner = await newTeam();
    const { id } = await readyCampaign(owner);
    const column = (await owner.request('POST', `${v2}/${id}/columns`, { name: 'Role' })).json();
    const before = (await owner.request('GET', `${v2}/${id}`)).json();
    const intruder = await newTeam();
    const routes: [string, string, unknown?][] = [
      ['GET', `${v2}/${id}`],
      ['PATCH', `${v2}/${id}`, { name: 'Mine now' }],
      ['DELETE', `${v2}/${id}`],
      ['POST', `${v2}/${id}/enable`, {}],
      ['POST', `${v2}/${id}/disable`, {}],
      ['GET', `${api}/${id}`],
      ['POST', `${api}/${id}/pause`, {}],
      ['PUT', `${v2}/${id}/sequence`, HELLO_SEQUENCE],
      ['GET', `${v2}/${id}/sequence/versions`],
      ['POST', `${v2}/${id}/sequence/preview`, {}],
      ['GET', `${v2}/${id}/columns`],
      ['POST', `${v2}/${id}/columns`, { name: 'Stolen' }],
      ['PATCH', `${v2}/${id}/columns/${column.id}`, { name: 'Stolen' }],
      ['DELETE', `${v2}/${id}/columns/${column.id}`],
      ['GET', `${v2}/${id}/automations`],
      ['PUT', `${v2}/${id}/automations`, []],
    ];
    for (const [method, url, body] of routes) {
      const response = await intruder.request(method as 'GET', url, body);
      expect(response.statusCode, `${method} ${url}`).toBe(404);
      expect(response.json().error.code, `${method} ${url}`).toBe('CAMPAIGN_NOT_FOUND');
    }
    expect((await intruder.request('GET', api)).json().campaigns).toEqual([]);
    expect((await owner.request('GET', `${v2}/${id}`)).json()).toEqual(before);
    expect((await owner.request('GET', `${v2}/${id}/columns`)).json()).toEqual([column]);
  });
});
