import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { newTeam, testApp } from './helpers/app.js';
import { eventTypes, HELLO_SEQUENCE, insertLead, linkAccount, newProspect } from './helpers/campaigns.js';
import { newList, runSyncs } from './helpers/lead-rules.js';
import { ok } from './helpers/sandbox.js';

const v2 = '/api/v1/campaigns/v2';

beforeAll(() => testApp());

describe('POST /campaigns/v2/{id}/duplicate', () => {
  it('copies settings, accounts, columns, the sequence, lead rules and automations into a new draft without the leads', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const [synced, excluded] = [await newList(team, 'Synced'), await newList(team, 'Excluded')];
    const listColumn = await ok<{ id: string }>(team.request('POST', `/api/v1/lists/${synced.id}/columns`, { name: 'Company' }));
    const schedule = { '2': { start: 600, end: 720 } };
    const source = await ok<{ id: string }>(
      team.request('POST', v2, { name: 'Founders', description: 'Q3', accountLinkIds: [account.id], messagesPerHour: 5, timezone: 'Europe/Paris', schedule }),
    );
    const column = await ok<{ id: string }>(team.request('POST', `${v2}/${source.id}/columns`, { name: 'Company', type: 'text' }));
    const [variation, text] = [{ type: 'variation', options: ['Hi', 'Hey'] }, { type: 'static', text: ' at ' }];
    const steps = [
      { type: 'message', data: { segments: [variation, text, { type: 'variable', name: column.id, fallback: 'your company' }] } },
      ...HELLO_SEQUENCE.steps.slice(1),
    ];
    await ok(team.request('PUT', `${v2}/${source.id}/sequence`, { steps }));
    await ok(
      team.request('PATCH', `${v2}/${source.id}/rules`, {
        syncedListIds: [synced.id],
        excludedListIds: [excluded.id],
        columnMappings: { [synced.id]: { [listColumn.id]: column.id } },
        excludeContacted: true,
        excludeMutuals: false,
      }),
    );
    const tag = await ok<{ id: string }>(team.request('POST', '/api/v1/tags', { name: 'Replied' }));
    await ok(team.request('PUT', `${v2}/${source.id}/automations`, [{ trigger: 'replied', action: 'addTag', actionData: { tagId: tag.id }, enabled: false }]));
    await insertLead(team, source.id, (await newProspect(team, account.id)).id);
    await runSyncs(team);

    const response = await team.request('POST', `${v2}/${source.id}/duplicate`);
    expect(response.statusCode, response.body).toBe(200);
    const copy = response.json();
    await runSyncs(team);
    const original = await ok<Record<string, any>>(team.request('GET', `${v2}/${source.id}`));
    expect(copy.id).not.toBe(source.id);
    expect(copy).toMatchObject({
      name: 'Founders (copy)',
      description: 'Q3',
      status: 'draft',
      accountLinkIds: [account.id],
      messagesPerHour: 5,
      timezone: 'Europe/Paris',
      schedule,
      targetsCount: 0,
      rules: { ...original.rules, syncedLists: [{ listId: synced.id, listName: 'Synced', columnMapping: { [listColumn.id]: expect.stringMatching(/^custom_/) } }] },
      automations: [{ trigger: 'replied', action: 'addTag', actionData: { tagId: tag.id }, enabled: false, id: expect.any(String) }],
    });
    const [copiedColumn] = await ok<Array<{ id: string; name: string }>>(team.request('GET', `${v2}/${copy.id}/columns`));
    expect(copiedColumn).toMatchObject({ name: 'Company', type: 'text' });
    expect(copiedColumn!.id).not.toBe(column.id);
    expect(copy.rules.syncedLists[0].columnMapping[listColumn.id]).toBe(copiedColumn!.id);
    // The same steps under new ids, the variable pointing at the copy's own column.
    expect(copy.sequence.version).toBe(1);
    expect(copy.sequence.steps.map(({ id, ...step }: { id: string }) => step)).toEqual(
      steps.map((step, rank) => ({
        ...step,
        rank,
        ...(rank === 0 ? { data: { segments: [variation, text, { type: 'variable', name: copiedColumn!.id, fallback: 'your company' }] } } : {}),
      })),
    );
    expect(copy.sequence.steps.map((s: { id: string }) => s.id)).not.toEqual(original.sequence.steps.map((s: { id: string }) => s.id));
    expect((await ok<{ leads: unknown[] }>(team.request('GET', `${v2}/${copy.id}/leads`))).leads).toEqual([]);
    expect((await eventTypes(team)).filter((t) => t === 'campaign.created')).toHaveLength(2);
  });

  it("keeps the copy's name within 255 characters and answers 404 for another team's campaign", async () => {
    const team = await newTeam();
    const long = await ok<{ id: string }>(team.request('POST', v2, { name: 'n'.repeat(255) }));
    const copy = await ok<{ name: string; sequence: { version: number } }>(team.request('POST', `${v2}/${long.id}/duplicate`));
    expect(copy.name).toBe(`${'n'.repeat(248)} (copy)`);
    expect(copy.sequence).toEqual({ version: 0, steps: [] });
    const other = await newTeam();
    const refused = await other.request('POST', `${v2}/${long.id}/duplicate`);
    expect(refused.statusCode).toBe(404);
    expect(refused.json().error.code).toBe('CAMPAIGN_NOT_FOUND');
  });
});

describe('GET /campaigns/v2/{id}/leads/export', () => {
  it('streams every lead with its state and column values, neutralising cells a spreadsheet would run', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const campaign = await ok<{ id: string }>(team.request('POST', v2, { name: 'Export', accountLinkIds: [account.id] }));
    const column = await ok<{ id: string }>(team.request('POST', `${v2}/${campaign.id}/columns`, { name: 'Note, with comma' }));
    const risky = ['=HYPERLINK("http://x")', '+1', '-2', '@SUM(A1)', 'plain "quoted"\nline'];
    const prospects = [];
    for (const [i, note] of risky.entries()) {
      const prospect = await newProspect(team, account.id, { displayName: i === 0 ? '=cmd|calc' : `Lead ${i}` });
      await insertLead(team, campaign.id, prospect.id, { data: { [column.id]: note }, state: i === 1 ? 'replied' : 'pending' });
      prospects.push(prospect);
    }
    const response = await team.request('GET', `${v2}/${campaign.id}/leads/export`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toBe(`attachment; filename="campaign-${campaign.id}-leads.csv"`);
    const [header, ...rows]: string[][] = parse(response.body);
    expect(header).toEqual([
      'platformId',
      'username',
      'displayName',
      'state',
      'account',
      'stepReached',
      'messagesSent',
      'contactedAt',
      'lastContactAt',
      'nextStepAt',
      'repliedAt',
      'failureReason',
      'addedAt',
      'Note, with comma',
    ]);
    expect(rows.map((r) => r[0])).toEqual(prospects.map((p) => p.platformId));
    expect(rows.map((r) => r[3])).toEqual(['pending', 'replied', 'pending', 'pending', 'pending']);
    expect(rows[0]![2]).toBe("'=cmd|calc");
    expect(rows.map((r) => r.at(-1))).toEqual(["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", 'plain "quoted"\nline']);
  });
});
