import { IANAZone } from 'luxon';

/**
 * Sending windows: per weekday, a span of minutes of LOCAL WALL TIME in the campaign's IANA time zone.
 *
 * A `Schedule` maps "0".."6" (0 = Sunday) to `{ start, end }`, minutes of the day with 0 <= start < end <= 1440;
 * 1440 is the midnight that ends the day. A missing day means no sending that day.
 *
 * Rule: an instant is inside the window when its local wall time on its local date lies in [start, end) of
 * that weekday's window AND it is the first time that wall time occurs. What follows from it on DST days:
 * - Spring forward (local times skipped): skipped wall times simply never happen. A window whose start falls
 *   in the gap opens at the first valid instant after it (the transition itself, e.g. 03:00 on a 02:00->03:00
 *   day for a 02:30 start); a window lying entirely inside the gap does not open that day. A window spanning
 *   the gap is shorter by the skipped time (01:00-04:00 is open 2 hours).
 * - Fall back (local times repeated): the repeated wall times count once, the first time. A window covering
 *   01:00-02:00 on a day where 01:00-02:00 repeats is open 1 hour, not 2, and a window spanning the repeat is
 *   open, then closed while the clock shows times it already showed, then open again (00:00-24:00 is open 24 of
 *   the day's 25 hours). So every window lasts exactly the wall-clock time it names (09:00-17:00 is 8 hours on
 *   every day), less any wall time that does not exist that day.
 * - When a fall back crosses midnight (America/Santiago goes from 24:00 back to 23:00), the repeated times
 *   belong to the earlier date, whose window they close, and the next date's window starts after them.
 * - Each day's window is separate: a window ending at 1440 and the next day's starting at 0 abut, so
 *   `windowEnd` returns that midnight and `nextOpening` at that midnight returns it unchanged.
 *
 * Assumes a zone changes its UTC offset at most once within about a day, true of every zone in current tz data.
 */

export const WEEKDAYS = ['0', '1', '2', '3', '4', '5', '6'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface DailyWindow {
  /** minutes after local midnight, inclusive */
  start: number;
  /** minutes after local midnight, exclusive; 1440 = the end of the day */
  end: number;
}

export type Schedule = Partial<Record<Weekday, DailyWindow>>;

/** One problem with an input, shaped like the `details` of a 400 VALIDATION_ERROR. */
export interface Problem {
  field: string;
  message: string;
}

export const MINUTES_PER_DAY = 1440;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** 1970-01-01 was a Thursday (4 with 0 = Sunday). */
const EPOCH_WEEKDAY = 4;
/** Two of each weekday: enough for a window skipped by a transition to come round again. */
const DAYS_SEARCHED = 15;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isMinuteOfDay = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MINUTES_PER_DAY;

/** Every problem with a schedule given as untrusted JSON; empty when it is a valid `Schedule`. */
export function validateSchedule(schedule: unknown, field = 'schedule'): Problem[] {
  if (!isPlainObject(schedule)) {
    return [{ field, message: 'must be an object with keys "0" (Sunday) to "6" (Saturday)' }];
  }
  const problems: Problem[] = [];
  for (const [day, window] of Object.entries(schedule)) {
    const where = `${field}.${day}`;
    if (!(WEEKDAYS as readonly string[]).includes(day)) {
      problems.push({ field: where, message: 'unknown day: use "0" (Sunday) to "6" (Saturday)' });
    } else if (!isPlainObject(window)) {
      problems.push({ field: where, message: 'must be an object {start, end}' });
    } else {
      const { start, end } = window;
      for (const [name, value] of [['start', start], ['end', end]] as const) {
        if (!isMinuteOfDay(value)) {
          problems.push({ field: `${where}.${name}`, message: 'must be a whole number of minutes from 0 to 1440' });
        }
      }
      if (isMinuteOfDay(start) && isMinuteOfDay(end) && start >= end) {
        problems.push({ field: where, message: 'start must be before end' });
      }
    }
  }
  return problems;
}

/** Problems with an IANA time zone name (such as "Europe/London" or "UTC"); empty when luxon knows it. */
export function validateTimeZone(timeZone: unknown, field = 'timezone'): Problem[] {
  if (typeof timeZone === 'string' && IANAZone.isValidZone(timeZone)) return [];
  return [{ field, message: 'must be an IANA time zone name such as "America/New_York" or "UTC"' }];
}

/** The zone for a name; callers validate names first (validateTimeZone), so an unknown one is a bug. */
function zoneNamed(timeZone: string): IANAZone {
  const zone = IANAZone.create(timeZone);
  if (!zone.isValid) throw new RangeError(`unknown time zone '${timeZone}'`);
  return zone;
}

/** A span of real time in epoch ms, [from, to). */
interface Interval {
  from: number;
  to: number;
}

const HOUR_MS = 3_600_000;
/** Per zone, per hour since the epoch: the zone's offset throughout that hour, or null when it changes inside. */
const hourlyOffsets = new Map<string, Map<number, number | null>>();
const HOURLY_OFFSETS_SIZE = 100_000;

/**
 * The zone's UTC offset in minutes at `instant`. luxon asks Intl for each one (microseconds apiece) and the
 * engine asks about the same hours over and over, so offsets are kept per hour: an hour whose first and last
 * milliseconds share an offset has it throughout, as no zone changes its offset twice within an hour.
 */
function offsetAt(zone: IANAZone, instant: number): number {
  let offsets = hourlyOffsets.get(zone.name);
  if (!offsets || offsets.size >= HOURLY_OFFSETS_SIZE) {
    offsets = new Map();
    hourlyOffsets.set(zone.name, offsets);
  }
  const hour = Math.floor(instant / HOUR_MS);
  let offset = offsets.get(hour);
  if (offset === undefined) {
    const first = zone.offset(hour * HOUR_MS);
    offset = first === zone.offset(hour * HOUR_MS + HOUR_MS - 1) ? first : null;
    offsets.set(hour, offset);
  }
  return offset ?? zone.offset(instant);
}

/**
 * Local wall time as "epoch ms as if the zone were UTC": the instant plus the zone's offset at it.
 * Jumps forward at a spring-forward transition and back at a fall-back one.
 */
function wallTime(zone: IANAZone, instant: number): number {
  return instant + offsetAt(zone, instant) * MINUTE_MS;
}

/** The first instant in (after, upTo] at which the zone's offset is already the one it has at `upTo`. */
function transitionBetween(zone: IANAZone, after: number, upTo: number): number {
  const offsetAfter = offsetAt(zone, upTo);
  let [low, high] = [after, upTo];
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (offsetAt(zone, middle) === offsetAfter) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * The first instant whose wall time is `wall` or, when `wall` is skipped by a spring-forward transition,
 * the transition itself (the first instant whose wall time is later).
 */
function firstInstantAtOrAfterWall(zone: IANAZone, wall: number): number {
  // The offsets in force a day either side cover any single transition near `wall`.
  const offsets = new Set([offsetAt(zone, wall - DAY_MS), offsetAt(zone, wall + DAY_MS)]);
  const candidates = [...offsets].map((offset) => wall - offset * MINUTE_MS).sort((a, b) => a - b);
  const exact = candidates.find((instant) => wallTime(zone, instant) === wall);
  if (exact !== undefined) return exact;
  return transitionBetween(zone, candidates[0]!, candidates[candidates.length - 1]!);
}

const weekdayOf = (localDay: number): Weekday => WEEKDAYS[(((localDay + EPOCH_WEEKDAY) % 7) + 7) % 7]!;

/** Days since 1970-01-01 of the local date at `instant`. */
const localDayOf = (zone: IANAZone, instant: number): number => Math.floor(wallTime(zone, instant) / DAY_MS);

/**
 * Computed intervals by zone, date and window: the engine asks about the same few dates over and over, and
 * each answer costs several time-zone offset lookups. Cleared whole when full, to stay small.
 */
const intervalCache = new Map<string, Interval[]>();
const INTERVAL_CACHE_SIZE = 10_000;

/** The real-time intervals during which the window of one local date is open, in order. */
function openIntervalsOn(schedule: Schedule, zone: IANAZone, localDay: number): Interval[] {
  const window = schedule[weekdayOf(localDay)];
  if (!window) return [];
  const key = `${zone.name}|${localDay}|${window.start}|${window.end}`;
  let intervals = intervalCache.get(key);
  if (!intervals) {
    if (intervalCache.size >= INTERVAL_CACHE_SIZE) intervalCache.clear();
    intervals = windowIntervals(zone, localDay, window);
    intervalCache.set(key, intervals);
  }
  return intervals;
}

function windowIntervals(zone: IANAZone, localDay: number, window: DailyWindow): Interval[] {
  const from = firstInstantAtOrAfterWall(zone, localDay * DAY_MS + window.start * MINUTE_MS);
  const to = firstInstantAtOrAfterWall(zone, localDay * DAY_MS + window.end * MINUTE_MS);
  if (from >= to) return [];
  const repeatedMs = (offsetAt(zone, from) - offsetAt(zone, to - 1)) * MINUTE_MS;
  if (repeatedMs <= 0) return [{ from, to }];
  // The clocks fell back inside the window: wall times shown a second time are outside it.
  const fallBack = transitionBetween(zone, from, to - 1);
  return [
    { from, to: fallBack },
    { from: fallBack + repeatedMs, to },
  ].filter((interval) => interval.from < interval.to);
}

const hasAnyDay = (schedule: Schedule) => WEEKDAYS.some((day) => schedule[day] !== undefined);

function openIntervalAt(schedule: Schedule, zone: IANAZone, instant: number): Interval | undefined {
  return openIntervalsOn(schedule, zone, localDayOf(zone, instant)).find(
    (interval) => interval.from <= instant && instant < interval.to,
  );
}

/** Whether sending is allowed at `instant`. */
export function isOpen(schedule: Schedule, timeZone: string, instant: Date): boolean {
  return openIntervalAt(schedule, zoneNamed(timeZone), instant.getTime()) !== undefined;
}

/** When the window open at `instant` closes (exclusive), or null when no window is open at `instant`. */
export function windowEnd(schedule: Schedule, timeZone: string, instant: Date): Date | null {
  const interval = openIntervalAt(schedule, zoneNamed(timeZone), instant.getTime());
  return interval ? new Date(interval.to) : null;
}

/**
 * The first instant at or after `instant` at which sending is allowed, or null when the schedule has no days
 * (or, in theory, when every window falls in skipped local time for two weeks).
 */
export function nextOpening(schedule: Schedule, timeZone: string, instant: Date): Date | null {
  if (!hasAnyDay(schedule)) return null;
  const zone = zoneNamed(timeZone);
  const at = instant.getTime();
  // Once wall time passes into a later date it never shows an earlier date's open times again.
  const firstDay = localDayOf(zone, at);
  for (let day = firstDay; day < firstDay + DAYS_SEARCHED; day++) {
    const next = openIntervalsOn(schedule, zone, day).find((interval) => interval.to > at);
    if (next) return new Date(Math.max(next.from, at));
  }
  return null;
}
