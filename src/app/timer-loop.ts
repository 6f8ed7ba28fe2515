// The timer loop: every interval, one pass over the owned partitions rescoring the
// customers whose timers are due, a page at a time until a partition's backlog is drained.
// A tick that comes while the previous pass still runs is skipped, so passes never pile up
// (and never run twice at once for a partition). A failed pass is retried next tick.
import type { Logger } from './logger.js';

export interface TimerLoopOptions {
  readonly intervalMs: number;
  /** Customers per page: a full page means the partition has more due. */
  readonly pageSize: number;
  readonly assigned: () => readonly number[];
  /** Rescores one page of a partition's due customers; returns how many were due. */
  readonly runPage: (partition: number) => Promise<number>;
  readonly log: Logger;
}

export interface TimerLoop {
  /** Resolves when the pass in progress (if any) has finished. */
  stop(): Promise<void>;
}

export function startTimerLoop(options: TimerLoopOptions): TimerLoop {
  let stopping = false;
  let pass: Promise<void> | null = null;
  let failing = false;
  const runPass = async () => {
    for (const partition of options.assigned()) {
      // Stopping: each further partition would wait out its own failure (a Redis outage).
      if (stopping) break;
      try {
        while (!stopping && (await options.runPage(partition)) >= options.pageSize) {
          // a full page: keep draining this partition's backlog
        }
        if (failing) options.log.info({ partition }, 'timer pass succeeded again');
        failing = false;
      } catch (error) {
        if (!failing) options.log.warn({ err: error, partition }, 'timer pass failed; retrying every interval');
        failing = true;
      }
    }
  };
  const tick = setInterval(() => {
    if (stopping || pass !== null) return;
    pass = runPass().finally(() => {
      pass = null;
    });
  }, options.intervalMs);
  return {
    async stop() {
      stopping = true;
      clearInterval(tick);
      await pass;
    },
  };
}
