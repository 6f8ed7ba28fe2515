// The scorer's notion of "now" for timers and the query API. Wall clock for live
// traffic; for replays, the event-time watermark of each partition (the newest event
// time seen in it), so months of history replay in minutes and give the same result
// every time. Validation of absurd future times always uses the wall clock.

export interface Clock {
  readonly kind: 'wall' | 'watermark';
  /** Current time for timers of a partition (ms). */
  now(partition: number): number;
  /** Current time across partitions (query API). */
  nowGlobal(): number;
  /** Records an event time seen on a partition. */
  observe(partition: number, eventTime: number): void;
}

export function wallClock(): Clock {
  return { kind: 'wall', now: () => Date.now(), nowGlobal: () => Date.now(), observe: () => {} };
}

export function watermarkClock(): Clock {
  const marks = new Map<number, number>();
  return {
    kind: 'watermark',
    now: (partition) => marks.get(partition) ?? Number.NEGATIVE_INFINITY,
    nowGlobal: () => Math.max(Number.NEGATIVE_INFINITY, ...marks.values()),
    observe: (partition, eventTime) => {
      if (!(eventTime <= (marks.get(partition) ?? Number.NEGATIVE_INFINITY))) marks.set(partition, eventTime);
    },
  };
}
