import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceSequence } from '../src/app/campaigns/sequence.js';
import type { AppContext } from '../src/app/context.js';
import { deliverSandboxDm } from '../src/app/inbox/sandbox.js';
import { createToken } from '../src/app/team/tokens.js';
import { seededRandom } from '../src/core/random.js';
import type { SequenceStep } from '../src/core/sequence.js';
import { loadConfig } from '../src/config.js';
import { type Dispatcher, nextEngineInstant } from '../src/engine/dispatcher.js';
import { sendingEngine } from '../src/runtimes/engine.js';
import { buildServer } from '../src/http/server.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { TestClock } from './helpers/clock.js';
import { setUpCampaigns } from './helpers/engine.js';
import { freshStore, type FreshStore } from './helpers/fresh-store.js';
import { delay, message } from './helpers/simulation.js';
import { leadWaits } from '../src/engine/lead-waits.js';

/** Results per step and per variation, from what the engine really sent and what the leads answered. */

let store: FreshStore;
let clock: TestClock;
let ctx: AppContext;
let engine: Dispatcher;
let app: FastifyInstance;

beforeAll(async () => {
  store = await freshStore();
  clock = new TestClock(new Date('2026-06-01T08:00:00Z'));
  ctx = { db: store.db, clock, config: loadConfig({}), logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db, clock, loadConfig({})), leadWaits };
  engine = sendingEngine(ctx, seededRandom(7));
  app = await buildServer(ctx);
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await store?.close();
});

/** Runs the engine in virtual time from the clock's instant until nothing is due before `until`. */
async function runUntil(until: Date): Promise<void> {
  for (;;) {
    await engine.runOnce(clock.now());
    const next = await nextEngineInstant(store.db, clock.now());
    if (!next || next > until) return;
    clock.set(next);
  }
}

async function authorised(teamId: string) {
  const owner = await store.db.selectFrom('members').select('id').where('team_id', '=', teamId).executeTakeFirstOrThrow();
  const { token } = await createToken(store.db, { teamId, memberId: owner.id, name: 'stats' }, clock.now());
  return (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

const OPENERS = ['Hey', 'Good morning'];

describe('GET /campaigns/v2/{id}/stats', () => {
  it('counts sent, replied after and reply rate per message step and per variation option, and the CSV export agrees', async () => {
    const opener = { type: 'message', data: { segments: [{ type: 'variation', options: OPENERS }, { type: 'static', text: ', a question for you' }] } };
    const { teamId, accountIds, campaignIds, leadIds } = await setUpCampaigns(ctx, {
      campaigns: [{ messagesPerHour: 25, leads: 8, steps: [opener, delay(3_600), message('Following up'), delay(2 * 86_400), message('Last one')] }],
    });
    const campaignId = campaignIds[0]!;
    const leads = leadIds[0]!;
    const get = await authorised(teamId);

    const before = (await get(`/api/v1/campaigns/v2/${campaignId}/stats`)).json();
    expect(before.steps.map((s: { rank: number; sent: number; replied: number }) => [s.rank, s.sent, s.replied])).toEqual([
      [0, 0, 0],
      [2, 0, 0],
      [4, 0, 0],
    ]);

    // Half an hour: every opener goes out (one every 144 s), no follow-up yet (due an hour after each opener).
    const start = clock.now();
    await runUntil(new Date(start.getTime() + 30 * 60_000));
    const openers = await store.db
      .selectFrom('send_intents')
      .innerJoin('campaign_leads as l', 'l.id', 'send_intents.lead_id')
      .innerJoin('prospects as p', 'p.id', 'l.prospect_id')
      .select(['p.platform_id', 'send_intents.content'])
      .where('send_intents.campaign_id', '=', campaignId)
      .where('send_intents.status', '=', 'sent')
      .execute();
    expect(openers).toHaveLength(8);
    const openerOf = new Map(openers.map((o) => [o.platform_id, OPENERS.findIndex((text) => o.content!.startsWith(`${text},`))]));
    expect(new Set(openerOf.values()).size).toBe(2);

    // Three leads answer the opener; after the follow-ups one more answers the follow-up (while the last step waits).
    for (const lead of leads.slice(0, 3)) await deliverSandboxDm(ctx, teamId, { accountLinkId: accountIds[0]!, fromPlatformId: lead, content: 'Sure' });
    await runUntil(new Date(start.getTime() + 3 * 3_600_000));
    await deliverSandboxDm(ctx, teamId, { accountLinkId: accountIds[0]!, fromPlatformId: leads[3]!, content: 'Later maybe' });

    const stats = (await get(`/api/v1/campaigns/v2/${campaignId}/stats`)).json();
    const [first, second, third] = stats.steps;
    expect(first).toMatchObject({ rank: 0, current: true, sent: 8, replied: 3, replyRate: 3 / 8 });
    expect(second).toMatchObject({ rank: 2, current: true, sent: 5, replied: 1, replyRate: 1 / 5, variations: [] });
    expect(third).toMatchObject({ rank: 4, sent: 0, replied: 0, replyRate: 0 });
    const expected = OPENERS.map((text, option) => {
      const got = leads.filter((lead) => openerOf.get(lead) === option);
      const replied = got.filter((lead) => leads.indexOf(lead) < 3).length;
      return { option, text, sent: got.length, replied, replyRate: got.length === 0 ? 0 : replied / got.length };
    });
    expect(first.variations).toEqual([{ segment: 0, options: expected }]);

    // A new version: its steps start at zero, the old ones keep their results, marked as not current.
    await replaceSequence(ctx, teamId, campaignId, [message('A new opener')] as SequenceStep[]);
    const afterEdit = (await get(`/api/v1/campaigns/v2/${campaignId}/stats`)).json();
    expect(afterEdit.steps.map((s: { version: number; rank: number; current: boolean; sent: number }) => [s.version, s.rank, s.current, s.sent])).toEqual([
      [2, 0, true, 0],
      [1, 0, false, 8],
      [1, 2, false, 5],
    ]);

    const csv = await get(`/api/v1/campaigns/v2/${campaignId}/leads/export`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const rows: Record<string, string>[] = parse(csv.body, { columns: true });
    expect(rows.map((r) => r.platformId)).toEqual(leads);
    expect(rows.map((r) => [r.state, r.messagesSent])).toEqual([
      ...leads.slice(0, 3).map(() => ['replied', '1']),
      ['replied', '2'],
      ...leads.slice(4).map(() => ['active', '2']),
    ]);
    expect(rows.every((r) => r.contactedAt !== '' && r.account !== '')).toBe(true);
  }, 120_000);

  it("answers 404 for another team's campaign", async () => {
    const mine = await setUpCampaigns(ctx, {});
    const theirs = await setUpCampaigns(ctx, {});
    const get = await authorised(mine.teamId);
    for (const path of ['stats', 'leads/export']) {
      const response = await get(`/api/v1/campaigns/v2/${theirs.campaignIds[0]}/${path}`);
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('CAMPAIGN_NOT_FOUND');
    }
  });
});
