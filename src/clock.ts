// The time source every long-lived component is given, so tests can pass their own.

/** Wall-clock time in milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
