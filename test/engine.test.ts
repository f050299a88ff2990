import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkSandboxAccount, updateAccountLink } from '../src/app/accounts/account-links.js';
import { getCampaign, updateCampaign } from '../src/app/campaigns/campaigns.js';
import type { AppContext } from '../src/app/context.js';
import { eventsAfter } from '../src/app/events/events.js';
import { ingestInboundMessage } from '../src/app/inbox/inbound.js';
import { deliverSandboxDm } from '../src/app/inbox/sandbox.js';
import { DAY_MS, HOUR_MS, respectsCaps } from '../src/core/pacing.js';
import { seededRandom } from '../src/core/random.js';
import { loadConfig } from '../src/config.js';
import { LEASE_MS } from '../src/store/send-intents.js';
import { type Dispatcher, nextEngineInstant } from '../src/engine/dispatcher.js';
import { engineStore, sendingEngine } from '../src/runtimes/engine.js';
import { PAUSE_REASONS, planLeads } from '../src/engine/plan.js';
import { platformRegistry } from '../src/platforms/platform.js';
import { SandboxPlatform } from '../src/platforms/sandbox.js';
import { TestClock } from './helpers/clock.js';
import { FaultyPlatform, type Fault } from './helpers/faulty-platform.js';
import { freshStore, type FreshStore } from './helpers/fresh-store.js';
import { setUpCampaigns, uniqueUsername, type EngineSetup } from './helpers/engine.js';
import { allWeek, delay, message } from './helpers/simulation.js';
import { leadWaits } from '../src/engine/lead-waits.js';

let store: FreshStore;
let clock: TestClock;
let platform: FaultyPlatform;
let ctx: AppContext;
let engine: Dispatcher;

beforeAll(async () => {
  store = await freshStore();
  clock = new TestClock(new Date('2026-06-01T00:00:00Z'));
  platform = new FaultyPlatform(new SandboxPlatform(store.db, clock), clock);
  ctx = { db: store.db, clock, config: loadConfig({}), logger: pino({ level: 'silent' }), platforms: platformRegistry([platform]), leadWaits };
  engine = sendingEngine(ctx, seededRandom(1));
}, 60_000);

afterAll(() => store.close());

const setUp = (spec: EngineSetup = {}) => setUpCampaigns(ctx, spec);

/** Runs the engine in virtual time from the clock's instant until nothing is left to do (or `until`). */
async function runUntilIdle(until = new Date(clock.now().getTime() + 30 * DAY_MS)): Promise<void> {
  for (;;) {
    await engine.runOnce(clock.now());
    const next = await nextEngineInstant(store.db, clock.now());
    if (!next || next > until) return;
    clock.set(next);
  }
}

const dmsTo = async (recipient: string) =>
  store.db.selectFrom('sandbox_dm_events').selectAll().where('recipient_id', '=', recipient).execute();

const eventTypes = async (teamId: string) =>
  (await eventsAfter(store.db, teamId, 0)).map((e) => e.type);

describe('never sending twice', () => {
  it.each([
    ['after recording the intent, before the platform call', ['crashBeforeSend'] as Fault[]],
    ['after the platform delivered, before recording it', ['crashAfterSend'] as Fault[]],
    ['after delivering, and again while reconciling', ['crashAfterSend', 'crashInLookup'] as Fault[]],
  ])('a crash %s leaves one DM and one message once the lease runs out', async (_label, faults) => {
    const { teamId, leadIds } = await setUp({});
    const recipient = leadIds[0]![0]!;
    platform.faults.push(...faults);
    for (let i = 0; i < faults.length; i++) {
      await expect(engine.runOnce(clock.now())).rejects.toThrow(/process died/);
      // Within the lease nobody touches the lead.
      clock.advance(LEASE_MS / 2);
      await engine.runOnce(clock.now());
      clock.advance(LEASE_MS / 2);
    }
    await runUntilIdle();
    expect(await dmsTo(recipient)).toHaveLength(1);
    const messages = await store.db.selectFrom('messages').select('platform_id').where('team_id', '=', teamId).where('outbound', '=', true).execute();
    expect(messages).toEqual([{ platform_id: (await dmsTo(recipient))[0]!.id }]);
    const types = await eventTypes(teamId);
    expect(types.filter((t) => t === 'target.contacted')).toHaveLength(1);
    expect(types.at(-1)).toBe('campaign.completed');
    const intents = await store.db.selectFrom('send_intents').select('status').where('platform_message_id', '=', messages[0]!.platform_id).execute();
    expect(intents).toEqual([{ status: 'sent' }]);
  });

  it('a crash in one account’s calls, while other accounts’ calls go on, still leaves each lead one DM and one message', async () => {
    const { teamId, leadIds } = await setUp({ accounts: [{}, {}, {}], campaigns: [{ messagesPerHour: 60, leads: 6 }] });
    platform.faults.push('crashAfterSend');
    await expect(engine.runOnce(clock.now())).rejects.toThrow(/process died/);
    // The other accounts' calls finished too: their DMs are out, and their intents wait to be reconciled.
    expect((await Promise.all(leadIds[0]!.map(dmsTo))).flat().length).toBeGreaterThan(1);
    clock.advance(LEASE_MS);
    await runUntilIdle();
    const dms = (await Promise.all(leadIds[0]!.map(dmsTo))).map((sent) => sent.map((dm) => dm.id));
    expect(dms.map((ids) => ids.length)).toEqual([1, 1, 1, 1, 1, 1]);
    const messages = await store.db.selectFrom('messages').select('platform_id').where('team_id', '=', teamId).where('outbound', '=', true).execute();
    expect(messages.map((m) => m.platform_id).sort()).toEqual(dms.flat().sort());
  });

  // Three leads against a tight hourly cap: the stale slot the crash left let the cap be overrun. One lead alone,
  // nothing else pacing it: its follow-up went out moments after the resend.
  it.each([
    [2, 3],
    [undefined, 1],
  ])('a send a crash left unattempted goes out at a new slot: delays and caps hold on the platform’s clock (hourly limit %s, %i leads), and its message is stamped when it went out', async (hourlyLimit, leads) => {
    const { teamId, accountIds, leadIds } = await setUp({
      accounts: [{ hourlyLimit }],
      campaigns: [{ messagesPerHour: 60, leads, steps: [message('One'), delay(60), message('Two')] }],
    });
    platform.faults.push('crashBeforeSend');
    await expect(engine.runOnce(clock.now())).rejects.toThrow(/process died/);
    // Another lead goes out while the crashed send waits for its lease to run out.
    clock.advance(60_000);
    await engine.runOnce(clock.now());
    clock.advance(LEASE_MS);
    platform.lookupMs = 2_000;
    try {
      await runUntilIdle();
    } finally {
      platform.lookupMs = 0;
    }
    const account = await store.db.selectFrom('account_links').select(['platform_id', 'hourly_limit', 'daily_limit']).where('id', '=', accountIds[0]!).executeTakeFirstOrThrow();
    const dms = await store.db.selectFrom('sandbox_dm_events').select(['id', 'recipient_id', 'created_at']).where('sender_id', '=', account.platform_id).orderBy('created_at').execute();
    expect(dms).toHaveLength(2 * leads);
    for (const recipient of leadIds[0]!) {
      const [first, second] = dms.filter((dm) => dm.recipient_id === recipient).map((dm) => dm.created_at.getTime());
      expect(second! - first!, `the follow-up to ${recipient}`).toBeGreaterThanOrEqual(60_000);
    }
    const caps = [{ windowMs: HOUR_MS, limit: account.hourly_limit }, { windowMs: DAY_MS, limit: account.daily_limit }];
    expect(respectsCaps(dms.map((dm) => dm.created_at), caps)).toBe(true);
    const messages = await store.db.selectFrom('messages').select(['platform_id', 'created_at']).where('team_id', '=', teamId).where('outbound', '=', true).orderBy('created_at').execute();
    expect(messages).toEqual(dms.map((dm) => ({ platform_id: dm.id, created_at: dm.created_at })));
  });
});

describe('settings edits', () => {
  it('work out the next send anew when the schedule changes, instead of waiting for the old window', async () => {
    const { teamId, campaignIds, leadIds } = await setUp({});
    const [campaignId, lead] = [campaignIds[0]!, leadIds[0]![0]!];
    // Only Sundays 09:00-10:00 UTC; the clock stands on a Monday, so the engine holds the sender for six days.
    await updateCampaign(ctx, teamId, campaignId, { schedule: { '0': { start: 540, end: 600 } } });
    for (let pass = 0; pass < 3; pass++) await engine.runOnce(clock.now());
    expect(await dmsTo(lead)).toHaveLength(0);
    const held = await store.db.selectFrom('campaign_accounts').select('next_send_at').where('campaign_id', '=', campaignId).executeTakeFirstOrThrow();
    expect(held.next_send_at!.getTime()).toBeGreaterThan(clock.now().getTime() + 5 * DAY_MS);

    await updateCampaign(ctx, teamId, campaignId, { schedule: allWeek });
    for (let pass = 0; pass < 3; pass++) await engine.runOnce(clock.now());
    expect(await dmsTo(lead)).toHaveLength(1);
  });
});

describe('account problems', () => {
  it('holds a rate-limited account until the reset, pausing and resuming the campaign it alone serves', async () => {
    const { teamId, campaignIds, leadIds } = await setUp({ campaigns: [{ messagesPerHour: 10, leads: 2 }] });
    const start = clock.now();
    platform.resetAt = new Date(start.getTime() + 2 * HOUR_MS);
    platform.faults.push('rateLimited');
    await engine.runOnce(start);
    const paused = await getCampaign(ctx, teamId, campaignIds[0]!);
    expect(paused).toMatchObject({ status: 'paused', pauseReason: PAUSE_REASONS.rateLimited, enabled: false });
    await runUntilIdle();
    const campaign = await getCampaign(ctx, teamId, campaignIds[0]!);
    expect(campaign).toMatchObject({ status: 'completed', contactedCount: 2 });
    const first = await dmsTo(leadIds[0]![0]!);
    const second = await dmsTo(leadIds[0]![1]!);
    expect(Math.min(first[0]!.created_at.getTime(), second[0]!.created_at.getTime())).toBe(platform.resetAt.getTime());
    expect(await eventTypes(teamId)).toEqual(expect.arrayContaining(['campaign.paused', 'campaign.resumed']));
  });

  it('takes an account whose access was revoked offline and moves its leads to the other account', async () => {
    const { teamId, accountIds, campaignIds } = await setUp({ accounts: [{}, {}], campaigns: [{ messagesPerHour: 30, leads: 4 }] });
    platform.faults.push('authRevoked');
    await runUntilIdle();
    const links = await store.db.selectFrom('account_links').select(['id', 'status']).where('id', 'in', accountIds).execute();
    expect(links.filter((l) => l.status === 'offline')).toHaveLength(1);
    expect(await getCampaign(ctx, teamId, campaignIds[0]!)).toMatchObject({ status: 'completed', contactedCount: 4 });
  });

  it('pauses when its only account is revoked and resumes once the account is reconnected', async () => {
    const { teamId, accountIds, campaignIds } = await setUp({ campaigns: [{ messagesPerHour: 30, leads: 1 }] });
    platform.faults.push('authRevoked');
    await runUntilIdle();
    expect(await getCampaign(ctx, teamId, campaignIds[0]!)).toMatchObject({ status: 'paused', pauseReason: PAUSE_REASONS.unavailable });
    await updateAccountLink(ctx, teamId, accountIds[0]!, { status: 'active' });
    await runUntilIdle();
    expect(await getCampaign(ctx, teamId, campaignIds[0]!)).toMatchObject({ status: 'completed', contactedCount: 1, pauseReason: null });
  });
});

describe('rebalancing', () => {
  it('shows isRebalancing while the leads of an offline account move, batch by batch, to the others', async () => {
    const { teamId, accountIds, campaignIds } = await setUp({ accounts: [{}, {}], campaigns: [{ messagesPerHour: 1, leads: 6 }] });
    const [campaignId] = campaignIds;
    await planLeads(engineStore(store.db), clock.now());
    const onFirst = () =>
      store.db.selectFrom('campaign_leads').select('id').where('campaign_id', '=', campaignId!).where('account_link_id', '=', accountIds[0]!).execute();
    expect(await onFirst()).toHaveLength(3);
    await updateAccountLink(ctx, teamId, accountIds[0]!, { status: 'offline' });
    await planLeads(engineStore(store.db), clock.now(), 2);
    expect(await getCampaign(ctx, teamId, campaignId!)).toMatchObject({ isRebalancing: true });
    expect(await onFirst()).toHaveLength(1);
    await planLeads(engineStore(store.db), clock.now(), 2);
    expect(await onFirst()).toHaveLength(0);
    expect(await getCampaign(ctx, teamId, campaignId!)).toMatchObject({ isRebalancing: false });
    await updateAccountLink(ctx, teamId, accountIds[0]!, { status: 'active' });
    await runUntilIdle();
    expect(await getCampaign(ctx, teamId, campaignId!)).toMatchObject({ status: 'completed', contactedCount: 6 });
  });
});

describe('replies', () => {
  it('count from any thread of the team after contact, once; our own messages never count', async () => {
    const { teamId, accountIds, campaignIds, leadIds } = await setUp({
      accounts: [{}],
      campaigns: [{ messagesPerHour: 10, leads: 1, steps: [message('One'), delay(86_400), message('Two')] }],
    });
    const other = await linkSandboxAccount(ctx, teamId, { username: uniqueUsername() });
    const lead = leadIds[0]![0]!;
    await engine.runOnce(clock.now());
    expect(await dmsTo(lead)).toHaveLength(1);
    clock.advance(60_000);
    // Our own account writing to the lead (seen from the platform) is not a reply.
    const ours = await store.db.selectFrom('account_links').selectAll().where('id', '=', accountIds[0]!).executeTakeFirstOrThrow();
    await ingestInboundMessage(ctx, ours, { platformMessageId: `own${uniqueUsername()}`, senderPlatformId: ours.platform_id, recipientPlatformId: lead, content: 'typed in the app', createdAt: clock.now() });
    expect(await getCampaign(ctx, teamId, campaignIds[0]!)).toMatchObject({ repliedCount: 0 });
    // The lead answers another account of the team: still a reply to the campaign, counted once.
    await deliverSandboxDm(ctx, teamId, { accountLinkId: other.id, fromPlatformId: lead, content: 'Hi!' });
    await deliverSandboxDm(ctx, teamId, { accountLinkId: accountIds[0]!, fromPlatformId: lead, content: 'Hello?' });
    await runUntilIdle();
    expect(await dmsTo(lead)).toHaveLength(1);
    const campaign = await getCampaign(ctx, teamId, campaignIds[0]!);
    expect(campaign).toMatchObject({ status: 'completed', repliedCount: 1, contactedCount: 1 });
    expect((await eventTypes(teamId)).filter((t) => t === 'target.replied')).toHaveLength(1);
  });
});

describe('caps', () => {
  it('never exceeds any cap in any sliding window, across campaigns sharing an account', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          hourlyLimit: fc.integer({ min: 1, max: 12 }),
          dailyLimit: fc.integer({ min: 4, max: 30 }),
          campaigns: fc.array(fc.record({ messagesPerHour: fc.integer({ min: 1, max: 20 }), leads: fc.integer({ min: 1, max: 6 }) }), {
            minLength: 2,
            maxLength: 3,
          }),
        }),
        async ({ hourlyLimit, dailyLimit, campaigns }) => {
          const { accountIds, campaignIds } = await setUp({
            accounts: [{ hourlyLimit, dailyLimit }],
            campaigns: campaigns.map((c) => ({ ...c, steps: [message('One'), delay(60), message('Two')] })),
          });
          await runUntilIdle();
          const sends = await store.db.selectFrom('messages').select(['campaign_id', 'created_at']).where('author_id', '=', accountIds[0]!).execute();
          expect(sends).toHaveLength(campaigns.reduce((n, c) => n + 2 * c.leads, 0));
          const at = (rows: typeof sends) => rows.map((r) => r.created_at);
          expect(respectsCaps(at(sends), [{ windowMs: HOUR_MS, limit: hourlyLimit }, { windowMs: DAY_MS, limit: dailyLimit }])).toBe(true);
          campaigns.forEach((c, i) => {
            const own = sends.filter((s) => s.campaign_id === campaignIds[i]);
            expect(respectsCaps(at(own), [{ windowMs: HOUR_MS, limit: c.messagesPerHour }])).toBe(true);
          });
        },
      ),
      { numRuns: 6, seed: 20260601 },
    );
  }, 180_000);
});
