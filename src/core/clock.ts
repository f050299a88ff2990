/** The engine and use cases read time only through a clock, so tests and simulations can control it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
