import http from 'node:http';
import fc from 'fast-check';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AppContext } from '../src/app/context.js';
import { loadConfig } from '../src/config.js';
import { DAY_MS } from '../src/core/pacing.js';
import { seededRandom } from '../src/core/random.js';
import type { Schedule } from '../src/core/schedule.js';
import { runInVirtualTime } from '../src/engine/dispatcher.js';
import { memoryEngine, sendingEngine } from '../src/runtimes/engine.js';
import { forecastCampaign, forecastCopy, Forecasts } from '../src/runtimes/forecast.js';
import type { CampaignLeadRow } from '../src/store/schema-campaigns.js';
import type { CampaignIntentRow } from '../src/store/schema-engine.js';
import { buildServer } from '../src/http/server.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { newTeam, testContext } from './helpers/app.js';
import { HELLO_SEQUENCE, insertLead, newProspect, readyCampaign } from './helpers/campaigns.js';
import { setUpCampaigns } from './helpers/engine.js';
import { freshStore } from './helpers/fresh-store.js';
import { delay, like, message } from './helpers/simulation.js';
import { randomPlatformId } from './helpers/sandbox.js';
import { sharedStore } from './helpers/store.js';
import { leadWaits } from '../src/engine/lead-waits.js';

/** A lead's progress: what the engine's run leaves of it. */
const pick = (lead: CampaignLeadRow) => ({
  id: lead.id,
  state: lead.state,
  account: lead.account_link_id,
  version: lead.sequence_version,
  nextRank: lead.next_rank,
  nextStepAt: lead.next_step_at,
  contactedAt: lead.contacted_at,
  lastContactAt: lead.last_contact_at,
  finishedAt: lead.finished_at,
});

/** `n` new prospects of the team as pending leads of the campaign, set-based. */
async function insertLeads(teamId: string, campaignId: string, n: number): Promise<void> {
  const { db } = await sharedStore();
  // Ids of the campaign's own (the random end of its id), so a team's campaigns each take their leads this way.
  const tag = campaignId.slice(-12);
  // Decimal platform ids, so each is a sandbox user who takes DMs (any other id refuses them and fails its lead).
  const firstPlatformId = BigInt(randomPlatformId());
  await sql`
    insert into prospects (id, team_id, platform, platform_id, username, display_name)
    select ${tag} || g, ${teamId}, 'sandbox', (${firstPlatformId}::bigint + g)::text, 'lead' || ${tag} || g, 'Lead ' || g from generate_series(1, ${n}::int) g`.execute(db);
  await sql`
    insert into campaign_leads (id, campaign_id, team_id, prospect_id, state, created_at)
    select ${tag} || 'l' || g, ${campaignId}, ${teamId}, ${tag} || g, 'pending', now() from generate_series(1, ${n}::int) g`.execute(db);
}

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

  it('schedules the other active campaigns sharing its account: they compete for its caps, and only its own sends are counted', async () => {
    const team = await newTeam();
    const a = await readyCampaign(team, 'Forecast A');
    for (let i = 0; i < 3; i++) await insertLead(team, a.id, (await newProspect(team, a.accountLinkId)).id);
    const limits = await team.request('PATCH', `/api/v1/account-links/${a.accountLinkId}`, { hourlyLimit: 1, dailyLimit: 2 });
    expect(limits.statusCode, limits.body).toBe(200);
    const created = await team.request('POST', '/api/v1/campaigns/v2', { name: 'Forecast B', accountLinkIds: [a.accountLinkId] });
    expect(created.statusCode, created.body).toBe(200);
    const b: string = created.json().id;
    expect((await team.request('PUT', `/api/v1/campaigns/v2/${b}/sequence`, HELLO_SEQUENCE)).statusCode).toBe(200);
    // One prospect is a lead of both campaigns: the copy takes it once.
    await insertLead(team, b, a.prospectId);
    for (let i = 0; i < 3; i++) await insertLead(team, b, (await newProspect(team, a.accountLinkId)).id);
    const forecast = async () => {
      const response = await team.request('GET', `/api/v1/campaigns/v2/${a.id}/forecast`);
      expect(response.statusCode, response.body).toBe(200);
      const body: { completedAt: string | null; sendsPerDay: Array<{ date: string; sends: number }> } = response.json();
      return { ...body, total: body.sendsPerDay.reduce((n, d) => n + d.sends, 0), busiest: Math.max(...body.sendsPerDay.map((d) => d.sends)) };
    };

    const alone = await forecast(); // B is still a draft: not copied
    expect((await team.request('POST', `/api/v1/campaigns/v2/${b}/enable`)).statusCode).toBe(200);
    const shared = await forecast();
    expect((await team.request('POST', `/api/v1/campaigns/v2/${b}/disable`)).statusCode).toBe(200);
    const paused = await forecast();

    // Four leads, two messages each: B's sends are never counted as A's.
    for (const f of [alone, shared, paused]) expect(f.total).toBe(8);
    // Alone (B a draft or paused), A takes the whole daily cap of 2; sharing it with B's eight sends, it finishes days later.
    expect(shared.completedAt).not.toBeNull();
    for (const f of [alone, paused]) {
      expect(f.busiest).toBe(2);
      expect(Date.parse(shared.completedAt!)).toBeGreaterThan(Date.parse(f.completedAt!) + 86_400_000);
    }
  }, 120_000);

  it('runs one forecast at a time per process: a request for a campaign in hand shares it, and past the queue the server is busy', async () => {
    const team = await newTeam();
    const [a, b, c] = [await readyCampaign(team, 'One'), await readyCampaign(team, 'Two'), await readyCampaign(team, 'Three')];
    const forecasts = new Forecasts(await testContext(), 1);
    // Made first: a forecast in memory may be over by the time another await returns.
    const stranger = await newTeam();
    const first = forecasts.forecast(team.teamId, a.id);
    const second = forecasts.forecast(team.teamId, b.id);
    expect(forecasts.forecast(team.teamId, a.id)).toBe(first);
    // Another team's request for the same campaign is its own (and fails as not found).
    expect(() => forecasts.forecast(stranger.teamId, a.id)).toThrow(expect.objectContaining({ status: 503, code: 'FORECAST_BUSY', retryAfter: 30 }));
    expect(() => forecasts.forecast(team.teamId, c.id)).toThrow(expect.objectContaining({ status: 503, code: 'FORECAST_BUSY' }));
    const [one, two] = await Promise.all([first, second]);
    expect(one.completedAt).not.toBeNull();
    expect(two.completedAt).not.toBeNull();
    expect((await forecasts.forecast(team.teamId, c.id)).completedAt).not.toBeNull();
    await expect(forecasts.forecast(stranger.teamId, a.id)).rejects.toMatchObject({ status: 404, code: 'CAMPAIGN_NOT_FOUND' });

    // Over HTTP, with no queue: of two forecasts asked at once, one runs and the other is told to come back.
    const app = await buildServer(await testContext({ env: { INBOX_FORECAST_QUEUE: '0' } }));
    onTestFinished(() => app.close());
    const client = await newTeam(app);
    const campaigns = [await readyCampaign(client, 'Four'), await readyCampaign(client, 'Five')];
    // Leads enough that the first is still running when the second arrives.
    for (const campaign of campaigns) await insertLeads(client.teamId, campaign.id, 5_000);
    const responses = await Promise.all(campaigns.map((campaign) => client.request('GET', `/api/v1/campaigns/v2/${campaign.id}/forecast`)));
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 503]);
    const busy = responses.find((r) => r.statusCode === 503)!;
    expect(busy.headers['retry-after']).toBe('30');
    expect(busy.json().error).toMatchObject({ code: 'FORECAST_BUSY', status: 503 });
  }, 120_000);

  it('stops a forecast once every request sharing it has gone, and starts afresh for the next one', async () => {
    const team = await newTeam();
    const campaign = await readyCampaign(team, 'Gone');
    for (let i = 0; i < 5; i++) await insertLead(team, campaign.id, (await newProspect(team, campaign.accountLinkId)).id);
    const forecasts = new Forecasts(await testContext(), 0);
    const [left, stays] = [new AbortController(), new AbortController()];
    const first = forecasts.forecast(team.teamId, campaign.id, left.signal);
    expect(forecasts.forecast(team.teamId, campaign.id, stays.signal)).toBe(first);
    left.abort();
    // One request still waits for it: the forecast goes on.
    expect((await first).completedAt).not.toBeNull();
    const alone = new AbortController();
    const abandoned = forecasts.forecast(team.teamId, campaign.id, alone.signal);
    alone.abort();
    await expect(abandoned).rejects.toMatchObject({ status: 499, code: 'FORECAST_ABANDONED' });
    // Its place is free at once (the queue holds none here), and the next request runs a forecast of its own.
    expect((await forecasts.forecast(team.teamId, campaign.id)).completedAt).not.toBeNull();
  }, 60_000);

  it('over HTTP, a client that closes the connection gives up its forecast and its place', async () => {
    const app = await buildServer(await testContext({ env: { INBOX_FORECAST_QUEUE: '0' } }));
    onTestFinished(() => app.close());
    let handling!: () => void;
    const largeInHand = new Promise<void>((resolve) => (handling = resolve));
    let watched = '';
    app.addHook('preHandler', async (req) => {
      if (req.url === watched) setImmediate(handling);
    });
    const endings: string[] = [];
    app.addHook('onError', async (req, _reply, error) => {
      if (req.url === watched) endings.push((error as { code?: string }).code ?? error.message);
    });
    const client = await newTeam(app);
    const [large, other] = [await readyCampaign(client, 'Large'), await readyCampaign(client, 'Other')];
    watched = `/api/v1/campaigns/v2/${large.id}/forecast`;
    // Leads enough that its forecast runs for seconds (on the memory store, about 10,000 a second).
    await insertLeads(client.teamId, large.id, 20_000);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const request = http.get(`${address}${watched}`, { headers: { authorization: `Bearer ${client.token}` } });
    request.on('error', () => {});
    await largeInHand;
    const otherForecast = () => client.request('GET', `/api/v1/campaigns/v2/${other.id}/forecast`);
    // The large forecast holds the server's one place.
    const busy = await otherForecast();
    expect(busy.json().error.code).toBe('FORECAST_BUSY');
    request.destroy();
    // The server notices the closed connection between two of the forecast's batches.
    let answer = busy;
    for (let attempt = 0; attempt < 100 && answer.statusCode === 503; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      answer = await otherForecast();
    }
    expect(answer.statusCode, answer.body).toBe(200);
    // It went first (forecasts run one at a time), stopped, and was not answered.
    expect(endings).toEqual(['FORECAST_ABANDONED']);
  }, 120_000);

  it('is what the engine then does: the same sends day by day and the same completion, to the millisecond', async () => {
    const store = await freshStore();
    try {
      const start = new Date('2026-03-06T15:00:00Z');
      let now = start;
      const clock = { now: () => now };
      const ctx: AppContext = { db: store.db, clock, config: loadConfig({}), logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db, clock), leadWaits };
      // Two campaigns share both accounts and their caps, so the forecast must schedule the rival too.
      const { teamId, campaignIds } = await setUpCampaigns(ctx, {
        accounts: [{ hourlyLimit: 6, dailyLimit: 40 }, { hourlyLimit: 4, dailyLimit: 25 }],
        campaigns: [
          { messagesPerHour: 5, leads: 70, steps: [message('Hi'), delay(7_200), message('Again')] },
          { messagesPerHour: 3, leads: 30 },
        ],
      });
      const campaignId = campaignIds[0]!;
      const forecast = await forecastCampaign(ctx, teamId, campaignId);

      // The forecast's engine draws from a source seeded by the campaign: so does this one.
      const engine = sendingEngine(ctx, seededRandom(campaignId));
      await runInVirtualTime(engine, start, new Date(start.getTime() + 60 * DAY_MS), { clock: { set: (at) => void (now = at) } });
      const campaign = await store.db.selectFrom('campaigns').select(['completed_at', 'timezone']).where('id', '=', campaignId).executeTakeFirstOrThrow();
      const sends = await store.db.selectFrom('send_intents').select(['created_at', 'account_link_id']).where('campaign_id', '=', campaignId).orderBy('created_at').execute();
      const perDay = new Map<string, { date: string; sends: number; byAccount: Record<string, number> }>();
      for (const { created_at, account_link_id } of sends) {
        const date = DateTime.fromJSDate(created_at, { zone: campaign.timezone }).toISODate()!;
        const day = perDay.get(date) ?? { date, sends: 0, byAccount: {} };
        day.sends++;
        day.byAccount[account_link_id] = (day.byAccount[account_link_id] ?? 0) + 1;
        perDay.set(date, day);
      }
      expect(sends).toHaveLength(140);
      expect(perDay.size).toBeGreaterThan(2);
      expect(forecast).toEqual({ completedAt: campaign.completed_at!.toISOString(), sendsPerDay: [...perDay.values()] });
    } finally {
      await store.close();
    }
  }, 120_000);

  it('the engine makes the same schedule on its memory store as on the database, send for send, to the millisecond (property)', async () => {
    // DST switches: Berlin springs forward on 2026-03-29 and falls back on 2026-10-25, New York on 2026-03-08 and 2026-11-01.
    const switches = { 'Europe/Berlin': ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z'], 'America/New_York': ['2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z'] };
    const zone = fc.constantFrom<keyof typeof switches>('Europe/Berlin', 'America/New_York');
    // Windows of wall time, some across the small hours a switch skips or repeats, on some days of the week.
    const window = fc.oneof(
      fc.record({ start: fc.constantFrom(60, 90, 120, 150), end: fc.constantFrom(180, 210, 240, 300) }),
      fc.record({ start: fc.integer({ min: 0, max: 46 }).map((h) => h * 30), length: fc.integer({ min: 1, max: 20 }).map((h) => h * 30) }).map(({ start, length }) => ({ start, end: Math.min(1440, start + length) })),
    );
    const schedule = fc
      .tuple(fc.subarray(['0', '1', '2', '3', '4', '5', '6'] as const, { minLength: 1 }), window, fc.boolean())
      .map(([days, w, allDay]): Schedule => Object.fromEntries(days.map((d) => [d, allDay && d === days[0] ? { start: 0, end: 1440 } : w])));
    const step = fc.oneof(
      fc.integer({ min: 1, max: 48 * 60 }).map((minutes) => delay(minutes * 60)),
      fc.constant(like),
      fc.constant(message('And again')),
    );
    const campaign = fc.record({
      messagesPerHour: fc.integer({ min: 1, max: 12 }),
      leads: fc.integer({ min: 1, max: 10 }),
      steps: fc.array(step, { maxLength: 3 }).map((more) => [message('Hello'), ...more]),
      schedule,
    });
    const setup = fc.record({
      zone,
      switchAt: fc.integer({ min: 0, max: 1 }),
      hoursBefore: fc.integer({ min: 0, max: 40 }),
      accounts: fc.array(fc.record({ hourlyLimit: fc.integer({ min: 1, max: 10 }), dailyLimit: fc.integer({ min: 2, max: 40 }) }), { minLength: 1, maxLength: 3 }),
      campaigns: fc.array(campaign, { minLength: 1, maxLength: 2 }),
      // hours the database engine runs before the copy, so that leads are in flight and the send log is full
      warmUpHours: fc.integer({ min: 0, max: 30 }),
      seed: fc.integer(),
    });
    await fc.assert(
      fc.asyncProperty(setup, async (s) => {
        const store = await freshStore();
        try {
          const start = new Date(Date.parse(switches[s.zone][s.switchAt]!) - s.hoursBefore * 3_600_000);
          let now = start;
          const clock = { now: () => now };
          const ctx: AppContext = { db: store.db, clock, config: loadConfig({}), logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db, clock), leadWaits };
          // The first campaign sends from the first accounts, the second from the last ones, sharing at least one.
          const n = s.accounts.length;
          const { teamId, campaignIds } = await setUpCampaigns(ctx, {
            accounts: s.accounts,
            campaigns: s.campaigns.map((c, i) => ({ ...c, timezone: s.zone, accounts: i === 0 ? [...Array(Math.ceil((n + 1) / 2)).keys()] : [...Array(n).keys()].slice(Math.floor(n / 2)) })),
          });
          const warmedUp = new Date(start.getTime() + s.warmUpHours * 3_600_000);
          const until = new Date(warmedUp.getTime() + 8 * DAY_MS);
          const set = (at: Date) => void (now = at);
          if (s.warmUpHours > 0) await runInVirtualTime(sendingEngine(ctx, seededRandom(s.seed)), start, warmedUp, { clock: { set } });
          now = warmedUp;
          const copy = await forecastCopy(store.db, teamId, campaignIds[0]!, warmedUp);
          // A campaign that completed in the warm-up is over (a forecast copies only active rivals, and answers at once for a completed campaign).
          const running = (await store.db.selectFrom('campaigns').select('id').where('id', 'in', campaignIds).where('status', '=', 'active').execute()).map((c) => c.id);
          expect(copy.campaigns.map((c) => c.id).sort()).toEqual([...new Set([campaignIds[0]!, ...running])].sort());
          const before = new Set((await store.db.selectFrom('send_intents').select('id').execute()).map((r) => r.id));

          const inMemory = memoryEngine(copy, { clock, logger: ctx.logger }, seededRandom(s.seed), { recording: 'progress' });
          await runInVirtualTime(inMemory.engine, warmedUp, until, { clock: { set } });
          const copied = new Set(copy.intents.map((i) => i.id));
          const memorySends = inMemory.store.intents().filter((i) => !copied.has(i.id));

          now = warmedUp;
          await runInVirtualTime(sendingEngine(ctx, seededRandom(s.seed)), warmedUp, until, { clock: { set } });
          const databaseSends = (await store.db.selectFrom('send_intents').selectAll().where('campaign_id', 'is not', null).execute()).filter((i) => !before.has(i.id)) as CampaignIntentRow[];

          const schedule = (sends: readonly CampaignIntentRow[]) =>
            sends
              .map((i) => ({ at: i.created_at.toISOString(), lead: i.lead_id, account: i.account_link_id, step: i.step_id, version: i.sequence_version, kind: i.kind, content: i.content, status: i.status }))
              .sort((a, b) => a.at.localeCompare(b.at) || a.lead.localeCompare(b.lead) || a.step.localeCompare(b.step));
          expect(schedule(memorySends)).toEqual(schedule(databaseSends));
          const leads = await store.db.selectFrom('campaign_leads').selectAll().where('campaign_id', 'in', campaignIds).execute();
          for (const lead of leads) {
            const state = inMemory.store.lead(lead.id);
            // Leads that had finished before the copy are not in it.
            if (state) expect(pick(state)).toEqual(pick(lead));
          }
          const campaigns = running.length === 0 ? [] : await store.db.selectFrom('campaigns').select(['id', 'status', 'completed_at']).where('id', 'in', running).execute();
          for (const c of campaigns) expect({ status: inMemory.store.campaign(c.id)!.status, completedAt: inMemory.store.campaign(c.id)!.completed_at }).toEqual({ status: c.status, completedAt: c.completed_at });
        } finally {
          await store.close();
        }
      }),
      { numRuns: 8, seed: 20260324 },
    );
  }, 300_000);

  it('takes every lead into account, beyond the 5,000 planned in one batch', async () => {
    const team = await newTeam();
    const campaign = await readyCampaign(team, 'Large');
    const n = 6_000;
    await insertLeads(team.teamId, campaign.id, n);
    const response = await team.request('GET', `/api/v1/campaigns/v2/${campaign.id}/forecast`);
    expect(response.statusCode, response.body).toBe(200);
    const forecast = response.json();
    expect(forecast.sendsPerDay.reduce((sum: number, d: { sends: number }) => sum + d.sends, 0)).toBe(2 * (n + 1));
    expect(forecast.completedAt).not.toBeNull();
  }, 300_000);

  it('answers 404 for a campaign of another team', async () => {
    const [a, b] = [await newTeam(), await newTeam()];
    const campaign = await readyCampaign(a);
    const response = await b.request('GET', `/api/v1/campaigns/v2/${campaign.id}/forecast`);
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('CAMPAIGN_NOT_FOUND');
  });
});
