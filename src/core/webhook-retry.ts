/**
 * When a failed webhook delivery is tried again: growing delays (the last one repeats) with ±20% jitter
 * so that retries to one endpoint do not arrive in lockstep, for at most six hours after the first attempt.
 */
export const RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000];
export const RETRY_WINDOW_MS = 6 * 3_600_000;
const JITTER = 0.2;

/**
 * The time of the next attempt after `attempts` failed ones, or null to give up. The last retry is
 * pulled in to the end of the window, so an endpoint down for nearly six hours still gets a last try.
 * `random` returns a number in [0, 1).
 */
export function nextRetryAt(attempts: number, firstAttemptAt: Date, now: Date, random: () => number): Date | null {
  const deadline = firstAttemptAt.getTime() + RETRY_WINDOW_MS;
  if (now.getTime() >= deadline) return null;
  const base = RETRY_DELAYS_MS[Math.min(Math.max(attempts, 1), RETRY_DELAYS_MS.length) - 1]!;
  const delay = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  return new Date(Math.min(now.getTime() + delay, deadline));
}

/** An endpoint whose every attempt has failed for this long is switched off (a visible reason on the webhook). */
export const DISABLE_AFTER_FAILING_MS = 3 * 24 * 3_600_000;

export const failingTooLong = (failingSince: Date, now: Date) => now.getTime() - failingSince.getTime() >= DISABLE_AFTER_FAILING_MS;

/**
 * Of a dispatcher's `concurrency` slots, how many attempts to failing endpoints may hold at once: a quarter (at
 * least one). A dead endpoint's attempt waits out its whole timeout, so without a bound a few dozen of them
 * would hold every slot and starve the endpoints that answer.
 */
export const failingSlots = (concurrency: number) => Math.max(1, Math.floor(concurrency / 4));
