// Keeps every owned partition's tiers decided by the models and experiment in force. Each
// partition carries a mark of what decided it (core/experiments/decided-by.ts); whenever the
// mark differs from what runs now, the partition is rescored (every customer after a model
// change, only the moved ones after an experiment change) and then marked. Run after every
// reload and on every rollout check, so a change made while no scorer ran, while another
// process owned the partition, or whose rescoring a crash cut short, still reaches the CRM.
import type { DecidedBy } from '../core/experiments/decided-by.js';
import { rescoreScope } from '../core/experiments/decided-by.js';
import type { Logger } from './logger.js';
import type { PartitionLocks } from './partition-locks.js';
import type { DecidedByStore } from './scorer/ports.js';

export interface PartitionDecisions {
  /** Rescores the partition if its mark differs from what runs now; the customers rescored. */
  reconcile(partition: number): Promise<number>;
  /** Every owned partition in turn; a failure is logged and retried on the next call. */
  reconcileAll(): Promise<number>;
}

export function partitionDecisions(deps: {
  readonly store: DecidedByStore;
  readonly locks: PartitionLocks;
  readonly assigned: () => readonly number[];
  readonly now: () => DecidedBy;
  /** False while the partition's clock is unknown (a replay's watermark not loaded yet): wait. */
  readonly clockReady: (partition: number) => boolean;
  readonly rescore: (partition: number, cause: string, only?: (customerId: string) => boolean) => Promise<number>;
  readonly log: Pick<Logger, 'info' | 'warn'>;
}): PartitionDecisions {
  const reconcile = (partition: number) =>
    deps.locks([partition], async () => {
      if (!deps.clockReady(partition)) return 0;
      const now = deps.now();
      const before = await deps.store.read(partition);
      const scope = rescoreScope(before, now);
      let rescored = 0;
      if (scope.kind !== 'none') {
        rescored = await deps.rescore(partition, scope.cause, scope.kind === 'moved' ? scope.only : undefined);
        deps.log.info({ partition, before, now: scope.cause, rescored }, 'partition rescored for the models in force');
      }
      // Marked only once the rescoring finished: a crash before this redoes it (same event ids).
      if (before === null || scope.kind !== 'none') await deps.store.save(partition, now);
      return rescored;
    });
  return {
    reconcile,
    async reconcileAll() {
      let rescored = 0;
      for (const partition of deps.assigned()) {
        // Let go meanwhile (a rebalance, a shutdown): not ours to rescore any more.
        if (!deps.assigned().includes(partition)) continue;
        try {
          rescored += await reconcile(partition);
        } catch (error) {
          deps.log.warn({ err: error, partition }, 'partition not checked against the models in force; retried');
        }
      }
      return rescored;
    },
  };
}
