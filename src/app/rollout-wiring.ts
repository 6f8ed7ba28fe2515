// The scorer's side of a rollout: the model reload, the marks that keep each partition
// decided by the models in force (partition-decisions.ts), the rollout applied before the
// group is joined, then followed (rollout-loop.ts), and what this process serves reported
// on every check so the `models` commands start from what runs (core/experiments/serving.ts).
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Metrics } from '../adapters/metrics/definitions.js';
import type { DecidedBy } from '../core/experiments/decided-by.js';
import type { Serving } from '../core/experiments/serving.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { type ModelRegistry, versionsOf } from './model-registry.js';
import { createModelReload, type ExperimentHolder, modelsLabel, wantedOf } from './model-reload.js';
import { partitionDecisions } from './partition-decisions.js';
import type { PartitionLocks } from './partition-locks.js';
import { followRollout, type RolloutFollower } from './rollout-loop.js';
import type { DecidedByStore, RolloutStore } from './scorer/ports.js';
import { within } from './startup.js';

export function createRolloutWiring(deps: {
  readonly config: Config;
  readonly models: ModelRegistry;
  readonly experiment: ExperimentHolder;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
  readonly locks: PartitionLocks;
  readonly rollout: RolloutStore;
  readonly decidedBy: DecidedByStore;
  readonly rescore: (partition: number, cause: string, only?: (customerId: string) => boolean) => Promise<number>;
}) {
  const { config, models, experiment, log } = deps;
  const process_ = `${hostname()}:${process.pid}`;
  let assigned: () => readonly number[] = () => [];
  let applied: number | null = null;
  const now = (): DecidedBy => ({ models: modelsLabel(models), experiment: experiment.current });
  const decisions = partitionDecisions({
    store: deps.decidedBy,
    locks: deps.locks,
    assigned: () => assigned(),
    now,
    clockReady: (partition) => Number.isFinite(deps.clock.now(partition)),
    rescore: deps.rescore,
    log,
  });
  const reloadModels = createModelReload({ ...deps, reconcileAll: () => decisions.reconcileAll() });
  const serving = (): Serving => {
    const challenger = models.current.challenger;
    const named = config.rollout.experiment;
    return {
      process: process_,
      at: Date.now(),
      revision: applied,
      champion: versionsOf(models.current),
      challenger: challenger == null ? null : versionsOf(challenger),
      experiment:
        named === null
          ? null
          : { name: named.name, saltDigest: createHash('sha256').update(named.salt).digest('hex').slice(0, 12) },
      weight: experiment.current?.challengerWeight ?? 0,
    };
  };
  let follower: RolloutFollower | null = null;
  return {
    reloadModels,
    /** Applies the stored rollout before the group is joined (Redis may be failing over: retried). */
    async applyStored(): Promise<void> {
      const stored = await within(config.startupTimeoutMs, 'cannot read the rollout from Redis', () =>
        deps.rollout.read(),
      );
      if (stored === null) return;
      await reloadModels(wantedOf(stored));
      applied = stored.revision;
    },
    /** Follows the rollout from now on; every check also rescores what it must and reports what runs. */
    follow(owned: () => readonly number[]): void {
      assigned = owned;
      follower = followRollout({
        store: deps.rollout,
        intervalMs: config.rollout.checkIntervalMs,
        apply: (next) => reloadModels(wantedOf(next)),
        log,
        applied,
        onApplied: (revision) => {
          applied = revision;
        },
        afterCheck: async () => {
          await decisions.reconcileAll();
          await deps.rollout.announce(serving()).catch((error: unknown) => {
            log.debug({ err: error }, 'serving report not written (Redis)');
          });
        },
      });
    },
    async stop(): Promise<void> {
      await follower?.stop();
      await deps.rollout.withdraw(process_).catch(() => undefined);
    },
  };
}
