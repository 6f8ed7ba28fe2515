// Every scorer process follows the rollout in Redis (written by `churnstream models ...`):
// it reads it every CHURNSTREAM_ROLLOUT_CHECK_INTERVAL_MS and applies a new revision with
// the model reload (promote/rollback: every customer rescored; a weight change: only the
// customers whose variant moved). No restart, no signal to send to each process.
import type { Rollout } from '../core/experiments/rollout.js';
import type { Logger } from './logger.js';
import type { RolloutStore } from './scorer/ports.js';

export interface RolloutFollower {
  /** Reads the rollout once and applies it if it is new; resolves when done. */
  check(): Promise<void>;
  stop(): Promise<void>;
}

export function followRollout(options: {
  readonly store: Pick<RolloutStore, 'read'>;
  readonly intervalMs: number;
  readonly apply: (rollout: Rollout) => Promise<unknown>;
  readonly log: Pick<Logger, 'info' | 'error' | 'warn'>;
  /** The revision applied at start-up (before the group was joined), if any. */
  readonly applied: number | null;
  readonly onApplied?: (revision: number) => void;
  /** The revision read from Redis (null: none stored), every check. */
  readonly onRead?: (revision: number | null) => void;
  /** Runs after every check, whatever it found (its failures are the caller's to handle). */
  readonly afterCheck?: () => Promise<void>;
}): RolloutFollower {
  const { store, apply, log } = options;
  let applied = options.applied;
  // A revision that failed to apply is not retried on every tick (its error is logged once).
  let failed: number | null = null;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const once = async () => {
    let rollout: Rollout | null;
    try {
      rollout = await store.read();
    } catch (error) {
      log.warn({ err: error }, 'rollout not read (Redis); keeping the models in force');
      return;
    }
    options.onRead?.(rollout?.revision ?? null);
    if (rollout === null || rollout.revision === applied || rollout.revision === failed) return;
    try {
      await apply(rollout);
      applied = rollout.revision;
      options.onApplied?.(rollout.revision);
      log.info({ revision: rollout.revision, rollout }, 'rollout applied');
    } catch (error) {
      failed = rollout.revision;
      log.error({ err: error, revision: rollout.revision }, 'rollout not applied; keeping the models in force');
    }
  };
  const check = () => {
    running = running
      .then(once)
      .then(() => (stopped ? undefined : options.afterCheck?.()))
      .catch((error: unknown) => log.warn({ err: error }, 'rollout check incomplete; retried on the next one'));
    return running;
  };
  const tick = () => {
    if (stopped) return;
    void check().finally(() => {
      if (!stopped) timer = setTimeout(tick, options.intervalMs);
    });
  };
  timer = setTimeout(tick, options.intervalMs);
  return {
    check,
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
    },
  };
}
