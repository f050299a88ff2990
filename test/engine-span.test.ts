import { describe, expect, it } from 'vitest';
import { allWeek, delay, like, message, runScenario, type SimResult } from './helpers/simulation.js';

/**
 * A pass over a span of virtual time plans each account's sends ahead (core/send-plan) and records them in
 * batches; a pass per instant decides one instant at a time, as in real time. Both must send the same steps
 * to the same leads from the same accounts at the same instants, through caps, windows, DST, replies,
 * failures, an account going offline and a sequence edit.
 */
const weekdays = Object.fromEntries(['1', '2', '3', '4', '5'].map((d) => [d, { start: 540, end: 1020 }]));

const scenario = {
  start: '2026-03-05T00:00:00Z',
  until: '2026-03-20T00:00:00Z',
  seed: 11,
  accounts: [
    { username: 'alice', hourlyLimit: 8, dailyLimit: 30 },
    { username: 'bob', hourlyLimit: 5, dailyLimit: 25 },
  ],
  profiles: [{ platformId: '8005', dmsOpen: false }, { platformId: '8011', accountStatus: 'suspended' }],
  campaign: {
    name: 'Span',
    messagesPerHour: 6,
    timezone: 'America/New_York',
    schedule: weekdays,
    sequence: { steps: [message('Hi {there|friend}'), delay(3600), like, message('Following up')] },
    leads: { count: 36, firstId: '8000' },
  },
  replies: [
    // Spans reach no further than the shortest reply delay: long delays make them hours long.
    { from: '8001', afterStep: 0, delaySeconds: 10_800, content: 'Hello!' },
    { from: '8007', afterStep: 2, delaySeconds: 7_200, content: 'Thanks for the like' },
    { from: '8020', afterStep: 3, delaySeconds: 18_000, content: 'Later' },
  ],
  events: [
    { at: '2026-03-06T15:30:00Z', type: 'accountStatus', account: 'bob', status: 'offline' },
    { at: '2026-03-09T14:00:00Z', type: 'accountStatus', account: 'bob', status: 'active' },
    { at: '2026-03-10T12:00:00Z', type: 'sequence', steps: [message('Hi again'), delay(7200), message('Last one')] },
    { at: '2026-03-11T16:00:00Z', type: 'inbound', account: 'alice', from: '8030', content: 'Who is this?' },
  ],
};

/** What happened, without the ids (drawn in a different order when work is batched). */
const story = (run: SimResult) =>
  run.events.map((e) => {
    const thread = e.data.thread ? `thread from ${e.data.thread.createdAt} sorted at ${e.data.thread.computedSortTimestamp}` : '';
    return [e.type, e.timestamp, e.data.prospect?.platformId ?? '', e.data.step?.rank ?? '', e.data.message?.content ?? '', thread].join(' ');
  });

describe('passes over spans of virtual time', { timeout: 240_000 }, () => {
  it('send exactly what passes at every instant send', async () => {
    const [spanned, stepwise] = [await runScenario(scenario), await runScenario(scenario, { stepwise: true })];
    expect(spanned.targets.length).toBeGreaterThan(60);
    const accountsOf = (run: SimResult) => {
      const names = new Map(run.summary.accountLinks.map((a: { id: string; username: string }) => [a.id, a.username]));
      return run.targets.map((t) => `${t.platformId} ${t.type} ${t.at.toISOString()} ${names.get(t.accountLinkId)}`);
    };
    expect(accountsOf(spanned)).toEqual(accountsOf(stepwise));
    expect(story(spanned)).toEqual(story(stepwise));
    const counters = ({ summary: { campaign } }: SimResult) => [campaign.status, campaign.contactedCount, campaign.repliedCount, campaign.completedAt];
    expect(counters(spanned)).toEqual(counters(stepwise));
  });

  it('start a thread at its first message when one span sends a lead several steps', async () => {
    const run = await runScenario({
      start: '2026-03-05T00:00:00Z',
      until: '2026-03-06T00:00:00Z',
      seed: 3,
      accounts: [{ username: 'alice' }],
      campaign: { name: 'Quick', messagesPerHour: 25, schedule: allWeek, sequence: { steps: [message('Hi'), delay(600), message('Again')] }, leads: { count: 2, firstId: '8100' } },
    });
    const created = run.events.filter((e) => e.type === 'thread.created');
    expect(created).toHaveLength(2);
    for (const { data } of created) {
      const [first, second] = run.events.filter((e) => e.type === 'message.created' && e.data.thread.id === data.thread.id);
      expect(data.thread.createdAt).toBe(first!.timestamp);
      expect(data.thread.computedSortTimestamp).toBe(first!.timestamp);
      expect(second!.data.thread).toMatchObject({ createdAt: first!.timestamp, computedSortTimestamp: second!.timestamp });
    }
  });
});
