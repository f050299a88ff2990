import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PacingSettings } from '../../src/core/pacing.js';
import {
  DAY_MS,
  HOUR_MS,
  PACING_JITTER,
  maxSendsInAnyWindow,
  nextDispatch,
  nextSendTime,
  respectsCaps,
} from '../../src/core/pacing.js';
import { seededRandom } from '../../src/core/random.js';
import type { Schedule } from '../../src/core/schedule.js';
import { isOpen } from '../../src/core/schedule.js';
import { MINUTE, schedules } from './zones.js';

const T = Date.parse('2026-06-01T12:00:00Z');
const at = (ms: number) => new Date(ms);
const minutesAgo = (...minutes: number[]) => minutes.map((m) => at(T - m * MINUTE));

/** Pacing input with the sends as Dates, in any order, as the examples read best. */
interface DatedInput extends PacingSettings {
  /** this campaign's sends from this account */
  recentSends: readonly Date[];
  /** all of this account's sends, this campaign's included */
  accountRecentSends: readonly Date[];
}
const oldestFirst = (sends: readonly Date[]) => sends.map((send) => send.getTime()).sort((a, b) => a - b);
const paced = (input: DatedInput) => nextSendTime({ campaign: oldestFirst(input.recentSends), account: oldestFirst(input.accountRecentSends) }, input);

const input = (overrides: Partial<DatedInput> = {}): DatedInput => ({
  recentSends: [],
  accountRecentSends: [],
  messagesPerHour: 8,
  hourlyLimit: 25,
  dailyLimit: 400,
  earliest: at(T),
  jitter: 0.5,
  ...overrides,
});

/** Input where this campaign's sends are also the account's only sends. */
const soleCampaign = (sends: Date[], overrides: Partial<DatedInput> = {}) =>
  input({ recentSends: sends, accountRecentSends: sends, ...overrides });

describe('nextSendTime', () => {
  it('sends at once without history', () => {
    expect(paced(input()).getTime()).toBe(T);
  });

  it('spaces sends 3600 / messagesPerHour seconds apart, jittered by ±PACING_JITTER', () => {
    const justSent = minutesAgo(0);
    const spacing = HOUR_MS / 8;
    expect(paced(soleCampaign(justSent, { jitter: 0 })).getTime()).toBe(T + spacing * (1 - PACING_JITTER));
    expect(paced(soleCampaign(justSent, { jitter: 0.5 })).getTime()).toBe(T + spacing);
    expect(paced(soleCampaign(justSent, { jitter: 0.999999 })).getTime()).toBeLessThanOrEqual(
      T + spacing * (1 + PACING_JITTER),
    );
  });

  it('never sends before earliest, and sends at earliest when pacing allows', () => {
    expect(paced(soleCampaign(minutesAgo(60), { earliest: at(T + HOUR_MS) })).getTime()).toBe(T + HOUR_MS);
  });

  it('waits for the oldest send to leave the sliding hour when messagesPerHour is reached', () => {
    const fourInTheHour = minutesAgo(50, 40, 30, 20);
    expect(paced(soleCampaign(fourInTheHour, { messagesPerHour: 4, jitter: 0 })).getTime()).toBe(
      T + 10 * MINUTE,
    );
  });

  it('holds the account-wide hourly and daily limits across campaigns', () => {
    const otherCampaigns = minutesAgo(45, 30, 15);
    expect(paced(input({ accountRecentSends: otherCampaigns, hourlyLimit: 3 })).getTime()).toBe(
      T + 15 * MINUTE,
    );
    const yesterdayAndToday = minutesAgo(23 * 60, 120);
    expect(paced(input({ accountRecentSends: yesterdayAndToday, dailyLimit: 2 })).getTime()).toBe(
      T + 60 * MINUTE,
    );
  });

  it('keeps campaigns sharing an account from sending in a burst', () => {
    const otherCampaignJustSent = minutesAgo(0);
    expect(paced(input({ accountRecentSends: otherCampaignJustSent, hourlyLimit: 25 })).getTime()).toBe(
      T + (HOUR_MS / 25) * (1 - PACING_JITTER),
    );
  });

  it('takes sends in any order', () => {
    const sends = minutesAgo(20, 50, 30, 40);
    expect(paced(soleCampaign(sends, { messagesPerHour: 4 })).getTime()).toBe(T + 10 * MINUTE);
  });

  it.each([
    { messagesPerHour: 0 },
    { messagesPerHour: 1.5 },
    { hourlyLimit: 0 },
    { dailyLimit: -1 },
    { jitter: 1 },
    { jitter: -0.1 },
    { jitter: Number.NaN },
  ])('rejects %j', (overrides) => {
    expect(() => paced(input(overrides))).toThrow(RangeError);
  });
});

describe('maxSendsInAnyWindow and respectsCaps', () => {
  it('counts windows as half-open: sends exactly a window apart never share one', () => {
    expect(maxSendsInAnyWindow([], HOUR_MS)).toBe(0);
    expect(maxSendsInAnyWindow([at(0), at(HOUR_MS)], HOUR_MS)).toBe(1);
    expect(maxSendsInAnyWindow([at(HOUR_MS - 1), at(0)], HOUR_MS)).toBe(2);
    expect(maxSendsInAnyWindow([at(0), at(10), at(HOUR_MS), at(HOUR_MS + 5), at(HOUR_MS + 9)], HOUR_MS)).toBe(4);
  });

  it('checks every cap', () => {
    const sends = [at(0), at(MINUTE), at(2 * MINUTE)];
    expect(respectsCaps(sends, [{ windowMs: HOUR_MS, limit: 3 }, { windowMs: DAY_MS, limit: 3 }])).toBe(true);
    expect(respectsCaps(sends, [{ windowMs: HOUR_MS, limit: 3 }, { windowMs: DAY_MS, limit: 2 }])).toBe(false);
  });
});

describe('nextDispatch', () => {
  const NO_SENDS = { campaign: [], account: [] };
  const weekdays9to17: Schedule = { 1: { start: 540, end: 1020 }, 2: { start: 540, end: 1020 } };
  const zone = 'Europe/London';

  it('keeps a paced time inside the window, and waits for the next opening outside it', () => {
    // Monday 2026-06-01 12:00Z is 13:00 BST.
    expect(nextDispatch(NO_SENDS, { ...input(), schedule: weekdays9to17, timeZone: zone })?.at.toISOString()).toBe(
      '2026-06-01T12:00:00.000Z',
    );
    const lateMonday = at(Date.parse('2026-06-01T16:30:00Z'));
    expect(nextDispatch(NO_SENDS, { ...input({ earliest: lateMonday }), schedule: weekdays9to17, timeZone: zone })?.at.toISOString())
      .toBe('2026-06-02T08:00:00.000Z');
  });

  it('never dispatches on an empty schedule', () => {
    expect(nextDispatch(NO_SENDS, { ...input(), schedule: {}, timeZone: zone })).toBeNull();
  });
});

interface CampaignPlan {
  messagesPerHour: number;
  /** minutes after the start at which each of its sends falls due */
  dueMinutes: number[];
}

/**
 * Runs campaigns sharing one account the way the engine will: repeatedly send whichever campaign can send
 * first, drawing each jitter from a stream keyed by campaign and send number. Returns each campaign's sends.
 */
function simulateAccount(
  campaigns: CampaignPlan[],
  limits: { hourlyLimit: number; dailyLimit: number },
  seed: number,
  window?: { schedule: Schedule; timeZone: string },
): number[][] {
  const random = seededRandom(seed);
  const sends: number[][] = campaigns.map(() => []);
  const accountSends: number[] = [];
  for (;;) {
    const candidates = campaigns.flatMap((campaign, index) => {
      const due = campaign.dueMinutes[sends[index]!.length];
      if (due === undefined) return [];
      const times = { campaign: sends[index]!, account: accountSends };
      const settings: PacingSettings = {
        messagesPerHour: campaign.messagesPerHour,
        ...limits,
        earliest: at(T + due * MINUTE),
        jitter: random.derive(`${index}:${sends[index]!.length}`).next(),
      };
      const time = window ? nextDispatch(times, { ...settings, ...window })?.at : nextSendTime(times, settings);
      return time ? [{ index, time: time.getTime() }] : [];
    });
    if (candidates.length === 0) return sends;
    const first = candidates.reduce((best, candidate) => (candidate.time < best.time ? candidate : best));
    sends[first.index]!.push(first.time);
    accountSends.push(first.time);
  }
}

const gapsOf = (times: number[]) => times.slice(1).map((time, i) => time - times[i]!);

const campaignPlans = fc.array(
  fc.record({
    messagesPerHour: fc.integer({ min: 1, max: 25 }),
    // Sorted due times with bursts (many due at once) and idle stretches.
    dueMinutes: fc
      .array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 * 24 * 60 })), { minLength: 1, maxLength: 150 })
      .map((minutes) => minutes.sort((a, b) => a - b)),
  }),
  { minLength: 1, maxLength: 4 },
);

describe('nextSendTime, property-based', () => {
  it('is not changed by sends more than a day before `earliest`, so the planner never has to drop them', () => {
    const timesOldestFirst = fc.array(fc.integer({ min: -3 * DAY_MS, max: DAY_MS }), { maxLength: 60 }).map((times) => times.sort((a, b) => a - b));
    fc.assert(
      fc.property(
        timesOldestFirst,
        timesOldestFirst,
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: -DAY_MS, max: 2 * DAY_MS }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (campaign, others, messagesPerHour, hourlyLimit, dailyLimit, earliestOffset, jitter) => {
          const account = [...campaign, ...others].sort((a, b) => a - b);
          const settings = { messagesPerHour, hourlyLimit, dailyLimit, earliest: at(T + earliestOffset), jitter };
          const lastDay = (times: number[]) => times.filter((time) => time > T + earliestOffset - DAY_MS);
          const shift = (times: number[]) => times.map((time) => T + time);
          expect(nextSendTime({ campaign: shift(campaign), account: shift(account) }, settings)).toEqual(
            nextSendTime({ campaign: lastDay(shift(campaign)), account: lastDay(shift(account)) }, settings),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('pacing over long runs, property-based', () => {
  it('never exceeds messagesPerHour, hourlyLimit or dailyLimit in any sliding window, and keeps the spacing', () => {
    fc.assert(
      fc.property(
        campaignPlans,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer(),
        (campaigns, hourlyLimit, dailyLimit, seed) => {
          const sends = simulateAccount(campaigns, { hourlyLimit, dailyLimit }, seed);
          const account = sends.flat().sort((a, b) => a - b);
          expect(account).toHaveLength(campaigns.reduce((sum, campaign) => sum + campaign.dueMinutes.length, 0));
          expect(maxSendsInAnyWindow(account.map(at), HOUR_MS)).toBeLessThanOrEqual(hourlyLimit);
          expect(maxSendsInAnyWindow(account.map(at), DAY_MS)).toBeLessThanOrEqual(dailyLimit);
          expect(Math.min(...gapsOf(account))).toBeGreaterThanOrEqual((HOUR_MS / hourlyLimit) * (1 - PACING_JITTER));
          campaigns.forEach(({ messagesPerHour, dueMinutes }, index) => {
            const own = sends[index]!;
            expect(maxSendsInAnyWindow(own.map(at), HOUR_MS)).toBeLessThanOrEqual(messagesPerHour);
            expect(Math.min(...gapsOf(own))).toBeGreaterThanOrEqual((HOUR_MS / messagesPerHour) * (1 - PACING_JITTER));
            own.forEach((time, i) => expect(time).toBeGreaterThanOrEqual(T + dueMinutes[i]! * MINUTE));
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('sends a backlog at messagesPerHour on average, not slower', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 25 }), fc.integer(), (messagesPerHour, seed) => {
        const backlog = { messagesPerHour, dueMinutes: new Array<number>(200).fill(0) };
        const [own] = simulateAccount([backlog], { hourlyLimit: 25, dailyLimit: 10_000 }, seed);
        const averageGap = (own!.at(-1)! - own![0]!) / (own!.length - 1);
        expect(averageGap / (HOUR_MS / messagesPerHour)).toBeGreaterThanOrEqual(1 - PACING_JITTER);
        expect(averageGap / (HOUR_MS / messagesPerHour)).toBeLessThan(1.1);
      }),
      { numRuns: 30 },
    );
  });

  it('dispatches only inside the schedule, still within every cap', () => {
    fc.assert(
      fc.property(
        campaignPlans,
        schedules.filter((schedule) => Object.keys(schedule).length > 0),
        fc.constantFrom('America/New_York', 'Australia/Sydney', 'Asia/Kolkata'),
        fc.integer(),
        (campaigns, schedule, timeZone, seed) => {
          const sends = simulateAccount(campaigns, { hourlyLimit: 20, dailyLimit: 150 }, seed, { schedule, timeZone });
          const account = sends.flat();
          expect(account.filter((time) => !isOpen(schedule, timeZone, at(time)))).toEqual([]);
          const caps = [{ windowMs: HOUR_MS, limit: 20 }, { windowMs: DAY_MS, limit: 150 }];
          expect(respectsCaps(account.map(at), caps)).toBe(true);
          campaigns.forEach(({ messagesPerHour }, index) => {
            expect(maxSendsInAnyWindow(sends[index]!.map(at), HOUR_MS)).toBeLessThanOrEqual(messagesPerHour);
          });
        },
      ),
      { numRuns: 25 },
    );
  });
});
