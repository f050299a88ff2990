import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateAccountLink } from '../src/app/accounts/account-links.js';
import { deliverSandboxDm } from '../src/app/inbox/sandbox.js';
import type { AppContext } from '../src/app/context.js';
import { createLogger } from '../src/cli/runtime.js';
import { seededRandom } from '../src/core/random.js';
import { loadConfig } from '../src/config.js';
import { nextEngineInstant } from '../src/engine/dispatcher.js';
import { leadWaits } from '../src/engine/lead-waits.js';
import { PAUSE_REASONS } from '../src/engine/plan.js';
import { platformRegistry } from '../src/platforms/platform.js';
import { SandboxPlatform } from '../src/platforms/sandbox.js';
import { sendingEngine } from '../src/runtimes/engine.js';
import { TestClock } from './helpers/clock.js';
import { freshStore, type FreshStore } from './helpers/fresh-store.js';
import { setUpCampaigns } from './helpers/engine.js';
import { delay, message } from './helpers/simulation.js';

/** `inbox serve` says what the engine does at info (issue 23): one line per batch sent and per campaign change. */

let store: FreshStore;
let clock: TestClock;
let ctx: AppContext;
let written = '';

beforeAll(async () => {
  store = await freshStore();
  clock = new TestClock(new Date('2026-06-01T00:00:00Z'));
  const config = loadConfig({ LOG_LEVEL: 'info' });
  const sink = new Writable({ write: (chunk, _encoding, done) => ((written += String(chunk)), done()) });
  ctx = { db: store.db, clock, config, logger: createLogger(config, sink), platforms: platformRegistry([new SandboxPlatform(store.db, clock)]), leadWaits };
}, 60_000);

afterAll(() => store.close());

const lines = () => written.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; sent?: number; campaignId?: string; pauseReason?: string });

describe('the engine log', () => {
  it('logs each batch it sent, a campaign it paused and why, resumed and completed', async () => {
    const engine = sendingEngine(ctx, seededRandom(1));
    const { teamId, accountIds, campaignIds } = await setUpCampaigns(ctx, { campaigns: [{ messagesPerHour: 25, leads: 3 }] });
    const [campaignId] = campaignIds;
    await engine.runOnce(clock.now());
    await updateAccountLink(ctx, teamId, accountIds[0]!, { status: 'offline' });
    await engine.runOnce(clock.now());
    await updateAccountLink(ctx, teamId, accountIds[0]!, { status: 'active' });
    for (let next: Date | null = clock.now(); next; next = await nextEngineInstant(store.db, clock.now())) {
      clock.set(next);
      await engine.runOnce(clock.now());
    }

    const engineLines = lines().filter((l) => l.msg.startsWith('engine '));
    expect(engineLines.every((l) => l.level === 30)).toBe(true); // info
    const batches = engineLines.filter((l) => l.msg.startsWith('engine batch sent'));
    // One line a batch, not one a lead: three sends spaced by the pace are three batches of one.
    expect(batches.map((l) => [l.msg, l.sent])).toEqual([
      ['engine batch sent 1', 1],
      ['engine batch sent 1', 1],
      ['engine batch sent 1', 1],
    ]);
    const changes = engineLines.filter((l) => !l.msg.startsWith('engine batch sent')).map((l) => [l.msg, l.campaignId, l.pauseReason]);
    expect(changes).toEqual([
      [`engine paused a campaign: ${PAUSE_REASONS.unavailable}`, campaignId, PAUSE_REASONS.unavailable],
      ['engine resumed a campaign', campaignId, undefined],
      ['engine completed a campaign', campaignId, undefined],
    ]);
  });

  it('says nothing for a forecast, whose sends nobody sees', async () => {
    const engine = sendingEngine(ctx, seededRandom(1), { recording: 'progress' });
    await setUpCampaigns(ctx, { campaigns: [{ messagesPerHour: 25, leads: 1 }] });
    const before = written;
    await engine.runOnce(clock.now());
    expect(written).toBe(before);
  });

  it('logs a lead that replied, with its campaign', async () => {
    const engine = sendingEngine(ctx, seededRandom(1));
    // Two messages, so the campaign is still running when the reply comes.
    const steps = [message('Hello'), delay(86_400), message('Again')];
    const { teamId, accountIds, campaignIds, leadIds } = await setUpCampaigns(ctx, { campaigns: [{ messagesPerHour: 25, leads: 1, steps }] });
    const contacted = () => store.db.selectFrom('campaign_leads').select('id').where('campaign_id', '=', campaignIds[0]!).where('contacted_at', 'is not', null).executeTakeFirst();
    for (let next: Date | null = clock.now(); next && !(await contacted()); next = await nextEngineInstant(store.db, clock.now())) {
      clock.set(next);
      await engine.runOnce(clock.now());
    }
    const lead = await store.db.selectFrom('prospects').select(['platform_id', 'id']).where('team_id', '=', teamId).where('platform_id', '=', leadIds[0]![0]!).executeTakeFirstOrThrow();
    clock.advance(60_000);
    await deliverSandboxDm(ctx, teamId, { accountLinkId: accountIds[0]!, fromPlatformId: lead.platform_id, content: 'Tell me more' });
    const replied = lines().filter((l) => l.msg === 'a lead replied');
    expect(replied.map((l) => [l.level, l.campaignId, (l as { prospectId?: string }).prospectId])).toEqual([[30, campaignIds[0], lead.id]]);
  });
});
