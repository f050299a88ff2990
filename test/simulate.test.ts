import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { HOUR_MS, maxSendsInAnyWindow } from '../src/core/pacing.js';
import { isOpen } from '../src/core/schedule.js';
import { parseScenario } from '../src/runtimes/simulation.js';
import { allWeek, delay, like, message, runScenario } from './helpers/simulation.js';

const base = {
  start: '2026-03-02T00:00:00Z',
  until: '2026-04-01T00:00:00Z',
  seed: 7,
  accounts: [{ username: 'alice' }],
};

const weekdays = Object.fromEntries(['1', '2', '3', '4', '5'].map((d) => [d, { start: 540, end: 1020 }]));

describe('inbox simulate', { timeout: 120_000 }, () => {
  it('paces sends evenly per account, inside the windows, across a DST week in New York', async () => {
    const scenario = {
      ...base,
      start: '2026-03-05T00:00:00Z',
      accounts: [{ username: 'alice' }, { username: 'bob' }],
      campaign: {
        name: 'DST',
        messagesPerHour: 6,
        timezone: 'America/New_York',
        schedule: weekdays,
        sequence: { steps: [message('Hi')] },
        leads: { count: 200, firstId: '7000' },
      },
    };
    const { targets, summary } = await runScenario(scenario);
    expect(targets).toHaveLength(200);
    expect(summary.campaign).toMatchObject({ status: 'completed', contactedCount: 200, completionRate: 1 });
    for (const account of summary.accountLinks) {
      const sends = targets.filter((t) => t.accountLinkId === account.id).map((t) => t.at);
      expect(sends.length).toBe(100); // spread evenly
      expect(maxSendsInAnyWindow(sends, HOUR_MS)).toBeLessThanOrEqual(6);
      const gaps = sends.slice(1).map((t, i) => t.getTime() - sends[i]!.getTime());
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0.8 * 600_000 - 1);
    }
    for (const { at } of targets) {
      expect(isOpen(weekdays, 'America/New_York', at)).toBe(true);
      const local = DateTime.fromJSDate(at, { zone: 'America/New_York' });
      expect(local.hour).toBeGreaterThanOrEqual(9);
      expect(local.hour).toBeLessThan(17);
    }
    // Thursday and Friday open at 14:00Z (EST); after the spring-forward on Sunday 8 March, Monday opens at 13:00Z (EDT).
    const firstOn = (day: string) => targets.find((t) => t.at.toISOString().startsWith(day))?.at.toISOString();
    expect(firstOn('2026-03-05')).toBe('2026-03-05T14:00:00.000Z');
    expect(firstOn('2026-03-06')).toBe('2026-03-06T14:00:00.000Z');
    expect(firstOn('2026-03-07')).toBeUndefined();
    expect(firstOn('2026-03-09')).toBe('2026-03-09T13:00:00.000Z');
  });

  it('stops a sequence on reply, runs automations, waits out delays, likes, fails the unreachable and completes', async () => {
    const scenario = {
      ...base,
      profiles: [
        { platformId: '7001', displayName: 'Jane Doe' },
        { platformId: '7003', displayName: 'Closing' },
        { platformId: '7004', dmsOpen: false },
      ],
      statuses: [{ name: 'Interested' }],
      tags: [{ name: 'Done' }],
      campaign: {
        name: 'Steps',
        messagesPerHour: 10,
        timezone: 'UTC',
        schedule: allWeek,
        sequence: {
          steps: [
            { type: 'message', data: { segments: [{ type: 'static', text: 'Hi ' }, { type: 'variable', name: 'first-name', fallback: 'there' }] } },
            delay(7200),
            like,
            message('Following up'),
          ],
        },
        automations: [
          { trigger: 'replied', action: 'setStatus', status: 'Interested' },
          { trigger: 'completed', action: 'addTag', tag: 'Done' },
        ],
        leads: { count: 5, firstId: '7000' },
      },
      // 7001 answers ten minutes after the first message; 7002 writes before it was ever contacted; 7003 entered
      // and then closed its DMs; 7004's were closed from the start, so the lead rules keep it out.
      replies: [{ from: '7001', afterStep: 0, delaySeconds: 600, content: 'Hey!' }],
      events: [
        { at: '2026-03-02T00:00:00Z', type: 'inbound', account: 'alice', from: '7002', content: 'Unprompted' },
        { at: '2026-03-02T00:00:00Z', type: 'profile', profile: { platformId: '7003', displayName: 'Closing', dmsOpen: false } },
      ],
    };
    const { events, targets, summary } = await runScenario(scenario);
    const of = (id: string) => targets.filter((t) => t.platformId === id).map((t) => `${t.type}@${t.rank}`);
    expect(of('7001')).toEqual(['target.contacted@0', 'target.replied@undefined']);
    expect(targets.find((t) => t.platformId === '7001')!.content).toBe('Hi Jane');
    expect(of('7000')).toEqual(['target.contacted@0', 'target.liked@2', 'target.followUpSent@3']);
    expect(of('7002')).toEqual(['target.contacted@0', 'target.liked@2', 'target.followUpSent@3']);
    // 7003's DMs closed after it entered: its lead fails, and says so with the platform's reason.
    expect(of('7003')).toEqual(['target.failed@0']);
    expect(of('7004')).toEqual([]);
    const failed = events.find((e) => e.type === 'target.failed')!;
    expect(failed.data.reason).toMatch(/\S/);
    expect(failed.data.campaign).toMatchObject({ contactedCount: expect.any(Number) });
    expect(failed.data.prospect).toMatchObject({ platformId: '7003' });
    // The like waits two hours after the first message actually went out.
    const first = targets.find((t) => t.platformId === '7000' && t.rank === 0)!.at.getTime();
    const liked = targets.find((t) => t.platformId === '7000' && t.rank === 2)!.at.getTime();
    expect(liked - first).toBeGreaterThanOrEqual(7_200_000);
    expect(events.filter((e) => e.type === 'prospect.statusChanged')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'prospect.tagsChanged')).toHaveLength(2); // 7000 and 7002 completed
    expect(events.filter((e) => e.type === 'target.replied')).toHaveLength(1);
    const replied = events.find((e) => e.type === 'target.replied')!;
    expect(replied.data.campaign).toMatchObject({ repliesCount: 1 });
    expect(summary.campaign).toMatchObject({ status: 'completed', targetsCount: 4, contactedCount: 4, repliedCount: 1, replyRate: 0.25 });
    expect(events.at(-1)!.type).toBe('campaign.completed');
  });

  it('pauses when no account can send and resumes when one can, moving leads off an offline account', async () => {
    const scenario = {
      ...base,
      accounts: [{ username: 'alice' }, { username: 'bob' }],
      campaign: {
        name: 'Pause',
        messagesPerHour: 2,
        timezone: 'UTC',
        schedule: allWeek,
        sequence: { steps: [message('Hi')] },
        leads: { count: 8, firstId: '7100' },
      },
      events: [
        { at: '2026-03-02T00:30:00Z', type: 'accountStatus', account: 'alice', status: 'offline' },
        { at: '2026-03-02T01:00:00Z', type: 'accountStatus', account: 'bob', status: 'paused' },
        { at: '2026-03-02T05:00:00Z', type: 'accountStatus', account: 'bob', status: 'active' },
      ],
    };
    const { events, targets, summary } = await runScenario(scenario);
    const paused = events.find((e) => e.type === 'campaign.paused')!;
    expect(paused.timestamp).toBe('2026-03-02T01:00:00.000Z');
    const resumed = events.find((e) => e.type === 'campaign.resumed')!;
    expect(resumed.timestamp).toBe('2026-03-02T05:00:00.000Z');
    expect(targets.filter((t) => t.at > new Date(paused.timestamp) && t.at < new Date(resumed.timestamp))).toEqual([]);
    const named = (username: string) => summary.accountLinks.find((a: { username: string }) => a.username === username);
    const [alice, bob] = [named('alice'), named('bob')];
    // alice sent before going offline; every other lead moved to bob.
    expect(targets.filter((t) => t.accountLinkId === alice.id)).toHaveLength(1);
    expect(targets.filter((t) => t.accountLinkId === bob.id)).toHaveLength(7);
    expect(summary.campaign).toMatchObject({ status: 'completed', contactedCount: 8, pauseReason: null });
  });

  it('applies a new sequence version to leads in flight from their next unsent rank', async () => {
    const scenario = {
      ...base,
      campaign: {
        name: 'Edit',
        messagesPerHour: 20,
        timezone: 'UTC',
        schedule: allWeek,
        sequence: { steps: [message('One'), delay(86_400), message('Two (old)')] },
        leads: { count: 3, firstId: '7200' },
      },
      events: [{ at: '2026-03-02T06:00:00Z', type: 'sequence', steps: [message('One'), delay(3_600), message('Two (new)'), delay(3_600), message('Three')] }],
    };
    const { targets, summary } = await runScenario(scenario);
    const contents = targets.filter((t) => t.platformId === '7200').map((t) => t.content);
    expect(contents).toEqual(['One', 'Two (new)', 'Three']);
    // Under the new version Two is due an hour after One, so it goes at once (paced) rather than a day later.
    const [one, two] = targets.filter((t) => t.platformId === '7200');
    expect(one!.at.getTime()).toBeLessThan(Date.parse('2026-03-02T01:00:00Z'));
    expect(two!.at.getTime()).toBeGreaterThanOrEqual(Date.parse('2026-03-02T06:00:00Z'));
    expect(two!.at.getTime()).toBeLessThan(Date.parse('2026-03-02T06:10:00Z'));
    expect(summary.campaign).toMatchObject({ status: 'completed', sequence: { version: 2 } });
  });

  it('completes leads already past the end of a shorter new version', async () => {
    const scenario = {
      ...base,
      campaign: {
        name: 'Shorter',
        messagesPerHour: 20,
        timezone: 'UTC',
        schedule: allWeek,
        sequence: { steps: [message('One'), delay(86_400), message('Two')] },
        leads: { count: 2, firstId: '7300' },
      },
      events: [{ at: '2026-03-02T06:00:00Z', type: 'sequence', steps: [message('Only')] }],
    };
    const { targets, summary } = await runScenario(scenario);
    expect(targets.map((t) => t.content)).toEqual(['One', 'One']);
    expect(summary.campaign).toMatchObject({ status: 'completed', completedAt: '2026-03-02T06:00:00.000Z' });
  });

  it('takes its leads from synced lists, minus excluded lists', async () => {
    const scenario = {
      ...base,
      lists: [
        { name: 'Founders', platformIds: ['7500', '7501', '7502', '7503'] },
        { name: 'Customers', platformIds: ['7502'] },
      ],
      campaign: {
        name: 'Lists',
        messagesPerHour: 20,
        timezone: 'UTC',
        schedule: allWeek,
        sequence: { steps: [message('Hi')] },
        rules: { syncedListIds: ['Founders'], excludedListIds: ['Customers'] },
      },
    };
    const { targets, summary } = await runScenario(scenario);
    expect(targets.map((t) => t.platformId).sort()).toEqual(['7500', '7501', '7503']);
    expect(summary.campaign).toMatchObject({ status: 'completed', contactedCount: 3, rules: { syncedLists: [{ listName: 'Founders' }] } });
  });

  it('names the first message target.contacted even when a like opens the sequence', async () => {
    const scenario = {
      ...base,
      campaign: { name: 'Like first', messagesPerHour: 20, timezone: 'UTC', schedule: allWeek, sequence: { steps: [like, message('Hi'), message('Again')] }, leads: { platformIds: ['7600'] } },
    };
    const { targets, summary } = await runScenario(scenario);
    expect(targets.map((t) => `${t.type}@${t.rank}`)).toEqual(['target.liked@0', 'target.contacted@1', 'target.followUpSent@2']);
    expect(summary.campaign).toMatchObject({ status: 'completed', contactedCount: 1 });
  });

  it('gives byte-identical output for the same scenario and seed, and different jitter for another seed', async () => {
    const scenario = {
      ...base,
      accounts: [{ username: 'alice' }, { username: 'bob' }],
      campaign: {
        name: 'Twice',
        messagesPerHour: 5,
        timezone: 'Europe/London',
        schedule: weekdays,
        sequence: { steps: [{ type: 'message', data: { segments: [{ type: 'variation', options: ['Hi', 'Hello', 'Hey'] }] } }, delay(3600), message('Ping')] },
        leads: { count: 10, firstId: '7400' },
        rules: { syncedListIds: ['More'] },
      },
      lists: [{ name: 'More', platformIds: ['7450', '7451', '7452'] }],
      replies: [{ from: '7401', afterStep: 0, delaySeconds: 60, content: 'Yes' }],
    };
    const [a, b, c] = [await runScenario(scenario), await runScenario(scenario), await runScenario({ ...scenario, seed: 8 })];
    expect(a.targets.filter((t) => t.platformId === '7451')).not.toEqual([]);
    expect(a.lines.join('\n')).toBe(b.lines.join('\n'));
    expect(c.targets.map((t) => t.at.getTime())).not.toEqual(a.targets.map((t) => t.at.getTime()));
  });

  it('refuses a scenario naming every problem, the NUL character (which the store cannot hold) included', () => {
    const scenario = {
      ...base,
      until: base.start,
      accounts: [{ username: 'a\u0000' }],
      campaign: { name: 'Bad', messagesPerHour: 5, timezone: 'Mars/Olympus', sequence: { steps: [message('Hi\u0000')] }, leads: { count: 1, firstId: '7000' } },
    };
    expect(() => parseScenario(scenario)).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_ERROR',
        details: [
          { field: 'campaign.timezone', message: expect.any(String) },
          { field: 'until', message: 'must be after start' },
          { field: 'accounts.0.username', message: 'must not contain the NUL character (U+0000)' },
          { field: 'campaign.sequence.steps.0.data.segments.0.text', message: 'must not contain the NUL character (U+0000)' },
        ],
      }),
    );
  });
});
