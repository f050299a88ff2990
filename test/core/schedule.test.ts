import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/core/schedule.js';
import { isOpen, nextOpening, validateSchedule, validateTimeZone, windowEnd } from '../../src/core/schedule.js';
import { HOUR, openSpans, totalMs } from './zones.js';

const at = (iso: string) => new Date(iso);
const iso = (date: Date | null) => date?.toISOString() ?? null;
/** The open spans of one local day, looked for from a day before to a day after (UTC). */
const spansAround = (schedule: Schedule, zone: string, utcDay: string) =>
  openSpans(
    schedule,
    zone,
    new Date(Date.parse(`${utcDay}T00:00:00Z`) - 24 * HOUR),
    new Date(Date.parse(`${utcDay}T00:00:00Z`) + 48 * HOUR),
  );

const MONDAY_TO_FRIDAY_9_TO_5: Schedule = {
  1: { start: 540, end: 1020 },
  2: { start: 540, end: 1020 },
  3: { start: 540, end: 1020 },
  4: { start: 540, end: 1020 },
  5: { start: 540, end: 1020 },
};

describe('validateSchedule', () => {
  it('accepts valid schedules, including an empty one and end = 1440', () => {
    expect(validateSchedule(MONDAY_TO_FRIDAY_9_TO_5)).toEqual([]);
    expect(validateSchedule({})).toEqual([]);
    expect(validateSchedule({ 0: { start: 0, end: 1440 } })).toEqual([]);
  });

  it('reports every problem with a field path', () => {
    expect(
      validateSchedule(
        {
          7: { start: 0, end: 60 },
          0: 'all day',
          1: { start: 600, end: 600 },
          2: { start: -1, end: 1441 },
          3: { start: 1.5 },
        },
        'body.schedule',
      ),
    ).toEqual([
      { field: 'body.schedule.0', message: 'must be an object {start, end}' },
      { field: 'body.schedule.1', message: 'start must be before end' },
      { field: 'body.schedule.2.start', message: 'must be a whole number of minutes from 0 to 1440' },
      { field: 'body.schedule.2.end', message: 'must be a whole number of minutes from 0 to 1440' },
      { field: 'body.schedule.3.start', message: 'must be a whole number of minutes from 0 to 1440' },
      { field: 'body.schedule.3.end', message: 'must be a whole number of minutes from 0 to 1440' },
      { field: 'body.schedule.7', message: 'unknown day: use "0" (Sunday) to "6" (Saturday)' },
    ]);
  });

  it.each([[null], [[]], ['weekdays'], [3]])('rejects %j as a whole', (value) => {
    expect(validateSchedule(value)).toEqual([{ field: 'schedule', message: expect.any(String) }]);
  });
});

describe('validateTimeZone', () => {
  it.each(['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham'])('accepts %s', (zone) => {
    expect(validateTimeZone(zone)).toEqual([]);
  });

  it.each([[''], ['Mars/Olympus_Mons'], ['New York'], [42], [null]])('rejects %j', (zone) => {
    expect(validateTimeZone(zone)).toEqual([{ field: 'timezone', message: expect.any(String) }]);
  });
});

describe('ordinary days', () => {
  const zone = 'America/New_York';

  it('opens at start and closes at end, in the zone', () => {
    // Monday 2026-06-01, EDT (UTC-4): 09:00-17:00 local is 13:00-21:00Z.
    expect(isOpen(MONDAY_TO_FRIDAY_9_TO_5, zone, at('2026-06-01T12:59:59.999Z'))).toBe(false);
    expect(isOpen(MONDAY_TO_FRIDAY_9_TO_5, zone, at('2026-06-01T13:00:00Z'))).toBe(true);
    expect(isOpen(MONDAY_TO_FRIDAY_9_TO_5, zone, at('2026-06-01T20:59:59.999Z'))).toBe(true);
    expect(isOpen(MONDAY_TO_FRIDAY_9_TO_5, zone, at('2026-06-01T21:00:00Z'))).toBe(false);
    expect(iso(windowEnd(MONDAY_TO_FRIDAY_9_TO_5, zone, at('2026-06-01T15:00:00Z')))).toBe('2026-06-01T21:00:00.000Z');
    expect(windowEnd(MONDAY_TO_FRIDAY_9_TO_5, zone, at('2026-06-01T22:00:00Z'))).toBeNull();
  });

  it('waits over the weekend for Monday, and returns the instant itself when already open', () => {
    expect(iso(nextOpening(MONDAY_TO_FRIDAY_9_TO_5, zone, at('2026-06-05T21:00:00Z')))).toBe('2026-06-08T13:00:00.000Z');
    expect(iso(nextOpening(MONDAY_TO_FRIDAY_9_TO_5, zone, at('2026-06-05T14:12:13.456Z')))).toBe(
      '2026-06-05T14:12:13.456Z',
    );
  });

  it('refuses a time zone that was not validated', () => {
    expect(() => isOpen(MONDAY_TO_FRIDAY_9_TO_5, 'Mars/Olympus_Mons', at('2026-06-01T12:00:00Z'))).toThrow(RangeError);
  });

  it('never opens an empty schedule', () => {
    expect(nextOpening({}, zone, at('2026-06-01T00:00:00Z'))).toBeNull();
    expect(isOpen({}, zone, at('2026-06-01T15:00:00Z'))).toBe(false);
  });

  it('treats end = 1440 as the midnight ending the day, back to back with a window from 0', () => {
    const lateAndEarly: Schedule = { 1: { start: 1380, end: 1440 }, 2: { start: 0, end: 60 } };
    // Monday 2026-06-01 23:00 EDT = 2026-06-02T03:00Z; Tuesday 00:00 EDT = 04:00Z.
    expect(iso(windowEnd(lateAndEarly, zone, at('2026-06-02T03:30:00Z')))).toBe('2026-06-02T04:00:00.000Z');
    expect(iso(nextOpening(lateAndEarly, zone, at('2026-06-02T04:00:00Z')))).toBe('2026-06-02T04:00:00.000Z');
    expect(iso(windowEnd(lateAndEarly, zone, at('2026-06-02T04:00:00Z')))).toBe('2026-06-02T05:00:00.000Z');
  });

  it('uses half-hour offsets without DST (Asia/Kolkata, +05:30)', () => {
    // Monday 2026-03-09 09:00 IST = 03:30Z.
    expect(openSpans(MONDAY_TO_FRIDAY_9_TO_5, 'Asia/Kolkata', at('2026-03-09T00:00:00Z'), at('2026-03-09T20:00:00Z')))
      .toEqual([['2026-03-09T03:30:00.000Z', '2026-03-09T11:30:00.000Z']]);
  });
});

describe('spring forward: skipped local times', () => {
  it.each([
    // America/New_York, Sunday 2026-03-08: 02:00 EST (07:00Z) jumps to 03:00 EDT.
    ['a window inside the gap does not open', 'America/New_York', '2026-03-08', { start: 120, end: 180 }, []],
    ['a window starting in the gap opens at the transition', 'America/New_York', '2026-03-08', { start: 150, end: 240 },
      [['2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z']]],
    ['a window ending in the gap closes at the transition', 'America/New_York', '2026-03-08', { start: 60, end: 150 },
      [['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z']]],
    ['09:00-17:00 is 8 hours', 'America/New_York', '2026-03-08', { start: 540, end: 1020 },
      [['2026-03-08T13:00:00.000Z', '2026-03-08T21:00:00.000Z']]],
    // Europe/London, Sunday 2026-03-29: 01:00 GMT (01:00Z) jumps to 02:00 BST.
    ['01:00-02:30 opens at 02:00 BST', 'Europe/London', '2026-03-29', { start: 60, end: 150 },
      [['2026-03-29T01:00:00.000Z', '2026-03-29T01:30:00.000Z']]],
    // Australia/Sydney, Sunday 2026-10-04: 02:00 AEST (16:00Z the day before) jumps to 03:00 AEDT.
    ['02:00-03:00 does not open', 'Australia/Sydney', '2026-10-04', { start: 120, end: 180 }, []],
    ['09:00-17:00 is in AEDT', 'Australia/Sydney', '2026-10-04', { start: 540, end: 1020 },
      [['2026-10-03T22:00:00.000Z', '2026-10-04T06:00:00.000Z']]],
    // Pacific/Chatham, Sunday 2026-09-27: 02:45 +12:45 (14:00Z the day before) jumps to 03:45 +13:45.
    ['03:00-04:00 is open 15 minutes', 'Pacific/Chatham', '2026-09-27', { start: 180, end: 240 },
      [['2026-09-26T14:00:00.000Z', '2026-09-26T14:15:00.000Z']]],
    // America/Santiago, Sunday 2026-09-06: midnight -04 (04:00Z) jumps to 01:00 -03, so 00:00-01:00 never exists.
    ['a window in the missing midnight hour does not open', 'America/Santiago', '2026-09-06', { start: 0, end: 60 }, []],
    ['00:00-02:00 opens at 01:00', 'America/Santiago', '2026-09-06', { start: 0, end: 120 },
      [['2026-09-06T04:00:00.000Z', '2026-09-06T05:00:00.000Z']]],
  ] as const)('%s (%s %s)', (_label, zone, sunday, window, expected) => {
    expect(spansAround({ 0: window }, zone, sunday)).toEqual(expected);
  });

  it('skips a window lost in the gap to the next week', () => {
    const sundayTwoAm: Schedule = { 0: { start: 120, end: 180 } };
    // 2026-03-15 02:00 EDT = 06:00Z.
    expect(iso(nextOpening(sundayTwoAm, 'America/New_York', at('2026-03-08T05:00:00Z')))).toBe(
      '2026-03-15T06:00:00.000Z',
    );
  });

  it('closes a Saturday window ending at 24:00 when Sunday midnight is skipped (Santiago)', () => {
    expect(spansAround({ 6: { start: 1380, end: 1440 } }, 'America/Santiago', '2026-09-05')).toEqual([
      ['2026-09-06T03:00:00.000Z', '2026-09-06T04:00:00.000Z'],
    ]);
  });
});

describe('fall back: repeated local times count once', () => {
  const zone = 'America/New_York';
  // Sunday 2026-11-01: 02:00 EDT (06:00Z) goes back to 01:00 EST, so 01:00-02:00 is shown twice.

  it('opens 01:00-02:00 only the first time round', () => {
    const oneToTwo: Schedule = { 0: { start: 60, end: 120 } };
    expect(spansAround(oneToTwo, zone, '2026-11-01')).toEqual([['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z']]);
    expect(isOpen(oneToTwo, zone, at('2026-11-01T06:30:00Z'))).toBe(false);
    expect(iso(nextOpening(oneToTwo, zone, at('2026-11-01T06:30:00Z')))).toBe('2026-11-08T06:00:00.000Z');
  });

  it('closes a window spanning the repeat while old times show again: 00:00-24:00 is open 24 of 25 hours', () => {
    const allSunday: Schedule = { 0: { start: 0, end: 1440 } };
    const spans = spansAround(allSunday, zone, '2026-11-01');
    expect(spans).toEqual([
      ['2026-11-01T04:00:00.000Z', '2026-11-01T06:00:00.000Z'],
      ['2026-11-01T07:00:00.000Z', '2026-11-02T05:00:00.000Z'],
    ]);
    expect(totalMs(spans)).toBe(24 * HOUR);
    expect(iso(nextOpening(allSunday, zone, at('2026-11-01T06:00:00Z')))).toBe('2026-11-01T07:00:00.000Z');
  });

  it('keeps 01:30-03:00 at 1.5 hours and 09:00-17:00 at 8', () => {
    expect(totalMs(spansAround({ 0: { start: 90, end: 180 } }, zone, '2026-11-01'))).toBe(1.5 * HOUR);
    expect(spansAround({ 0: { start: 540, end: 1020 } }, zone, '2026-11-01')).toEqual([
      ['2026-11-01T14:00:00.000Z', '2026-11-01T22:00:00.000Z'],
    ]);
  });

  it.each([
    // Europe/London, Sunday 2026-10-25: 02:00 BST (01:00Z) goes back to 01:00 GMT.
    ['Europe/London', '2026-10-25', { start: 60, end: 120 }, [['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z']]],
    // Australia/Sydney, Sunday 2026-04-05: 03:00 AEDT (16:00Z the day before) goes back to 02:00 AEST.
    ['Australia/Sydney', '2026-04-05', { start: 120, end: 180 }, [['2026-04-04T15:00:00.000Z', '2026-04-04T16:00:00.000Z']]],
    // Pacific/Chatham, Sunday 2026-04-05: 03:45 +13:45 (14:00Z the day before) goes back to 02:45 +12:45.
    ['Pacific/Chatham', '2026-04-05', { start: 165, end: 225 }, [['2026-04-04T13:00:00.000Z', '2026-04-04T14:00:00.000Z']]],
    // Australia/Lord_Howe, Sunday 2026-04-05: 02:00 +11 (15:00Z the day before) goes back 30 minutes to 01:30 +10:30.
    ['Australia/Lord_Howe', '2026-04-05', { start: 90, end: 120 }, [['2026-04-04T14:30:00.000Z', '2026-04-04T15:00:00.000Z']]],
  ] as const)('%s %s', (zone, day, window, expected) => {
    expect(spansAround({ 0: window }, zone, day)).toEqual(expected);
  });

  it('gives the repeated hour to the earlier date when the repeat crosses midnight (Santiago)', () => {
    // Saturday 2026-04-04: 24:00 -03 (03:00Z on the 5th) goes back to 23:00 -04, so Saturday 23:00-24:00 is shown twice.
    const lateSaturdayEarlySunday: Schedule = { 6: { start: 1380, end: 1440 }, 0: { start: 0, end: 60 } };
    expect(spansAround(lateSaturdayEarlySunday, 'America/Santiago', '2026-04-04')).toEqual([
      ['2026-04-05T02:00:00.000Z', '2026-04-05T03:00:00.000Z'],
      ['2026-04-05T04:00:00.000Z', '2026-04-05T05:00:00.000Z'],
    ]);
    expect(iso(nextOpening(lateSaturdayEarlySunday, 'America/Santiago', at('2026-04-05T03:00:00Z')))).toBe(
      '2026-04-05T04:00:00.000Z',
    );
  });
});
