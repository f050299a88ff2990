import { nextOpening, type Schedule } from './schedule.js';

/**
 * Pacing of sends (messages and likes) from one account.
 *
 * Caps hold in ANY sliding window, not per clock hour: a window is half-open, [x, x + length), so two sends
 * exactly one window length apart never share one. For a new send at t later than every earlier send this means
 * t >= (the limit-th most recent send) + window length.
 *
 * - Per (campaign, account): at most `messagesPerHour` sends in any 60 minutes, spaced 3600 / messagesPerHour
 *   seconds apart on average: each gap is that spacing times a factor in [1 - PACING_JITTER, 1 + PACING_JITTER),
 *   drawn from `jitter`. A short gap can never break the cap, which is enforced separately.
 * - Per account, across all campaigns: at most `hourlyLimit` sends in any 60 minutes and `dailyLimit` in any
 *   24 hours (the platform limits the account, not the campaign), and no two sends closer than
 *   (3600 / hourlyLimit) x (1 - PACING_JITTER) seconds, so campaigns sharing an account never send in a burst.
 *   That minimum gap also makes every new send later than all the account's earlier sends.
 */

export const PACING_JITTER = 0.2;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface PacingSettings {
  messagesPerHour: number;
  hourlyLimit: number;
  dailyLimit: number;
  /** when the send is due (the step's due time, or now) */
  earliest: Date;
  /**
   * a uniform random draw in [0, 1): the caller draws it from a seeded stream (for example keyed by campaign,
   * account and send count) so that asking again gives the same answer
   */
  jitter: number;
}

/**
 * Send times in epoch milliseconds, oldest first, as the planner keeps them while it plans (so a decision
 * neither copies nor sorts them). Sends more than a day before `earliest` may be left in: they change nothing.
 */
export interface SendTimes {
  /** this campaign's sends from this account */
  campaign: readonly number[];
  /** all of this account's sends, this campaign's included */
  account: readonly number[];
}

export interface Cap {
  windowMs: number;
  limit: number;
}

function requireWholeAtLeastOne(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${value}`);
}

/** The earliest time a new send fits under `cap`, given earlier send times oldest first (-Infinity if any time does). */
function earliestUnderCap(times: readonly number[], { windowMs, limit }: Cap): number {
  const oldestThatMustLeave = times[times.length - limit];
  return oldestThatMustLeave === undefined ? -Infinity : oldestThatMustLeave + windowMs;
}

/**
 * Each lower bound on the next send's time, in epoch ms (-Infinity when one does not bind): the send is due at
 * the latest of them. Kept apart so a caller can tell which one holds a send back.
 */
export interface PacingBounds {
  /** `earliest`: when the send is due */
  due: number;
  /** this campaign's spacing and its messagesPerHour cap on the account */
  campaignPace: number;
  /** the account's spacing across campaigns and its hourlyLimit */
  accountHourly: number;
  /** the account's dailyLimit */
  accountDaily: number;
}

export function pacingBounds(times: SendTimes, settings: PacingSettings): PacingBounds {
  const { messagesPerHour, hourlyLimit, dailyLimit, jitter } = settings;
  requireWholeAtLeastOne('messagesPerHour', messagesPerHour);
  requireWholeAtLeastOne('hourlyLimit', hourlyLimit);
  requireWholeAtLeastOne('dailyLimit', dailyLimit);
  if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`jitter must be in [0, 1), got ${jitter}`);

  const gapFactor = 1 - PACING_JITTER + 2 * PACING_JITTER * jitter;
  const campaignGap = Math.ceil((HOUR_MS / messagesPerHour) * gapFactor);
  const accountGap = Math.ceil((HOUR_MS / hourlyLimit) * (1 - PACING_JITTER));
  return {
    due: settings.earliest.getTime(),
    campaignPace: Math.max((times.campaign.at(-1) ?? -Infinity) + campaignGap, earliestUnderCap(times.campaign, { windowMs: HOUR_MS, limit: messagesPerHour })),
    accountHourly: Math.max((times.account.at(-1) ?? -Infinity) + accountGap, earliestUnderCap(times.account, { windowMs: HOUR_MS, limit: hourlyLimit })),
    accountDaily: earliestUnderCap(times.account, { windowMs: DAY_MS, limit: dailyLimit }),
  };
}

const latestBound = (bounds: PacingBounds) => Math.max(bounds.due, bounds.campaignPace, bounds.accountHourly, bounds.accountDaily);

/** The earliest instant at or after `earliest` at which this campaign may send again from this account. */
export function nextSendTime(times: SendTimes, settings: PacingSettings): Date {
  return new Date(latestBound(pacingBounds(times, settings)));
}

/**
 * The first instant that satisfies both pacing and the schedule, with the pacing bounds behind it, or null
 * when the schedule has no days. Pacing only ever sets a lower bound, so waiting for the window after it keeps
 * every cap.
 */
export function nextDispatch(times: SendTimes, settings: PacingSettings & { schedule: Schedule; timeZone: string }): { at: Date; bounds: PacingBounds } | null {
  const bounds = pacingBounds(times, settings);
  const at = nextOpening(settings.schedule, settings.timeZone, new Date(latestBound(bounds)));
  return at && { at, bounds };
}

/** The most sends that fall in any one sliding window of `windowMs` (half-open, as above). */
export function maxSendsInAnyWindow(sends: readonly Date[], windowMs: number): number {
  const times = sends.map((send) => send.getTime()).sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while (times[last]! - times[first]! >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** Whether no sliding window of any cap holds more sends than its limit. */
export function respectsCaps(sends: readonly Date[], caps: readonly Cap[]): boolean {
  return caps.every((cap) => maxSendsInAnyWindow(sends, cap.windowMs) <= cap.limit);
}
