// Runs a unit until it succeeds, waiting out transient failures: capped exponential
// backoff with jitter, the group heartbeat kept alive while waiting (a dependency outage
// must not cost the partitions), given up only when the consumer lets go of the unit
// (revoked or stopping: the next owner redelivers it). Written here rather than with a
// retry library because the wait itself must heartbeat and watch the assignment.
import type { Logger } from '../logger.js';
import { classify, type WaitingFor } from './failures.js';

export interface RetryControl {
  heartbeat(): Promise<void>;
  isActive(): boolean;
}

export interface RetryHooks {
  /** A wait of `seconds` is about to start because of `waitingFor`. */
  waiting(waitingFor: WaitingFor, seconds: number, error: unknown, attempt: number): void;
  /**
   * The unit ended after waiting for `waitingFor`: `back` when it succeeded (the dependency
   * answered), false when it was given up or failed otherwise (nothing is known then).
   */
  recovered(waitingFor: WaitingFor, attempts: number, back: boolean): void;
}

export const BACKOFF = { firstMs: 100, maxMs: 5000, heartbeatMs: 1000 } as const;

/** Thrown when the unit was given up because the consumer no longer holds it. */
export class UnitAbandoned extends Error {
  override readonly name = 'UnitAbandoned';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const capped = Math.min(BACKOFF.maxMs, BACKOFF.firstMs * 2 ** Math.min(attempt - 1, 30));
  return capped / 2 + (capped / 2) * random();
}

export async function retryTransient<T>(work: () => Promise<T>, control: RetryControl, hooks: RetryHooks): Promise<T> {
  // Everything waited for in this unit is cleared when it ends, however it ends: a
  // dependency still down is marked again by the next unit that meets it.
  const waitedFor = new Set<WaitingFor>();
  const clear = (attempts: number, back: boolean) => {
    for (const dependency of waitedFor) hooks.recovered(dependency, attempts, back);
  };
  const abandon = (attempts: number) => {
    clear(attempts, false);
    return new UnitAbandoned('the partitions moved or the consumer is stopping');
  };
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await keepingAlive(work, control);
      clear(attempt, true);
      return result;
    } catch (error) {
      const { kind, waitingFor } = classify(error);
      if (kind !== 'transient' || waitingFor === null) {
        clear(attempt, false);
        throw error;
      }
      if (!control.isActive()) throw abandon(attempt);
      waitedFor.add(waitingFor);
      const waitMs = backoffMs(attempt);
      hooks.waiting(waitingFor, waitMs / 1000, error, attempt);
      for (let waited = 0; waited < waitMs && control.isActive(); waited += BACKOFF.heartbeatMs) {
        await sleep(Math.min(BACKOFF.heartbeatMs, waitMs - waited));
        // A heartbeat that ends the membership turns isActive() false (checked below); any
        // other failure is left to the next one, as during an attempt.
        await control.heartbeat().catch(() => undefined);
      }
      // Let go during the wait: another attempt would publish and write for partitions we no longer own.
      if (!control.isActive()) throw abandon(attempt);
    }
  }
}

/**
 * Runs one attempt with the group heartbeat kept alive beside it: an attempt blocked on a
 * hanging dependency (up to its timeout) must not outlast the session and cost the
 * partitions. A failed heartbeat here is left to the next explicit one.
 */
async function keepingAlive<T>(work: () => Promise<T>, control: RetryControl): Promise<T> {
  const beat = setInterval(() => {
    control.heartbeat().catch(() => undefined);
  }, BACKOFF.heartbeatMs);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}

/** Hooks that log a wait (WARN on the first attempt, then every 10th) and report it. */
export function loggingHooks(
  log: Logger,
  report: (waitingFor: WaitingFor, seconds: number) => void,
  onRecovered: (waitingFor: WaitingFor) => void,
): RetryHooks {
  return {
    waiting(waitingFor, seconds, error, attempt) {
      report(waitingFor, seconds);
      if (attempt === 1 || attempt % 10 === 0) {
        const fields = { err: error, waitingFor, attempt, retryInSeconds: Number(seconds.toFixed(2)) };
        if (waitingFor === 'internal') log.error(fields, 'unexpected failure; the unit is retried, no record is lost');
        else log.warn(fields, `waiting for ${waitingFor}; consumption paused, retrying`);
      }
    },
    recovered(waitingFor, attempts, back) {
      onRecovered(waitingFor);
      if (back) log.info({ waitingFor, attempts }, `${waitingFor} is back; consumption resumed`);
    },
  };
}
