import { beforeAll, describe, expect, it } from 'vitest';
import { newTeam, testApp, type TeamClient } from './helpers/app.js';
import { HELLO_SEQUENCE, insertLead, linkAccount, newProspect } from './helpers/campaigns.js';
import { sharedStore } from './helpers/store.js';

const v2 = '/api/v1/campaigns/v2';

// Starting the store and server is slow when this file is a worker's first: give it the hook timeout.
beforeAll(() => testApp());

async function draft(team: TeamClient): Promise<string> {
  return (await team.request('POST', v2, { name: 'Config' })).json().id;
}

const message = (...segments: object[]) => ({ type: 'message', data: { segments } });
const text = (t: string) => ({ type: 'static', text: t });

describe('sequence', () => {
  it('versions every PUT with server-assigned ids and ranks, and keeps the old versions', async () => {
    const team = await newTeam();
    const id = await draft(team);
    const first = await team.request('PUT', `${v2}/${id}/sequence`, HELLO_SEQUENCE);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({
      version: 1,
      steps: HELLO_SEQUENCE.steps.map((step, rank) => ({ ...step, id: expect.stringMatching(/^[0-9a-z]{24}$/), rank })),
    });
    const second = (
      await team.request('PUT', `${v2}/${id}/sequence`, { steps: [{ type: 'likeTweet' }, message(text('Hello'))] })
    ).json();
    expect(second).toEqual({
      version: 2,
      steps: [
        { id: expect.any(String), rank: 0, type: 'likeTweet', data: {} },
        { id: expect.any(String), rank: 1, ...message(text('Hello')) },
      ],
    });
    expect(new Set([...first.json().steps, ...second.steps].map((s: { id: string }) => s.id)).size).toBe(5);
    expect((await team.request('GET', `${v2}/${id}`)).json().sequence).toEqual(second);

    const versions = (await team.request('GET', `${v2}/${id}/sequence/versions`)).json();
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions[1]).toEqual({ ...first.json(), createdAt: expect.any(String) });
  });

  it('rejects an invalid sequence with 400 naming each problem, keeping the current version', async () => {
    const team = await newTeam();
    const id = await draft(team);
    await team.request('PUT', `${v2}/${id}/sequence`, HELLO_SEQUENCE);
    const bad = await team.request('PUT', `${v2}/${id}/sequence`, {
      steps: [
        message({ type: 'variable', name: 'favourite-color' }, { type: 'variable', name: 'custom_nope' }),
        { type: 'delay', data: { delaySeconds: 5, unit: 'days' } },
        message({ type: 'variation', options: [] }),
      ],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_ERROR');
    expect(bad.json().error.details.map((d: { field: string }) => d.field)).toEqual([
      'steps.0.data.segments.0.name',
      'steps.0.data.segments.1.name',
      'steps.1.data.delaySeconds',
      'steps.2.data.segments.0.options',
    ]);
    for (const body of [
      {},
      { steps: [] },
      { steps: [{ type: 'delay', data: { delaySeconds: 600, unit: 'days' } }] },
      { steps: [{ type: 'teleport', data: {} }] },
      { steps: [message(text('  '))] },
      { steps: [message({ type: 'static' })] },
      { steps: [{ type: 'delay', data: { delaySeconds: 600, unit: 'weeks' } }] },
      { steps: [message(text('x'.repeat(10_001)))] },
      { steps: [{ type: 'likeTweet', data: { tweetId: '1' } }] },
    ]) {
      const response = await team.request('PUT', `${v2}/${id}/sequence`, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await team.request('GET', `${v2}/${id}/sequence/versions`)).json()).toHaveLength(1);
  });

  it('previews the messages for a prospect, with its campaign column values, without sending', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const id = await draft(team);
    const company = (await team.request('POST', `${v2}/${id}/columns`, { name: 'Company' })).json();
    await team.request('PUT', `${v2}/${id}/sequence`, {
      steps: [
        message(
          { type: 'variation', options: ['Hey', 'Hi'] },
          text(' '),
          { type: 'variable', name: 'first-name', fallback: 'there' },
          text(', how is '),
          { type: 'variable', name: company.id, fallback: 'your company' },
          text('? ('),
          { type: 'variable', name: 'location', fallback: 'somewhere' },
          text(')'),
        ),
        { type: 'delay', data: { delaySeconds: 3600, unit: 'hours' } },
        message(text('Bye '), { type: 'variable', name: 'username' }),
      ],
    });
    const lead = await newProspect(team, account.id, { displayName: 'Ada Lovelace | Analyst', location: 'London' });
    const outsider = await newProspect(team, account.id, { displayName: '🚀 Grace Hopper' });
    await insertLead(team, id, lead.id, { data: { [company.id]: 'Analytical Engines' } });
    const { db } = await sharedStore();
    const messagesBefore = await db.selectFrom('messages').select('id').where('team_id', '=', team.teamId).execute();

    const preview = await team.request('POST', `${v2}/${id}/sequence/preview`, { platformId: lead.platformId });
    expect(preview.statusCode, preview.body).toBe(200);
    const body = preview.json();
    expect(body).toMatchObject({
      version: 1,
      lead: { prospectId: lead.id, platformId: lead.platformId, username: lead.username, displayName: 'Ada Lovelace | Analyst', inCampaign: true },
    });
    expect(body.messages).toHaveLength(2);
    expect(body.messages[0].text).toMatch(/^(Hey|Hi) Ada, how is Analytical Engines\? \(London\)$/);
    expect(body.messages[1]).toEqual({ stepId: expect.any(String), rank: 2, text: `Bye ${lead.username}` });
    // The same lead always gets the same words.
    expect((await team.request('POST', `${v2}/${id}/sequence/preview`, { platformId: lead.platformId })).json()).toEqual(body);

    const other = (await team.request('POST', `${v2}/${id}/sequence/preview`, { platformId: outsider.platformId })).json();
    expect(other.lead).toMatchObject({ prospectId: outsider.id, inCampaign: false });
    expect(other.messages[0].text).toMatch(/^(Hey|Hi) Grace, how is your company\? \(somewhere\)$/);

    // No platform id: the campaign's first lead.
    expect((await team.request('POST', `${v2}/${id}/sequence/preview`)).json().lead.prospectId).toBe(lead.id);
    expect(await db.selectFrom('messages').select('id').where('team_id', '=', team.teamId).execute()).toEqual(messagesBefore);

    const unknown = await team.request('POST', `${v2}/${id}/sequence/preview`, { platformId: '123' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('PROSPECT_NOT_FOUND');
    expect((await team.request('POST', `${v2}/${id}/sequence/preview`, { platformId: 'abc' })).statusCode).toBe(400);
  });

  it('previews a sample lead when the campaign has none, and nothing before a sequence exists', async () => {
    const team = await newTeam();
    const id = await draft(team);
    expect((await team.request('POST', `${v2}/${id}/sequence/preview`, {})).json()).toEqual({
      version: 0,
      lead: { prospectId: null, platformId: null, username: 'janedoe', displayName: 'Jane Doe', inCampaign: false },
      messages: [],
    });
    await team.request('PUT', `${v2}/${id}/sequence`, HELLO_SEQUENCE);
    const preview = (await team.request('POST', `${v2}/${id}/sequence/preview`, {})).json();
    expect(preview.messages.map((m: { text: string }) => m.text)).toEqual(['Hi Jane', 'Following up!']);
  });

  it('previews a draft sent with the request, checked as a PUT checks it, without saving it', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const id = await draft(team);
    await team.request('PUT', `${v2}/${id}/sequence`, HELLO_SEQUENCE);
    const lead = await newProspect(team, account.id, { displayName: 'Ada Lovelace' });
    const steps = [
      { type: 'likeTweet' },
      message(text('Hello '), { type: 'variable', name: 'first-name' }, text(', '), { type: 'variation', options: ['one', 'two'] }),
    ];

    const drafted = await team.request('POST', `${v2}/${id}/sequence/preview`, { platformId: lead.platformId, steps });
    expect(drafted.statusCode, drafted.body).toBe(200);
    expect(drafted.json()).toEqual({
      version: null,
      lead: expect.objectContaining({ prospectId: lead.id }),
      messages: [{ stepId: null, rank: 1, text: expect.stringMatching(/^Hello Ada, (one|two)$/) }],
    });
    // Typed again, the same draft reads the same.
    expect((await team.request('POST', `${v2}/${id}/sequence/preview`, { platformId: lead.platformId, steps })).json()).toEqual(drafted.json());

    const invalid = await team.request('POST', `${v2}/${id}/sequence/preview`, {
      steps: [message(text('Hi '), { type: 'variable', name: 'custom_nope' }), { type: 'delay', data: { delaySeconds: 5, unit: 'days' } }],
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.code).toBe('VALIDATION_ERROR');
    expect(invalid.json().error.details.map((d: { field: string }) => d.field)).toEqual(['steps.0.data.segments.1.name', 'steps.1.data.delaySeconds']);
    for (const steps of [[], [{ type: 'teleport' }], [message({ type: 'static' })]]) {
      expect((await team.request('POST', `${v2}/${id}/sequence/preview`, { steps })).statusCode, JSON.stringify(steps)).toBe(400);
    }

    // Without steps, the saved sequence; the drafts saved nothing.
    const saved = (await team.request('POST', `${v2}/${id}/sequence/preview`, { platformId: lead.platformId })).json();
    expect(saved).toMatchObject({ version: 1, messages: [{ stepId: expect.any(String), text: 'Hi Ada' }, { text: 'Following up!' }] });
    expect((await team.request('GET', `${v2}/${id}/sequence/versions`)).json()).toHaveLength(1);
  });
});

describe('columns', () => {
  it('creates, lists, renames and deletes columns', async () => {
    const team = await newTeam();
    const id = await draft(team);
    const created = await team.request('POST', `${v2}/${id}/columns`, { name: 'Role', description: "The lead's job title" });
    expect(created.statusCode, created.body).toBe(200);
    const role = created.json();
    expect(role).toEqual({
      id: expect.stringMatching(/^custom_[0-9a-z]{24}$/),
      name: 'Role',
      type: 'text',
      description: "The lead's job title",
      createdAt: expect.any(String),
      updatedAt: null,
    });
    const revenue = (await team.request('POST', `${v2}/${id}/columns`, { name: 'Revenue', type: 'number' })).json();
    expect(revenue).toMatchObject({ type: 'number', description: null });
    expect((await team.request('GET', `${v2}/${id}/columns`)).json()).toEqual([role, revenue]);

    const renamed = (await team.request('PATCH', `${v2}/${id}/columns/${role.id}`, { name: 'Title', description: null })).json();
    expect(renamed).toMatchObject({ id: role.id, name: 'Title', description: null, type: 'text' });
    expect(renamed.updatedAt).not.toBeNull();

    expect((await team.request('DELETE', `${v2}/${id}/columns/${revenue.id}`)).statusCode).toBe(200);
    expect((await team.request('GET', `${v2}/${id}/columns`)).json()).toEqual([renamed]);
    const gone = await team.request('PATCH', `${v2}/${id}/columns/${revenue.id}`, { name: 'Back' });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('COLUMN_NOT_FOUND');
  });

  it('validates columns and refuses duplicate names', async () => {
    const team = await newTeam();
    const id = await draft(team);
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(256) }, { name: 'ok', type: 'json' }, { name: 'ok', description: 'x'.repeat(1001) }, { name: '  ' }]) {
      const response = await team.request('POST', `${v2}/${id}/columns`, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe('VALIDATION_ERROR');
    }
    await team.request('POST', `${v2}/${id}/columns`, { name: 'Company' });
    expect((await team.request('POST', `${v2}/${id}/columns`, { name: 'company' })).statusCode).toBe(409);
    expect((await team.request('PATCH', `${v2}/${id}/columns/not_a_column`, { name: 'x' })).statusCode).toBe(400);
    expect((await team.request('GET', `${v2}/${id}/columns`)).json()).toHaveLength(1);
  });

  it('refuses with 409 to delete a column the current sequence uses, and drops lead values with a deleted column', async () => {
    const team = await newTeam();
    const account = await linkAccount(team);
    const id = await draft(team);
    const used = (await team.request('POST', `${v2}/${id}/columns`, { name: 'Company' })).json();
    const spare = (await team.request('POST', `${v2}/${id}/columns`, { name: 'Spare' })).json();
    await team.request('PUT', `${v2}/${id}/sequence`, { steps: [message(text('At '), { type: 'variable', name: used.id })] });
    const prospect = await newProspect(team, account.id);
    await insertLead(team, id, prospect.id, { data: { [used.id]: 'Acme', [spare.id]: 'x' } });

    const refused = await team.request('DELETE', `${v2}/${id}/columns/${used.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('sequence') });
    expect((await team.request('DELETE', `${v2}/${id}/columns/${spare.id}`)).statusCode).toBe(200);
    const { db } = await sharedStore();
    const lead = await db.selectFrom('campaign_leads').select('data').where('campaign_id', '=', id).executeTakeFirstOrThrow();
    expect(lead.data).toEqual({ [used.id]: 'Acme' });

    // Once a newer version no longer uses it, it may go.
    await team.request('PUT', `${v2}/${id}/sequence`, HELLO_SEQUENCE);
    expect((await team.request('DELETE', `${v2}/${id}/columns/${used.id}`)).statusCode).toBe(200);
  });
});

describe('automations', () => {
  it('replaces the whole list and checks every reference against the team', async () => {
    const team = await newTeam();
    const id = await draft(team);
    const status = (await team.request('POST', '/api/v1/statuses', { name: 'Interested' })).json();
    const tag = (await team.request('POST', '/api/v1/tags', { name: 'Replied' })).json();
    const input = [
      { trigger: 'replied', action: 'setStatus', actionData: { statusId: status.id } },
      { trigger: 'contacted', action: 'addTag', actionData: { tagId: tag.id }, enabled: false },
      { trigger: 'completed', action: 'assign', actionData: { memberId: team.ownerMemberId } },
    ];
    const put = await team.request('PUT', `${v2}/${id}/automations`, input);
    expect(put.statusCode, put.body).toBe(200);
    const saved = put.json();
    expect(saved).toEqual([
      { id: expect.stringMatching(/^[0-9a-z]+$/), enabled: true, ...input[0] },
      { id: expect.any(String), ...input[1] },
      { id: expect.any(String), enabled: true, ...input[2] },
    ]);
    expect((await team.request('GET', `${v2}/${id}/automations`)).json()).toEqual(saved);
    expect((await team.request('GET', `${v2}/${id}`)).json().automations).toEqual(saved);

    const foreign = await newTeam();
    const foreignStatus = (await foreign.request('POST', '/api/v1/statuses', { name: 'Theirs' })).json();
    const bad = await team.request('PUT', `${v2}/${id}/automations`, [
      input[0],
      { trigger: 'replied', action: 'setStatus', actionData: { statusId: foreignStatus.id } },
      { trigger: 'replied', action: 'addTag', actionData: { tagId: 'nosuchtag' } },
      { trigger: 'replied', action: 'assign', actionData: { memberId: foreign.ownerMemberId } },
    ]);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_ERROR');
    expect(bad.json().error.details).toEqual([
      { field: 'automations.1.actionData.statusId', message: `no status '${foreignStatus.id}' in this team` },
      { field: 'automations.2.actionData.tagId', message: "no tag 'nosuchtag' in this team" },
      { field: 'automations.3.actionData.memberId', message: `no member '${foreign.ownerMemberId}' in this team` },
    ]);
    for (const body of [
      [{ trigger: 'opened', action: 'setStatus', actionData: { statusId: status.id } }],
      [{ trigger: 'replied', action: 'delete', actionData: {} }],
      [{ trigger: 'replied', action: 'setStatus', actionData: { tagId: tag.id } }],
      { trigger: 'replied' },
    ]) {
      expect((await team.request('PUT', `${v2}/${id}/automations`, body)).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await team.request('GET', `${v2}/${id}/automations`)).json()).toEqual(saved);

    expect((await team.request('PUT', `${v2}/${id}/automations`, [])).json()).toEqual([]);
  });
});
