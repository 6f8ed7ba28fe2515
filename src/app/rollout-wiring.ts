// The scorer's side of a rollout: the model reload, the marks that keep each partition
// decided by the models in force (partition-decisions.ts), the rollout applied before the
// group is joined, then followed (rollout-loop.ts), and what this process serves reported
// every check interval so the `models` commands start from what runs (core/experiments/serving.ts).
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Metrics } from '../adapters/metrics/definitions.js';
import type { DecidedBy } from '../core/experiments/decided-by.js';
import {
  describeServing,
  GONE_REPORT_MS,
  reportMaxAgeMs,
  type Serving,
  servingView,
} from '../core/experiments/serving.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { type ModelRegistry, versionsOf } from './model-registry.js';
import { createModelReload, type ExperimentHolder, modelsLabel, pairLabel, wantedOf } from './model-reload.js';
import { partitionDecisions } from './partition-decisions.js';
import type { PartitionLocks } from './partition-locks.js';
import { type Repeating, repeat } from './repeat.js';
import { followRollout, type RolloutFollower } from './rollout-loop.js';
import type { DecidedByStore, RolloutStore } from './scorer/ports.js';
import { within } from './startup.js';
import { UserError } from './user-error.js';

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
  // The revision being applied: its rescoring is caused by it, before it counts as applied.
  let applying: number | null = null;
  const now = (): DecidedBy => {
    const challenger = models.current.challenger;
    return {
      models: modelsLabel(models),
      experiment: experiment.current,
      revision: applying ?? applied,
      deciding: {
        champion: pairLabel(versionsOf(models.current)),
        challenger: challenger == null ? null : pairLabel(versionsOf(challenger)),
      },
    };
  };
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
  const applyRevision = async (revision: number, wanted: ReturnType<typeof wantedOf>) => {
    applying = revision;
    try {
      return await reloadModels(wanted);
    } finally {
      applying = null;
    }
  };
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
  // Processes of one deployment configured differently give one customer two answers. A
  // disagreement seen on two checks in a row is real (a rollout change reaches processes a
  // check apart); it is said once, and kept in a gauge while it lasts.
  let seen = '';
  let said = '';
  const checkAgreement = (reports: readonly Serving[]) => {
    const view = servingView(reports, Date.now(), reportMaxAgeMs(config.rollout.checkIntervalMs));
    const now = view.kind === 'disagree' ? view.reports.map(describeServing).join('; ') : '';
    const lasting = now !== '' && now === seen;
    deps.metrics.rolloutDisagreement.set(lasting ? 1 : 0);
    if (lasting && now !== said)
      log.warn({ processes: now }, 'scorer processes serve different models or experiments: align their settings');
    if (lasting) said = now;
    if (now === '') said = '';
    seen = now;
  };
  let follower: RolloutFollower | null = null;
  // The report is a heartbeat of its own, not a step of the check: a check can take minutes
  // (a promotion rescores every customer), and a report that ages meanwhile reads as a stopped
  // process. Kept fresh, a killed process's report can be let go after a few intervals.
  let reporting: Repeating | null = null;
  const report = async () => {
    await deps.rollout.announce(serving());
    const reports = await deps.rollout.serving();
    const gone = reports.filter((r) => Date.now() - r.at > GONE_REPORT_MS);
    await Promise.all(gone.map((r) => deps.rollout.withdraw(r.process)));
    checkAgreement(reports);
  };
  return {
    reloadModels,
    /** The rollout revision in force here, or null: the settings decide (none stored). */
    applied: (): number | null => applied,
    /** Applies the stored rollout before the group is joined (Redis may be failing over: retried). */
    async applyStored(): Promise<void> {
      const stored = await within(config.startupTimeoutMs, 'cannot read the rollout from Redis', () =>
        deps.rollout.read(),
      );
      if (stored === null) return;
      const fromSettings = modelsLabel(models);
      const weightFromSettings = experiment.current?.challengerWeight ?? 0;
      try {
        await applyRevision(stored.revision, wantedOf(stored));
      } catch (error) {
        // The registry names the settings; here the stored rollout named the version.
        if (!(error instanceof UserError)) throw error;
        throw new UserError(
          `the rollout stored in Redis (revision ${stored.revision}; churnstream models log) names models this process cannot load: ${error.message}`,
        );
      }
      applied = stored.revision;
      // The operator's CHURNSTREAM_* model settings no longer decide: say so where they look first.
      const weight = experiment.current?.challengerWeight ?? 0;
      if (modelsLabel(models) !== fromSettings || weight !== weightFromSettings)
        log.warn(
          {
            revision: stored.revision,
            settings: { models: fromSettings, weight: weightFromSettings },
            rollout: { models: modelsLabel(models), weight },
          },
          'the rollout stored in Redis overrides the CHURNSTREAM_* model and weight settings (churnstream models log)',
        );
    },
    /** Follows the rollout from now on; every check also rescores what it must and reports what runs. */
    follow(owned: () => readonly number[]): void {
      assigned = owned;
      for (const state of ['stored', 'applied']) deps.metrics.rolloutRevision.set({ state }, applied ?? 0);
      follower = followRollout({
        store: deps.rollout,
        intervalMs: config.rollout.checkIntervalMs,
        apply: (next) => applyRevision(next.revision, wantedOf(next)),
        log,
        applied,
        onApplied: (revision) => {
          applied = revision;
        },
        onRead: (stored) => {
          deps.metrics.rolloutRevision.set({ state: 'stored' }, stored ?? 0);
          deps.metrics.rolloutRevision.set({ state: 'applied' }, applied ?? 0);
        },
        afterCheck: async () => {
          await decisions.reconcileAll();
        },
      });
      reporting = repeat(
        config.rollout.checkIntervalMs,
        report,
        log,
        'what this process serves is not reported; retried',
      );
    },
    async stop(): Promise<void> {
      await Promise.all([follower?.stop(), reporting?.stop()]);
      await deps.rollout.withdraw(process_).catch(() => undefined);
    },
  };
}
