import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RankedStep } from '../../src/core/lead-progress.js';
import { DAY_MS, HOUR_MS, respectsCaps } from '../../src/core/pacing.js';
import { seededRandom } from '../../src/core/random.js';
import { isOpen } from '../../src/core/schedule.js';
import { byDue, planAccount, planAccounts, type AccountState, type QueuedLead, type SenderQueue } from '../../src/core/send-plan.js';
import { instantsNearTransitions, schedules } from './zones.js';

const steps: RankedStep[] = [
  { id: 's0', rank: 0, type: 'message', data: { segments: [{ type: 'static', text: 'Hi' }] } },
  { id: 's1', rank: 1, type: 'delay', data: { delaySeconds: 1800, unit: 'minutes' } },
  { id: 's2', rank: 2, type: 'likeTweet' },
  { id: 's3', rank: 3, type: 'message', data: { segments: [{ type: 'static', text: 'Again' }] } },
] as RankedStep[];

const leadsOf = (prefix: string, n: number, at: Date): QueuedLead[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, prospectId: `${prefix}p${String(i).padStart(3, '0')}`, nextRank: 0, lastContactAt: null, dueAt: at }));

const world = fc.record({
  start: instantsNearTransitions,
  schedule: schedules.filter((s) => Object.keys(s).length > 0),
  hourlyLimit: fc.integer({ min: 1, max: 30 }),
  dailyLimit: fc.integer({ min: 1, max: 200 }),
  paces: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 3 }),
  leads: fc.integer({ min: 1, max: 25 }),
  seed: fc.integer(),
});

/** A queue's leads as the store loads them: of each kind the first `cap`, and whether more wait. */
const loadedEachCapped = (all: QueuedLead[], cap: number): Pick<SenderQueue, 'leads' | 'more'> => {
  const followUps = all.filter((l) => l.nextRank > 0).sort(byDue);
  const firstTouches = all.filter((l) => l.nextRank === 0).sort(byDue);
  return { leads: [...followUps.slice(0, cap), ...firstTouches.slice(0, cap)], more: { followUps: followUps.length > cap, firstTouches: firstTouches.length > cap } };
};

describe('planAccount', () => {
  it('keeps every cap in any sliding window, sends only inside windows, never before a step is due', () => {
    fc.assert(
      fc.property(world, ({ start, schedule, hourlyLimit, dailyLimit, paces, leads, seed }) => {
        const from = new Date(start.ms);
        const until = new Date(start.ms + 3 * DAY_MS);
        const account: AccountState = { id: 'a', hourlyLimit, dailyLimit, heldUntil: null, sends: [] };
        const queues: SenderQueue[] = paces.map((pace, c) => ({
          campaignId: `c${c}`,
          messagesPerHour: pace,
          schedule,
          timeZone: start.zone,
          steps,
          leads: leadsOf(`c${c}l`, leads, from),
          more: { followUps: false, firstTouches: false },
        }));
        const plan = planAccount(account, queues, from, until, seededRandom(seed));
        const sends = plan.actions.flatMap((a) => (a.kind === 'send' ? [a] : []));
        const all = sends.map((s) => s.at);
        expect(respectsCaps(all, [{ windowMs: HOUR_MS, limit: hourlyLimit }, { windowMs: DAY_MS, limit: dailyLimit }])).toBe(true);
        for (const [c, pace] of paces.entries()) {
          expect(respectsCaps(sends.filter((s) => s.campaignId === `c${c}`).map((s) => s.at), [{ windowMs: HOUR_MS, limit: pace }])).toBe(true);
        }
        for (const send of sends) {
          expect(isOpen(schedule, start.zone, send.at)).toBe(true);
          expect(send.at >= from && send.at <= until).toBe(true);
          expect(send.at >= send.lead.dueAt).toBe(true);
        }
        // Each lead's steps go out in rank order, the like at least the delay after the first message.
        const byLead = new Map<string, typeof sends>();
        for (const send of sends) byLead.set(send.lead.id, [...(byLead.get(send.lead.id) ?? []), send]);
        for (const own of byLead.values()) {
          expect(own.map((s) => s.step.rank)).toEqual([0, 2, 3].slice(0, own.length));
          if (own[1]) expect(own[1].at.getTime() - own[0]!.at.getTime()).toBeGreaterThanOrEqual(1_800_000);
        }
        expect([...all].sort((a, b) => a.getTime() - b.getTime())).toEqual(all);
      }),
      { numRuns: 150 },
    );
  });

  it('plans the same sends whether the queues are loaded whole or in capped slices, cutting at the first unknown', () => {
    fc.assert(
      fc.property(world, fc.integer({ min: 1, max: 6 }), ({ start, schedule, hourlyLimit, dailyLimit, paces, leads, seed }, cap) => {
        const from = new Date(start.ms);
        const until = new Date(start.ms + 2 * DAY_MS);
        const account: AccountState = { id: 'a', hourlyLimit, dailyLimit, heldUntil: null, sends: [] };
        const queues = (slice: number) => () =>
          paces.map((pace, c) => {
            const all = leadsOf(`c${c}l`, leads, from);
            return { campaignId: `c${c}`, messagesPerHour: pace, schedule, timeZone: start.zone, steps, leads: all.slice(0, slice), more: { followUps: false, firstTouches: all.length > slice } };
          });
        const whole = planAccounts([{ account, queues: queues(leads) }], from, until, seededRandom(seed));
        const sliced = planAccounts([{ account, queues: queues(cap) }], from, until, seededRandom(seed));
        const key = (p: typeof whole) => p.plans[0]!.actions.filter((a) => ('at' in a ? a.at : a.dueAt) <= p.until).map((a) => `${a.kind} ${a.lead.id} ${'at' in a ? a.at.toISOString() : ''}`);
        expect(sliced.until <= whole.until).toBe(true);
        expect(key(sliced)).toEqual(key(whole).slice(0, key(sliced).length));
      }),
      { numRuns: 150 },
    );
  });

  // Leads of both kinds: first touches and follow-ups (contacted a day ago, their last message due), due over two days.
  const mixedLeads = fc.array(fc.record({ followUp: fc.boolean(), dueInMinutes: fc.integer({ min: 0, max: 2 * 24 * 60 }) }), { minLength: 1, maxLength: 25 });
  const mixedQueue = (c: number, picks: Array<{ followUp: boolean; dueInMinutes: number }>, from: Date): QueuedLead[] =>
    picks.map(({ followUp, dueInMinutes }, i) => {
      const dueAt = new Date(from.getTime() + dueInMinutes * 60_000);
      const id = `c${c}l${i}`;
      return followUp
        ? { id, prospectId: `p${id}`, nextRank: 3, lastContactAt: new Date(from.getTime() - DAY_MS), dueAt }
        : { id, prospectId: `p${id}`, nextRank: 0, lastContactAt: null, dueAt };
    });

  it('takes a due follow-up before any first touch, at every send', () => {
    fc.assert(
      fc.property(world, mixedLeads, ({ start, schedule, hourlyLimit, dailyLimit, paces, seed }, picks) => {
        const from = new Date(start.ms);
        const until = new Date(start.ms + 3 * DAY_MS);
        const account: AccountState = { id: 'a', hourlyLimit, dailyLimit, heldUntil: null, sends: [] };
        const queues: SenderQueue[] = paces.map((pace, c) => ({
          campaignId: `c${c}`, messagesPerHour: pace, schedule, timeZone: start.zone, steps,
          leads: mixedQueue(c, picks, from), more: { followUps: false, firstTouches: false },
        }));
        const initial = queues.flatMap((q) => q.leads.filter((l) => l.nextRank > 0).map((l) => ({ campaignId: q.campaignId, id: l.id, dueAt: l.dueAt })));
        const sends = planAccount(account, queues, from, until, seededRandom(seed)).actions.flatMap((a) => (a.kind === 'send' ? [a] : []));
        // Every follow-up the plan knows of: those loaded, and the next steps of leads it sends.
        const followUps = [...initial, ...sends.flatMap((s) => (s.then ? [{ campaignId: s.campaignId, id: s.lead.id, dueAt: s.then.dueAt }] : []))];
        const sentAt = (campaignId: string, id: string, dueAt: Date) =>
          sends.find((s) => s.campaignId === campaignId && s.lead.id === id && s.lead.nextRank > 0 && s.lead.dueAt.getTime() === dueAt.getTime())?.at;
        for (const send of sends.filter((s) => s.lead.nextRank === 0)) {
          for (const f of followUps.filter((f) => f.campaignId === send.campaignId && f.dueAt <= send.at)) {
            const at = sentAt(f.campaignId, f.id, f.dueAt);
            expect(at !== undefined && at <= send.at).toBe(true);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('plans the same sends with follow-ups and first touches loaded whole or each in capped slices', () => {
    fc.assert(
      fc.property(world, mixedLeads, fc.integer({ min: 1, max: 6 }), ({ start, schedule, hourlyLimit, dailyLimit, paces, seed }, picks, cap) => {
        const from = new Date(start.ms);
        const until = new Date(start.ms + 2 * DAY_MS);
        const account: AccountState = { id: 'a', hourlyLimit, dailyLimit, heldUntil: null, sends: [] };
        const queues = (slice: number) => () =>
          paces.map((pace, c) => {
            return { campaignId: `c${c}`, messagesPerHour: pace, schedule, timeZone: start.zone, steps, ...loadedEachCapped(mixedQueue(c, picks, from), slice) };
          });
        const whole = planAccounts([{ account, queues: queues(picks.length) }], from, until, seededRandom(seed));
        const sliced = planAccounts([{ account, queues: queues(cap) }], from, until, seededRandom(seed));
        const key = (p: typeof whole) => p.plans[0]!.actions.filter((a) => ('at' in a ? a.at : a.dueAt) <= p.until).map((a) => `${a.kind} ${a.lead.id} ${'at' in a ? a.at.toISOString() : ''}`);
        expect(sliced.until <= whole.until).toBe(true);
        expect(key(sliced)).toEqual(key(whole).slice(0, key(sliced).length));
      }),
      { numRuns: 150 },
    );
  });

  it('lets campaigns held back by the same account cap take turns', () => {
    const from = new Date('2026-06-01T00:00:00Z');
    const account: AccountState = { id: 'a', hourlyLimit: 2, dailyLimit: 100, heldUntil: null, sends: [] };
    const allDay = Object.fromEntries(['0', '1', '2', '3', '4', '5', '6'].map((d) => [d, { start: 0, end: 1440 }]));
    const queues = ['c0', 'c1'].map((campaignId) => ({ campaignId, messagesPerHour: 60, schedule: allDay, timeZone: 'UTC', steps: steps.slice(0, 1), leads: leadsOf(campaignId, 6, from), more: { followUps: false, firstTouches: false } }));
    const plan = planAccount(account, queues, from, new Date(from.getTime() + DAY_MS), seededRandom(1));
    const order = plan.actions.flatMap((a) => (a.kind === 'send' ? [a.campaignId] : []));
    expect(order).toEqual(['c0', 'c1', 'c0', 'c1', 'c0', 'c1', 'c0', 'c1', 'c0', 'c1', 'c0', 'c1']);
  });
});

describe('planAccounts', () => {
  // What planAccounts must answer: every account planned up to `until`, then, if one cut its plan short, all of
  // them planned again up to the earliest cut.
  const twoRounds = (accounts: Parameters<typeof planAccounts>[0], from: Date, until: Date, seed: number) => {
    const first = accounts.map(({ account, queues }) => planAccount(account, queues(), from, until, seededRandom(seed)));
    const cuts = first.flatMap((p) => (p.cutAt ? [p.cutAt.getTime()] : []));
    if (cuts.length === 0) return { plans: first, until };
    const cut = new Date(Math.max(from.getTime(), Math.min(...cuts)));
    return { plans: accounts.map(({ account, queues }) => planAccount(account, queues(), from, cut, seededRandom(seed))), until: cut };
  };
  // Leads of both kinds over two days; a follow-up's stored due time may not be what its sequence says (an edit
  // moved it), so some are moved on or rescheduled on the way.
  const lead = fc.record({ nextRank: fc.constantFrom(0, 0, 1, 2, 3), dueInMinutes: fc.integer({ min: 0, max: 2 * 24 * 60 }), contactedMinutesBefore: fc.integer({ min: 0, max: 24 * 60 }) });
  const accountsOf = fc.array(
    fc.record({ hourlyLimit: fc.integer({ min: 1, max: 30 }), dailyLimit: fc.integer({ min: 1, max: 200 }), leads: fc.array(lead, { minLength: 1, maxLength: 20 }), cap: fc.integer({ min: 1, max: 8 }) }),
    { minLength: 1, maxLength: 4 },
  );

  it('plans what planning every account to the end, then all again to the earliest cut, plans', () => {
    fc.assert(
      fc.property(world, accountsOf, fc.integer({ min: 0, max: 3 }), ({ start, schedule, paces, seed }, specs, spanDays) => {
        const from = new Date(start.ms);
        const until = new Date(start.ms + spanDays * DAY_MS);
        const accounts = specs.map(({ hourlyLimit, dailyLimit, leads, cap }, a) => ({
          account: { id: `a${a}`, hourlyLimit, dailyLimit, heldUntil: null, sends: [] } as AccountState,
          queues: () =>
            paces.map((pace, c): SenderQueue => {
              const all = leads.map(({ nextRank, dueInMinutes, contactedMinutesBefore }, i): QueuedLead => {
                const dueAt = new Date(from.getTime() + dueInMinutes * 60_000);
                const id = `a${a}c${c}l${i}`;
                return { id, prospectId: `p${id}`, nextRank, lastContactAt: nextRank === 0 ? null : new Date(dueAt.getTime() - contactedMinutesBefore * 60_000), dueAt };
              });
              return { campaignId: `c${c}`, messagesPerHour: pace, schedule, timeZone: start.zone, steps, ...loadedEachCapped(all, cap) };
            }),
        }));
        const expected = twoRounds(accounts, from, until, seed);
        const planned = planAccounts(accounts, from, until, seededRandom(seed));
        expect(planned.until).toEqual(expected.until);
        expect(planned.plans.map((p) => ({ actions: p.actions, nextSendAt: p.nextSendAt }))).toEqual(expected.plans.map((p) => ({ actions: p.actions, nextSendAt: p.nextSendAt })));
      }),
      { numRuns: 300 },
    );
  });
});
