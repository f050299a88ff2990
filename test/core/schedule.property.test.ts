import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { WEEKDAYS, isOpen, nextOpening, windowEnd } from '../../src/core/schedule.js';
import {
  MINUTE,
  TRANSITIONS_2025_2027,
  ZONES,
  dailyWindow,
  instantsNearTransitions,
  referenceIsOpen,
  schedules,
  windowLengthsAround,
} from './zones.js';

/** How far past the input instant the minute-by-minute checks look. */
const CHECKED_SPAN = 26 * 60 * MINUTE;

/** The input instant, then every whole minute after it and before `until` (at most CHECKED_SPAN on). */
function minutesFrom(from: number, until: number): number[] {
  const last = Math.min(until, from + CHECKED_SPAN);
  const minutes = from < last ? [from] : [];
  for (let t = Math.ceil((from + 1) / MINUTE) * MINUTE; t < last; t += MINUTE) minutes.push(t);
  return minutes;
}

describe('sending windows, property-based', () => {
  it('has the transitions the tests rely on', () => {
    const zonesWithTransitions = new Set(TRANSITIONS_2025_2027.map((transition) => transition.zone));
    expect([...zonesWithTransitions].sort()).toEqual(
      ZONES.filter((zone) => !['Asia/Kolkata', 'Asia/Tehran', 'UTC'].includes(zone)).sort(),
    );
    expect(TRANSITIONS_2025_2027).toHaveLength(zonesWithTransitions.size * 6);
  });

  it('isOpen and windowEnd agree with the reference definition', () => {
    fc.assert(
      fc.property(schedules, fc.array(instantsNearTransitions, { minLength: 1, maxLength: 10 }), (schedule, instants) => {
        const disagreements = instants.filter(({ zone, ms }) => {
          const open = referenceIsOpen(schedule, zone, ms);
          return isOpen(schedule, zone, new Date(ms)) !== open || (windowEnd(schedule, zone, new Date(ms)) !== null) !== open;
        });
        expect(disagreements).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('nextOpening is the first open instant: open itself, nothing open before it', () => {
    fc.assert(
      fc.property(schedules, instantsNearTransitions, (schedule, { zone, ms }) => {
        const opening = nextOpening(schedule, zone, new Date(ms));
        const hasDays = WEEKDAYS.some((day) => schedule[day]);
        expect(opening === null).toBe(!hasDays);
        if (!opening) return;
        const at = opening.getTime();
        expect(at).toBeGreaterThanOrEqual(ms);
        expect(referenceIsOpen(schedule, zone, at)).toBe(true);
        if (at > ms) expect(referenceIsOpen(schedule, zone, at - 1)).toBe(false);
        expect(minutesFrom(ms, at).filter((minute) => referenceIsOpen(schedule, zone, minute))).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });

  it('windowEnd is where the open window closes (or the next day’s window takes over at midnight)', () => {
    fc.assert(
      fc.property(schedules, instantsNearTransitions, (schedule, { zone, ms }) => {
        const opening = nextOpening(schedule, zone, new Date(ms));
        if (!opening) return;
        const end = windowEnd(schedule, zone, opening)!.getTime();
        expect(end).toBeGreaterThan(opening.getTime());
        const closedInside = minutesFrom(opening.getTime(), end).filter((minute) => !referenceIsOpen(schedule, zone, minute));
        expect(closedInside).toEqual([]);
        expect(referenceIsOpen(schedule, zone, end - 1)).toBe(true);
        if (referenceIsOpen(schedule, zone, end)) {
          const local = DateTime.fromMillis(end, { zone });
          expect([local.hour, local.minute, local.second]).toEqual([0, 0, 0]);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('a window lasts the wall-clock time it names, less skipped local time, on every transition day 2025-2027', () => {
    fc.assert(
      fc.property(dailyWindow, (window) => {
        for (const transition of TRANSITIONS_2025_2027) {
          for (const day of windowLengthsAround(transition, window)) expect(day.openMs, day.label).toBe(day.expectedMs);
        }
      }),
      { numRuns: 8 },
    );
  });
});
