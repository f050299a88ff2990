import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { Schedule } from '../../src/core/schedule.js';
import { WEEKDAYS, nextOpening, windowEnd } from '../../src/core/schedule.js';

/**
 * Test helpers for sending windows: zones with their offset transitions, a reference definition of "open"
 * written independently of src/core/schedule.ts (it reads wall times through luxon DateTime), and generators.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Zones with every kind of transition: northern and southern DST, 30- and 120-minute shifts, shifts at
 * midnight (Santiago), odd offsets (Chatham +12:45/+13:45, Kolkata +05:30), and none at all. */
export const ZONES = [
  'America/New_York',
  'Europe/London',
  'Australia/Sydney',
  'Pacific/Chatham',
  'America/Santiago',
  'Australia/Lord_Howe',
  'Antarctica/Troll',
  'Asia/Kolkata',
  'Asia/Tehran',
  'UTC',
] as const;

export interface Transition {
  zone: string;
  /** the first instant with the new offset */
  at: number;
  offsetBefore: number;
  offsetAfter: number;
}

const offsetAt = (zone: string, ms: number) => DateTime.fromMillis(ms, { zone }).offset;

/** Every offset change of `zone` between two instants, found by scanning every 6 hours and bisecting. */
export function transitionsOf(zone: string, from: number, to: number): Transition[] {
  const found: Transition[] = [];
  let offsetBefore = offsetAt(zone, from);
  for (let t = from; t < to; t += 6 * HOUR) {
    const offsetAfter = offsetAt(zone, t + 6 * HOUR);
    if (offsetAfter === offsetBefore) continue;
    let [low, high] = [t, t + 6 * HOUR];
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (offsetAt(zone, middle) === offsetBefore) low = middle;
      else high = middle;
    }
    found.push({ zone, at: high, offsetBefore, offsetAfter });
    offsetBefore = offsetAfter;
  }
  return found;
}

export const TRANSITIONS_2025_2027 = ZONES.flatMap((zone) =>
  transitionsOf(zone, Date.UTC(2025, 0, 1), Date.UTC(2028, 0, 1)),
);

/**
 * Whether the wall time shown at `ms` was already shown earlier (the second pass of a fall-back): if the clocks
 * went back by d within the last 3 hours, the instant d earlier showed the same time. (Real zones change their
 * offset at most once in 3 hours, by at most 3 hours.)
 */
function wallTimeShownBefore(zone: string, ms: number): boolean {
  const offset = offsetAt(zone, ms);
  const earlierOffset = offsetAt(zone, ms - 3 * HOUR);
  return earlierOffset > offset && offsetAt(zone, ms - (earlierOffset - offset) * MINUTE) === earlierOffset;
}

/** The definition of an open instant, straight from the rule in schedule.ts. */
export function referenceIsOpen(schedule: Schedule, zone: string, ms: number): boolean {
  const local = DateTime.fromMillis(ms, { zone });
  const window = schedule[WEEKDAYS[local.weekday % 7]!];
  const minute = local.hour * 60 + local.minute + (local.second * 1000 + local.millisecond) / MINUTE;
  if (!window || minute < window.start || minute >= window.end) return false;
  return !wallTimeShownBefore(zone, ms);
}

/** The open spans [from, to) of a schedule that start before `until`, walked through the public API. */
export function openSpans(schedule: Schedule, zone: string, since: Date, until: Date): Array<[string, string]> {
  const spans: Array<[string, string]> = [];
  for (let start = nextOpening(schedule, zone, since); start && start < until; ) {
    const end = windowEnd(schedule, zone, start)!;
    spans.push([start.toISOString(), end.toISOString()]);
    start = nextOpening(schedule, zone, end);
  }
  return spans;
}

export const totalMs = (spans: Array<[string, string]>) =>
  spans.reduce((sum, [from, to]) => sum + Date.parse(to) - Date.parse(from), 0);

/** Minutes of the day, biased to the quarter hours where transitions and window edges meet. */
const minuteOfDay = fc.oneof(
  fc.integer({ min: 0, max: 1440 }),
  fc.integer({ min: 0, max: 96 }).map((quarter) => quarter * 15),
);

export const dailyWindow = fc
  .tuple(minuteOfDay, minuteOfDay)
  .filter(([a, b]) => a !== b)
  .map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) }));

export const schedules: fc.Arbitrary<Schedule> = fc.record(
  Object.fromEntries(WEEKDAYS.map((day) => [day, dailyWindow])) as Record<string, typeof dailyWindow>,
  { requiredKeys: [] },
);

/** Instants within two days of a transition of one of ZONES (or anywhere in 2026 for zones without any). */
export const instantsNearTransitions: fc.Arbitrary<{ zone: string; ms: number }> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...TRANSITIONS_2025_2027), fc.integer({ min: -2 * DAY, max: 2 * DAY }))
    .map(([transition, delta]) => ({ zone: transition.zone, ms: transition.at + delta })),
  fc
    .tuple(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }))
    .map(([zone, ms]) => ({ zone, ms })),
);

/**
 * On the local date just before a transition and the one at it (the same day unless it happens at midnight):
 * how long a one-day schedule with `window` is open, and how long it should be — the wall-clock time the
 * window names, less the local time the transition skipped inside it.
 */
export function windowLengthsAround(
  transition: Transition,
  window: { start: number; end: number },
): Array<{ label: string; openMs: number; expectedMs: number }> {
  const { zone, at, offsetBefore, offsetAfter } = transition;
  const gap = { from: at + offsetBefore * MINUTE, to: at + offsetAfter * MINUTE };
  return [at - 1, at].map((ms) => {
    const local = DateTime.fromMillis(ms, { zone });
    const localMidnight = Date.UTC(local.year, local.month - 1, local.day);
    const wall = { from: localMidnight + window.start * MINUTE, to: localMidnight + window.end * MINUTE };
    const skipped = Math.max(0, Math.min(wall.to, gap.to) - Math.max(wall.from, gap.from));
    const schedule = { [WEEKDAYS[local.weekday % 7]!]: window };
    const spans = openSpans(schedule, zone, new Date(ms - 2 * DAY), new Date(ms + 2 * DAY));
    return { label: `${zone} ${local.toISODate()} ${window.start}-${window.end}`, openMs: totalMs(spans), expectedMs: wall.to - wall.from - skipped };
  });
}
