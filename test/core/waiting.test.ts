import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextAction, type RankedStep } from '../../src/core/lead-progress.js';
import { DAY_MS, HOUR_MS } from '../../src/core/pacing.js';
import { seededRandom } from '../../src/core/random.js';
import { isOpen, type Schedule } from '../../src/core/schedule.js';
import { planAccount, type AccountState, type QueuedLead, type SenderQueue } from '../../src/core/send-plan.js';
import { explainWaits, type LeadWait } from '../../src/core/waiting.js';
import { instantsNearTransitions, schedules } from './zones.js';

const MINUTE_MS = 60_000;
const steps: RankedStep[] = [
  { id: 's0', rank: 0, type: 'message', data: { segments: [{ type: 'static', text: 'Hi' }] } },
  { id: 's1', rank: 1, type: 'delay', data: { delaySeconds: 1800, unit: 'minutes' } },
  { id: 's2', rank: 2, type: 'message', data: { segments: [{ type: 'static', text: 'Again' }] } },
] as RankedStep[];

// Monday 2026-06-01, in UTC; the week's windows are 09:00-17:00 on weekdays.
const monday = (time: string) => new Date(`2026-06-01T${time}Z`);
const weekdays: Schedule = Object.fromEntries(['1', '2', '3', '4', '5'].map((d) => [d, { start: 540, end: 1020 }]));

const lead = (id: string, dueAt: Date, progress: Partial<QueuedLead> = {}): QueuedLead => ({ id, prospectId: `p-${id}`, nextRank: 0, lastContactAt: null, dueAt, ...progress });
const account = (state: Partial<AccountState> = {}): AccountState => ({ id: 'a', hourlyLimit: 30, dailyLimit: 300, heldUntil: null, sends: [], ...state });
const queue = (leads: QueuedLead[], settings: Partial<SenderQueue> = {}): SenderQueue => ({
  campaignId: 'c',
  messagesPerHour: 10,
  schedule: weekdays,
  timeZone: 'UTC',
  steps,
  leads,
  more: { followUps: false, firstTouches: false },
  ...settings,
});

/** The waits of every lead in the queues, planned from `now` for two weeks. */
function waitsOf(now: Date, queues: SenderQueue[], state: AccountState = account()): Map<string, LeadWait> {
  const ids = new Set(queues.flatMap((q) => q.leads.map((l) => l.id)));
  return explainWaits(state, queues, now, new Date(now.getTime() + 14 * DAY_MS), seededRandom(1), ids);
}

describe('explainWaits, one reason at a time', () => {
  it('a lead due inside an open window is not waiting: it goes now', () => {
    const now = monday('10:00:00');
    expect(waitsOf(now, [queue([lead('l', now)])]).get('l')).toEqual({ nextSendAt: now, waitingFor: null });
  });

  it('waits for the window, naming its next opening', () => {
    const now = monday('17:30:00');
    const opening = new Date('2026-06-02T09:00:00Z');
    expect(waitsOf(now, [queue([lead('l', monday('12:00:00'))])]).get('l')).toEqual({ nextSendAt: opening, waitingFor: { reason: 'window', until: opening } });
  });

  it('waits for the window for good when the schedule has no day', () => {
    const now = monday('10:00:00');
    expect(waitsOf(now, [queue([lead('l', now)], { schedule: {} })]).get('l')).toEqual({ nextSendAt: null, waitingFor: { reason: 'window', until: null } });
  });

  it('queues a lead behind the leads of its campaign due before it, then waits for the pace', () => {
    const now = monday('10:00:00');
    const waits = waitsOf(now, [queue([lead('first', now), lead('second', now), lead('third', now)])]);
    expect(waits.get('first')).toEqual({ nextSendAt: now, waitingFor: null });
    expect(waits.get('second')!.waitingFor).toEqual({ reason: 'queued', until: waits.get('second')!.nextSendAt, ahead: 1 });
    expect(waits.get('third')!.waitingFor).toMatchObject({ reason: 'queued', ahead: 2 });
    // Once the first is sent, the second is the head and waits for the campaign's pace alone.
    const sent = { campaignId: 'c', at: now };
    const later = new Date(now.getTime() + MINUTE_MS);
    const head = waitsOf(later, [queue([lead('second', now)])], account({ sends: [sent] })).get('second')!;
    expect(head.waitingFor).toEqual({ reason: 'accountPace', until: head.nextSendAt, messagesPerHour: 10 });
    // 6 minutes apart at 10 an hour, jittered by up to a fifth either way.
    expect(head.nextSendAt!.getTime() - now.getTime()).toBeGreaterThanOrEqual(0.8 * 6 * MINUTE_MS);
    expect(head.nextSendAt!.getTime() - now.getTime()).toBeLessThan(1.2 * 6 * MINUTE_MS);
  });

  it('a head of queue its limit pushes past the last window the plan covers waits for the window after it', () => {
    // A half-hour window on Mondays and a limit of one an hour used two minutes ago: the next chance is next week's window,
    // beyond a plan of three days. (Found by the property below, which named it "queued" with nobody ahead.)
    const now = monday('09:00:00');
    const state = account({ hourlyLimit: 1, sends: [{ campaignId: 'c', at: new Date(now.getTime() - 2 * MINUTE_MS) }] });
    const schedule: Schedule = { '1': { start: 540, end: 570 } };
    const until = new Date(now.getTime() + 3 * DAY_MS);
    const waits = explainWaits(state, [queue([lead('l', now)], { schedule })], now, until, seededRandom(1), new Set(['l']));
    expect(waits.get('l')).toEqual({ nextSendAt: null, waitingFor: { reason: 'window', until: new Date('2026-06-08T09:00:00Z') } });
  });

  it("waits for the account's hourly limit when other campaigns used it up", () => {
    const now = monday('10:00:00');
    const sends = [{ campaignId: 'other', at: monday('09:30:00') }, { campaignId: 'other', at: monday('09:45:00') }];
    const wait = waitsOf(now, [queue([lead('l', now)])], account({ hourlyLimit: 2, sends })).get('l')!;
    expect(wait).toEqual({ nextSendAt: monday('10:30:00'), waitingFor: { reason: 'accountLimit', until: monday('10:30:00'), limit: 'hourly', max: 2 } });
  });

  it("waits for the account's daily limit", () => {
    const now = monday('10:00:00');
    const sends = ['11:00', '12:00', '13:00'].map((time) => ({ campaignId: 'other', at: new Date(`2026-05-31T${time}:00Z`) }));
    const wait = waitsOf(now, [queue([lead('l', now)])], account({ dailyLimit: 3, sends })).get('l')!;
    expect(wait).toEqual({ nextSendAt: monday('11:00:00'), waitingFor: { reason: 'accountLimit', until: monday('11:00:00'), limit: 'daily', max: 3 } });
  });

  it('waits out a delay step, and for the window when the delay ends outside it', () => {
    const now = monday('10:00:00');
    const afterFirst = (lastContactAt: Date) => lead('l', new Date(lastContactAt.getTime() + 30 * MINUTE_MS), { nextRank: 1, lastContactAt });
    expect(waitsOf(now, [queue([afterFirst(monday('09:50:00'))])]).get('l')).toEqual({
      nextSendAt: monday('10:20:00'),
      waitingFor: { reason: 'delay', until: monday('10:20:00') },
    });
    const opening = new Date('2026-06-02T09:00:00Z');
    expect(waitsOf(now, [queue([afterFirst(monday('16:50:00'))])]).get('l')!.waitingFor).toEqual({ reason: 'window', until: opening });
  });

  it('waits for a delay falling due beyond the plan, without a send time', () => {
    const now = monday('10:00:00');
    const due = new Date(now.getTime() + 30 * DAY_MS);
    expect(waitsOf(now, [queue([lead('l', due, { nextRank: 2, lastContactAt: now })])]).get('l')).toEqual({ nextSendAt: null, waitingFor: { reason: 'delay', until: due } });
  });

  it("waits for the platform's hold on the account", () => {
    const now = monday('10:00:00');
    const heldUntil = monday('12:00:00');
    expect(waitsOf(now, [queue([lead('l', now)])], account({ heldUntil })).get('l')).toEqual({
      nextSendAt: heldUntil,
      waitingFor: { reason: 'accountUnavailable', until: heldUntil, accountStatus: 'rateLimited' },
    });
  });

  it('queues a lead the plan cannot reach (behind a capped load) without a send time', () => {
    const now = monday('10:00:00');
    const leads = [lead('a', now), lead('b', now), lead('c', now)];
    // The first unloaded lead could go at 10:00 already, so nothing after it is known.
    const rival = queue([lead('r', now)], { campaignId: 'rival', more: { followUps: false, firstTouches: true } });
    const waits = waitsOf(now, [queue(leads), rival]);
    expect(waits.get('c')).toEqual({ nextSendAt: null, waitingFor: { reason: 'queued', until: null, ahead: 2 } });
  });

  it('names nothing for a lead with no step left', () => {
    const now = monday('10:00:00');
    expect(waitsOf(now, [queue([lead('l', now, { nextRank: 3, lastContactAt: now })])]).get('l')).toEqual({ nextSendAt: null, waitingFor: null });
  });
});

const world = fc.record({
  start: instantsNearTransitions,
  schedule: schedules,
  hourlyLimit: fc.integer({ min: 1, max: 60 }),
  dailyLimit: fc.integer({ min: 1, max: 60 }),
  paces: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 3 }),
  leads: fc.array(
    fc.record({ campaign: fc.nat(2), progress: fc.constantFrom(0, 2), dueInMinutes: fc.integer({ min: -600, max: 600 }), prospect: fc.nat(99) }),
    { minLength: 1, maxLength: 8 },
  ),
  history: fc.array(fc.record({ campaign: fc.nat(3), minutesAgo: fc.integer({ min: 1, max: 1439 }) }), { maxLength: 30 }),
  heldForMinutes: fc.option(fc.integer({ min: -60, max: 600 })),
  seed: fc.integer(),
});

describe('explainWaits against the plan', () => {
  it("names each lead's next send in the plan, and a reason that holds at that instant", () => {
    fc.assert(
      fc.property(world, ({ start, schedule, hourlyLimit, dailyLimit, paces, leads, history, heldForMinutes, seed }) => {
        const now = new Date(start.ms);
        const until = new Date(start.ms + 3 * DAY_MS);
        const at = (minutes: number) => new Date(start.ms + minutes * MINUTE_MS);
        const campaignId = (c: number) => `c${c % paces.length}`;
        const sends = history.map((h) => ({ campaignId: campaignId(h.campaign), at: at(-h.minutesAgo) })).sort((a, b) => a.at.getTime() - b.at.getTime());
        const state = account({ hourlyLimit, dailyLimit, sends, heldUntil: heldForMinutes === null ? null : at(heldForMinutes) });
        const queues: SenderQueue[] = paces.map((pace, c) => {
          const own = leads.flatMap((l, i) => {
            if (campaignId(l.campaign) !== `c${c}`) return [];
            const lastContactAt = l.progress === 0 ? null : at(l.dueInMinutes - 30);
            return [lead(`l${i}`, at(l.dueInMinutes), { prospectId: `p${String(l.prospect).padStart(2, '0')}-${i}`, nextRank: l.progress === 0 ? 0 : 1, lastContactAt })];
          });
          own.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || (a.prospectId < b.prospectId ? -1 : 1));
          return queue(own, { campaignId: `c${c}`, messagesPerHour: pace, schedule, timeZone: start.zone });
        });
        const ids = new Set(queues.flatMap((q) => q.leads.map((l) => l.id)));
        const waits = explainWaits(state, queues, now, until, seededRandom(seed), ids);

        const plan = planAccount(state, queues.map((q) => ({ ...q, leads: [...q.leads] })), now, until, seededRandom(seed));
        const planned = plan.actions.flatMap((a) => (a.kind === 'send' ? [a] : []));
        const accountSends = [...sends.map((s) => s.at.getTime()), ...planned.map((s) => s.at.getTime())];
        const campaignSends = (c: string) => [...sends.filter((s) => s.campaignId === c).map((s) => s.at.getTime()), ...planned.filter((s) => s.campaignId === c).map((s) => s.at.getTime())];
        const within = (times: number[], from: number, to: number) => times.filter((t) => t >= from && t < to).length;

        for (const q of queues) {
          for (const l of q.leads) {
            const { nextSendAt, waitingFor } = waits.get(l.id)!;
            const send = planned.find((s) => s.lead.id === l.id);
            expect(nextSendAt).toEqual(send?.at ?? null);
            if (!waitingFor) {
              expect(nextSendAt === null || nextSendAt.getTime() === now.getTime()).toBe(true);
              continue;
            }
            if (nextSendAt) {
              expect(nextSendAt > now).toBe(true);
              expect(waitingFor.until).toEqual(nextSendAt);
              expect(isOpen(schedule, start.zone, nextSendAt)).toBe(true);
            }
            const T = nextSendAt?.getTime();
            const next = nextAction(q.steps, l.nextRank, l.lastContactAt, l.dueAt);
            switch (waitingFor.reason) {
              case 'window':
                // The send opens a window: the instant before it was closed.
                if (T !== undefined) expect(isOpen(schedule, start.zone, new Date(T - 1))).toBe(false);
                break;
              case 'delay':
                expect(!next.done && waitingFor.until.getTime() === next.dueAt.getTime()).toBe(true);
                break;
              case 'accountUnavailable':
                expect(waitingFor.until).toEqual(state.heldUntil);
                break;
              case 'accountLimit':
                if (waitingFor.limit === 'daily') expect(within(accountSends, T! - DAY_MS, T!)).toBeGreaterThanOrEqual(dailyLimit);
                else expect(within(accountSends, T! - HOUR_MS, T!)).toBeGreaterThan(0);
                break;
              case 'accountPace':
                // The campaign's last send within its jittered spacing (at most 1.2 hours), or its cap's hour.
                expect(within(campaignSends(q.campaignId), T! - 1.2 * HOUR_MS, T!)).toBeGreaterThan(0);
                break;
              case 'queued':
                if (T !== undefined) {
                  const dueFrom = Math.max(next.done ? 0 : next.dueAt.getTime(), now.getTime());
                  expect(waitingFor.ahead).toBeGreaterThan(0);
                  expect(within(campaignSends(q.campaignId), dueFrom, T)).toBe(waitingFor.ahead);
                }
                break;
              case 'campaignPaused':
                throw new Error('the plan never names a paused campaign');
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
