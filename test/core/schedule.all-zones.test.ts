import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { isOpen, nextOpening } from '../../src/core/schedule.js';
import { MINUTE, referenceIsOpen, transitionsOf, windowLengthsAround } from './zones.js';

/**
 * Every time zone the runtime knows, through every offset change it has in 2026: the window rules hold
 * everywhere, not only in the zones the property tests sample.
 */
const ZONES_2026 = Intl.supportedValuesOf('timeZone').flatMap((zone) => transitionsOf(zone, Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1)));

/** Windows that start, end or sit inside the hours where transitions happen, and the whole day. */
const WINDOWS = [
  { start: 540, end: 1020 },
  { start: 0, end: 1440 },
  { start: 0, end: 60 },
  { start: 60, end: 240 },
  { start: 120, end: 150 },
  { start: 1380, end: 1440 },
];

describe('sending windows in every time zone, 2026', () => {
  it('finds the zones with transitions', () => {
    expect(new Set(ZONES_2026.map((t) => t.zone)).size).toBeGreaterThan(50);
  });

  it('a window lasts the wall-clock time it names, less skipped local time, on every transition day', () => {
    for (const transition of ZONES_2026) {
      for (const window of WINDOWS) {
        for (const day of windowLengthsAround(transition, window)) expect(day.openMs, day.label).toBe(day.expectedMs);
      }
    }
  });

  it('is open exactly when the rule says, minute by minute around every transition, and opens at the first open minute', () => {
    const schedule = Object.fromEntries(['0', '1', '2', '3', '4', '5', '6'].map((d) => [d, { start: 60, end: 240 }]));
    for (const { zone, at } of ZONES_2026) {
      for (let ms = at - 4 * 60 * MINUTE; ms <= at + 4 * 60 * MINUTE; ms += 5 * MINUTE) {
        const label = `${zone} ${DateTime.fromMillis(ms, { zone }).toISO()}`;
        expect(isOpen(schedule, zone, new Date(ms)), label).toBe(referenceIsOpen(schedule, zone, ms));
      }
      const opening = nextOpening(schedule, zone, new Date(at - 12 * 60 * MINUTE))!;
      expect(referenceIsOpen(schedule, zone, opening.getTime()), `${zone} opening`).toBe(true);
      expect(referenceIsOpen(schedule, zone, opening.getTime() - 1), `${zone} before opening`).toBe(false);
    }
  });
});
