/**
 * Wall-clock times in IANA zones with the browser's Intl alone (no time library in the bundle): where a campaign's
 * sending window falls in the viewer's own zone this week.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** Minutes the zone's wall clock is ahead of UTC at `instant`. */
function offsetMinutes(instant: number, zone: string): number {
  const parts = Object.fromEntries(partsFormatter(zone).formatToParts(new Date(instant)).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
  return Math.round((wall - Math.floor(instant / 60_000) * 60_000) / 60_000);
}

/** The instant at which the zone's clock shows `minutes` after midnight of the UTC calendar date `dayStart`. */
export function zonedInstant(dayStart: number, minutes: number, zone: string): number {
  const wall = dayStart + minutes * 60_000;
  const first = wall - offsetMinutes(wall, zone) * 60_000;
  // A second pass settles instants whose offset differs from the first guess's (near a DST change).
  return wall - offsetMinutes(first, zone) * 60_000;
}

/** Midnight (as a UTC calendar date) of the next date, from today on, that falls on `weekday` (0 = Sunday). */
export function nextDateOn(weekday: number, now = Date.now()): number {
  const today = new Date(now);
  const start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return start + ((weekday - today.getUTCDay() + 7) % 7) * 86_400_000;
}

export const viewerZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** "Tue 15:00" in the zone. */
export function weekdayTime(instant: number, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(instant));
}

export function timeZones(): string[] {
  const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
  return supported ? supported('timeZone') : [];
}
