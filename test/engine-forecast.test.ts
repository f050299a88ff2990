import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { newTeam } from './helpers/app.js';
import { insertLead, newProspect, readyCampaign } from './helpers/campaigns.js';
import { sharedStore } from './helpers/store.js';

describe('GET /campaigns/v2/{id}/forecast', () => {
  it('runs the engine on a copy of the campaign: every lead to the end, inside the windows, nothing really sent', async () => {
    const team = await newTeam();
    const campaign = await readyCampaign(team, 'Forecast');
    for (let i = 0; i < 4; i++) await insertLead(team, campaign.id, (await newProspect(team, campaign.accountLinkId)).id);
    const before = Date.now();
    const response = await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}/forecast`);
    expect(response.statusCode, response.body).toBe(200);
    const forecast = response.json();
    // Five leads, two messages each (HELLO_SEQUENCE), Monday to Friday in UTC (the default schedule).
    expect(forecast.sendsPerDay.reduce((n: number, d: { sends: number }) => n + d.sends, 0)).toBe(10);
    for (const { date } of forecast.sendsPerDay) expect(DateTime.fromISO(date, { zone: 'UTC' }).weekday).toBeLessThanOrEqual(5);
    expect(Date.parse(forecast.completedAt)).toBeGreaterThan(before + 86_400_000);
    const { db } = await sharedStore();
    const sent = await db.selectFrom('messages').select('id').where('team_id', '=', team.teamId).where('campaign_id', '=', campaign.id).execute();
    expect(sent).toEqual([]);
    expect((await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}`)).json()).toMatchObject({ status: 'draft', contactedCount: 0 });
  }, 60_000);

  it('answers 404 for a campaign of another team', async () => {
    const [a, b] = [await newTeam(), await newTeam()];
    const campaign = await readyCampaign(a);
    const response = await b.request('GET', `/api/v1/campaigns/v2/${campaign.id}/forecast`);
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('CAMPAIGN_NOT_FOUND');
  });
});
