/**
 * Sliding-window rate limiting by the "sliding window counter" method: each window keeps a hit count
 * per fixed bucket of its own length, and the count over the last `seconds` is estimated as the current
 * bucket plus the previous bucket weighted by how much of it still overlaps the sliding window.
 */
export interface RateWindow {
  seconds: number;
  limit: number;
}

export interface WindowCounts {
  window: RateWindow;
  current: number;
  previous: number;
}

export interface RateDecision {
  allowed: boolean;
  /** the most constrained window, whose numbers go in the X-RateLimit-* headers */
  limit: number;
  remaining: number;
  /** epoch seconds at which the most constrained window has room again (or fully resets) */
  resetAt: number;
  /** seconds to wait before retrying, when not allowed */
  retryAfter: number;
  /** the length in seconds of the most constrained window (API v2 names it in a rateLimited error) */
  windowSeconds: number;
}

export const bucketOf = (nowSeconds: number, windowSeconds: number) => Math.floor(nowSeconds / windowSeconds);

function estimate(counts: WindowCounts, nowSeconds: number): number {
  const { seconds } = counts.window;
  const elapsed = nowSeconds - bucketOf(nowSeconds, seconds) * seconds;
  return counts.previous * (1 - elapsed / seconds) + counts.current;
}

/** Seconds from now until the estimate (after counting one more hit) fits under the limit again. */
function secondsUntilRoom(counts: WindowCounts, nowSeconds: number): number {
  const { seconds, limit } = counts.window;
  const bucketStart = bucketOf(nowSeconds, seconds) * seconds;
  if (counts.current >= limit) {
    // The current bucket alone is full: it must slide out partly during the next bucket.
    // estimate(t) = current * (1 - (t - nextStart) / seconds) < limit
    const nextStart = bucketStart + seconds;
    const into = seconds * (1 - (limit - 1) / counts.current);
    return Math.max(1, Math.ceil(nextStart + into - nowSeconds));
  }
  // previous * (1 - (t - start) / seconds) + current <= limit - 1
  const fraction = counts.previous === 0 ? 0 : 1 - (limit - 1 - counts.current) / counts.previous;
  return Math.max(1, Math.ceil(bucketStart + seconds * Math.max(0, fraction) - nowSeconds));
}

/** Decides whether one more request fits in every window. */
export function decide(windows: WindowCounts[], nowSeconds: number): RateDecision {
  let tightest: { counts: WindowCounts; remaining: number } | undefined;
  let retryAfter = 0;
  for (const counts of windows) {
    const used = estimate(counts, nowSeconds);
    const remaining = Math.max(0, Math.floor(counts.window.limit - used));
    if (remaining < 1) retryAfter = Math.max(retryAfter, secondsUntilRoom(counts, nowSeconds));
    if (!tightest || remaining < tightest.remaining) tightest = { counts, remaining };
  }
  if (!tightest) throw new Error('decide() needs at least one window');
  const allowed = retryAfter === 0;
  const { window } = tightest.counts;
  const remainingAfter = allowed ? tightest.remaining - 1 : 0;
  const resetAt = allowed
    ? (bucketOf(nowSeconds, window.seconds) + 1) * window.seconds
    : Math.ceil(nowSeconds) + retryAfter;
  return { allowed, limit: window.limit, remaining: Math.max(0, remainingAfter), resetAt, retryAfter, windowSeconds: window.seconds };
}
