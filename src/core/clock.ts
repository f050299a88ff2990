/** The engine and use cases read time only through a clock, so tests and simulations can control it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * For tests and development only (INBOX_TEST_CLOCK_ORIGIN and INBOX_TEST_CLOCK_SPEED): time running `speed`
 * times faster than real time from `origin`, the same function of the system's clock in every process, so
 * processes sharing a store (and restarted ones) agree on it. A server on it sends, paces and delays on this
 * clock, and its sandbox platform stamps DMs on it too.
 */
export function scaledClock({ origin, speed }: { origin: Date; speed: number }): Clock {
  const start = origin.getTime();
  return { now: () => new Date(start + (Date.now() - start) * speed) };
}
