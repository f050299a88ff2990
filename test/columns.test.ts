import { beforeAll, describe, expect, it } from 'vitest';
import { CAMPAIGN_COLUMNS, createColumn, deleteColumn, LIST_COLUMNS, listColumns, updateColumn } from '../src/app/leads/columns.js';
import type { AppContext } from '../src/app/context.js';
import { newId } from '../src/core/ids.js';
import { newTeam, testContext } from './helpers/app.js';
import { TestClock } from './helpers/clock.js';
import { linkAccount, newProspect } from './helpers/campaigns.js';

/** The list owner of the column module, used through its use cases (the list routes are the lists module's). */
let ctx: AppContext;
beforeAll(async () => {
  ctx = await testContext();
});

async function newList(teamId: string): Promise<string> {
  const id = newId();
  await ctx.db.insertInto('lists').values({ id, team_id: teamId, name: 'Founders', description: null, created_at: new Date() }).execute();
  return id;
}

describe('list columns', () => {
  it('creates, lists, renames and deletes a list column, dropping its values from the leads', async () => {
    const team = await newTeam();
    const listId = await newList(team.teamId);
    // Columns list in creation order; the clock moves between the two so they are not created in one millisecond.
    const clock = new TestClock();
    const ticking = { ...ctx, clock };
    const company = await createColumn(ticking, LIST_COLUMNS, team.teamId, listId, { name: 'Company' });
    clock.advance(1);
    const seats = await createColumn(ticking, LIST_COLUMNS, team.teamId, listId, { name: 'Seats', type: 'number', description: 'paid seats' });
    expect(company).toMatchObject({ id: expect.stringMatching(/^custom_/), type: 'text', description: null });
    expect(await listColumns(ctx, LIST_COLUMNS, team.teamId, listId)).toEqual([company, seats]);
    expect(await updateColumn(ctx, LIST_COLUMNS, team.teamId, listId, company.id, { name: 'Employer' })).toMatchObject({ name: 'Employer' });
    await expect(createColumn(ctx, LIST_COLUMNS, team.teamId, listId, { name: 'employer' })).rejects.toMatchObject({ status: 409 });

    const { id: prospectId } = await newProspect(team, (await linkAccount(team)).id);
    await ctx.db
      .insertInto('list_leads')
      .values({ list_id: listId, prospect_id: prospectId, data: JSON.stringify({ [company.id]: 'Acme', [seats.id]: 3 }), created_at: new Date() })
      .execute();
    await deleteColumn(ctx, LIST_COLUMNS, team.teamId, listId, seats.id);
    const lead = await ctx.db.selectFrom('list_leads').select('data').where('list_id', '=', listId).executeTakeFirstOrThrow();
    expect(lead.data).toEqual({ [company.id]: 'Acme' });
  });

  it('refuses to delete a list column a campaign maps from, and hides other teams’ lists', async () => {
    const team = await newTeam();
    const listId = await newList(team.teamId);
    const column = await createColumn(ctx, LIST_COLUMNS, team.teamId, listId, { name: 'Role' });
    const campaign = (await team.request('POST', '/api/v1/campaigns/v2', { name: 'Mapped' })).json();
    const target = await createColumn(ctx, CAMPAIGN_COLUMNS, team.teamId, campaign.id, { name: 'Role' });
    await ctx.db
      .insertInto('campaign_list_rules')
      .values({ campaign_id: campaign.id, list_id: listId, kind: 'synced', column_mapping: JSON.stringify({ [column.id]: target.id }) })
      .execute();
    await expect(deleteColumn(ctx, LIST_COLUMNS, team.teamId, listId, column.id)).rejects.toMatchObject({ status: 409, code: 'CONFLICT' });
    // The campaign column receiving the values is protected too.
    const refused = await team.request('DELETE', `/api/v1/campaigns/v2/${campaign.id}/columns/${target.id}`);
    expect(refused.statusCode).toBe(409);
    expect((await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}`)).json().rules.syncedLists).toEqual([
      { listId, listName: 'Founders', columnMapping: { [column.id]: target.id } },
    ]);

    const other = await newTeam();
    await expect(listColumns(ctx, LIST_COLUMNS, other.teamId, listId)).rejects.toMatchObject({ status: 404, code: 'LIST_NOT_FOUND' });
    await expect(createColumn(ctx, LIST_COLUMNS, other.teamId, listId, { name: 'x' })).rejects.toMatchObject({ status: 404 });
  });
});
