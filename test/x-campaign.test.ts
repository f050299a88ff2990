import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceSequence } from '../src/app/campaigns/sequence.js';
import { createCampaign, enableCampaign, getCampaign } from '../src/app/campaigns/campaigns.js';
import { XPoller } from '../src/app/inbox/x-inbound.js';
import { seededRandom } from '../src/core/random.js';
import type { SequenceStep } from '../src/core/sequence.js';
import { type Dispatcher, nextEngineInstant } from '../src/engine/dispatcher.js';
import { sendingEngine } from '../src/runtimes/engine.js';
import { LEASE_MS } from '../src/store/send-intents.js';
import { PAUSE_REASONS } from '../src/engine/plan.js';
import { platformRegistry, type Platform } from '../src/platforms/platform.js';
import { ok } from './helpers/sandbox.js';
import { allWeek, delay, like, message } from './helpers/simulation.js';
import { linkX, xWorld, type XWorld } from './helpers/x.js';

let world: XWorld;
beforeAll(async () => {
  world = await xWorld();
});
afterAll(() => world.close());

const HOUR = 3600_000;

/** Runs the engine in virtual time until nothing is due before `until`. */
async function runUntil(engine: Dispatcher, until: Date): Promise<void> {
  for (let i = 0; i < 500; i++) {
    await engine.runOnce(world.clock.now());
    const next = await nextEngineInstant(world.ctx.db, world.clock.now());
    if (!next || next > until) break;
    if (next > world.clock.now()) world.clock.set(next);
  }
  world.clock.set(until);
}

describe('a campaign on an X account', () => {
  it('likes and sends through X, fails a closed inbox, stops on a polled reply, and waits out a 429', async () => {
    const team = await world.team();
    const { link, user: me } = await linkX(world, team);
    const [keen, closed, quiet] = ['keen', 'closed', 'quiet'].map((name) => world.fake.addUser({ username: `${name}_${Math.random().toString(36).slice(2, 8)}` }));
    for (const lead of [keen!, closed!, quiet!]) world.fake.addTweet(lead.id, 'my latest post');
    world.fake.closedDms.add(closed!.id);

    const campaign = await createCampaign(world.ctx, team.teamId, { name: 'X outreach', messagesPerHour: 30, schedule: allWeek, accountLinkIds: [link.id] });
    await replaceSequence(world.ctx, team.teamId, campaign.id, [like, message('Hi there'), delay(2 * 3600), message('Following up')] as SequenceStep[]);
    // Leads by username: the team's platform is X, so they are looked up on (fake) X.
    await ok(team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/leads`, { usernames: [keen!.username, closed!.username, quiet!.username] }));
    await enableCampaign(world.ctx, team.teamId, campaign.id);

    const engine = sendingEngine(world.ctx, seededRandom(6));
    const start = world.clock.now();
    await runUntil(engine, new Date(start.getTime() + HOUR));
    const texts = (to: string) => world.fake.events.filter((e) => e.sender_id === me.id && e.dm_conversation_id.includes(to)).map((e) => e.text).reverse();
    expect(texts(keen!.id)).toEqual(['Hi there']);
    expect(texts(quiet!.id)).toEqual(['Hi there']);
    expect(texts(closed!.id)).toEqual([]);
    for (const lead of [keen!, closed!, quiet!]) expect(world.fake.likes.has(`${me.id}:${world.fake.tweets.get(lead.id)![0]!.id}`)).toBe(true);

    // The keen lead answers on X; polling brings the reply in and stops their sequence.
    world.fake.injectDm(keen!.id, me.id, 'Sounds interesting!');
    await new XPoller(world.ctx).runOnce();

    // X rate-limits the next send: the account is held until X's reset, then the campaign resumes.
    const reset = Math.ceil((world.clock.now().getTime() + 2 * HOUR) / 1000);
    world.fake.failNext('POST', /\/messages$/, 429, { title: 'Too Many Requests' }, { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) });
    await runUntil(engine, new Date(start.getTime() + 2.5 * HOUR));
    expect(await getCampaign(world.ctx, team.teamId, campaign.id)).toMatchObject({ status: 'paused', pauseReason: PAUSE_REASONS.rateLimited });
    await runUntil(engine, new Date(start.getTime() + 10 * HOUR));

    expect(texts(quiet!.id)).toEqual(['Hi there', 'Following up']);
    expect(texts(keen!.id)).toEqual(['Hi there']);
    const followUp = world.fake.events.find((e) => e.text === 'Following up')!;
    expect(new Date(followUp.created_at).getTime()).toBeGreaterThanOrEqual(reset * 1000);
    const leads = await world.ctx.db
      .selectFrom('campaign_leads as l')
      .innerJoin('prospects as p', 'p.id', 'l.prospect_id')
      .select(['p.platform_id', 'l.state'])
      .where('l.campaign_id', '=', campaign.id)
      .execute();
    expect(Object.fromEntries(leads.map((l) => [l.platform_id, l.state]))).toEqual({ [keen!.id]: 'replied', [closed!.id]: 'failed', [quiet!.id]: 'completed' });
    expect(await getCampaign(world.ctx, team.teamId, campaign.id)).toMatchObject({ status: 'completed' });
    // Each DM the campaign sent is one message, carrying X's event id.
    const outbound = await world.ctx.db.selectFrom('messages').select(['platform_id', 'campaign_id']).where('team_id', '=', team.teamId).where('outbound', '=', true).execute();
    expect(outbound.map((m) => m.platform_id).sort()).toEqual(world.fake.events.filter((e) => e.sender_id === me.id).map((e) => e.id).sort());
  });

  it('never sends twice when the worker dies after X accepted a DM', async () => {
    const team = await world.team();
    const { link, user: me } = await linkX(world, team);
    const lead = world.fake.addUser({ username: `crash_${Math.random().toString(36).slice(2, 8)}` });
    const campaign = await createCampaign(world.ctx, team.teamId, { name: 'Crash', messagesPerHour: 30, schedule: allWeek, accountLinkIds: [link.id] });
    await replaceSequence(world.ctx, team.teamId, campaign.id, [message('Only once')] as SequenceStep[]);
    await ok(team.request('POST', `/api/v1/campaigns/v2/${campaign.id}/leads`, { platformIds: [lead.id] }));
    await enableCampaign(world.ctx, team.teamId, campaign.id);

    // The real adapter, except that the process "dies" right after X answers the first send.
    const x = world.ctx.platforms.get('twitter')!;
    let crashes = 1;
    const dying = new Proxy(x, {
      get: (target, name) =>
        name === 'sendDm'
          ? async (...args: Parameters<Platform['sendDm']>) => {
              const sent = await target.sendDm(...args);
              if (crashes-- > 0) throw new Error('worker killed after X accepted the DM');
              return sent;
            }
          : Reflect.get(target, name, target),
    }) as Platform;
    const crashing = sendingEngine({ ...world.ctx, platforms: platformRegistry([dying]) }, seededRandom(7));
    await expect(crashing.runOnce(world.clock.now())).rejects.toThrow(/worker killed/);
    expect(world.fake.events.filter((e) => e.text === 'Only once')).toHaveLength(1);

    // A restarted worker takes the lead once its lease lapses and reconciles with X instead of resending.
    world.clock.advance(LEASE_MS + 1000);
    await runUntil(sendingEngine(world.ctx, seededRandom(8)), new Date(world.clock.now().getTime() + 6 * HOUR));
    const sent = world.fake.events.filter((e) => e.text === 'Only once' && e.sender_id === me.id);
    expect(sent).toHaveLength(1);
    const messages = await world.ctx.db.selectFrom('messages').select('platform_id').where('team_id', '=', team.teamId).where('outbound', '=', true).execute();
    expect(messages).toEqual([{ platform_id: sent[0]!.id }]);
    expect(await getCampaign(world.ctx, team.teamId, campaign.id)).toMatchObject({ status: 'completed' });
  });
});
