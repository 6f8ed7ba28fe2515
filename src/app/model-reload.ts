// Model reload (SIGHUP, a rollout change, or a call): loads the wanted versions (default:
// configured or newest, or what the rollout in Redis says) with the challenger, and:
// when the models differ from the active ones, rescores every timed customer of the owned
// partitions with trigger "model_change"; when only the experiment's weight changed,
// rescores only the customers whose variant moved. A model that fails validation leaves
// the active ones in place and says which file is wrong.
import type { Metrics } from '../adapters/metrics/definitions.js';
import type { Experiment } from '../core/experiments/assignment.js';
import type { Rollout } from '../core/experiments/rollout.js';
import { recalibratedVersion } from '../core/monitoring/recalibration.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { type ModelRegistry, versionsOf, type WantedVersions } from './model-registry.js';

export interface WantedModels extends WantedVersions {
  /** The challenger's share of customers (0..1); unset: unchanged. */
  readonly weight?: number;
}

/** The experiment in force (its weight follows the rollout); read by the scoring context. */
export interface ExperimentHolder {
  current: Experiment | null;
}

/**
 * Sets churnstream_model_info, churnstream_model_role, churnstream_rules_fallback, and
 * churnstream_rollout_weight: the weight asked (rollout or settings) and the one served here.
 */
export function describeModels(
  metrics: Metrics,
  models: ModelRegistry,
  experiment: Experiment | null = null,
  asked: number = experiment?.challengerWeight ?? 0,
): void {
  const versions = versionsOf(models.current);
  metrics.modelInfo.reset();
  metrics.modelInfo.set({ kind: 'churn', version: versions.churn }, 1);
  metrics.modelInfo.set({ kind: 'ltv', version: versions.ltv }, 1);
  metrics.rulesFallback.set({ kind: 'churn' }, models.current.churn === null ? 1 : 0);
  metrics.rulesFallback.set({ kind: 'ltv' }, models.current.ltv === null ? 1 : 0);
  metrics.modelRole.reset();
  const challenger = models.current.challenger;
  const weight = challenger == null ? 0 : (experiment?.challengerWeight ?? 0);
  metrics.rolloutWeight.set({ state: 'asked' }, challenger == null ? 0 : asked);
  metrics.rolloutWeight.set({ state: 'served' }, weight);
  for (const kind of ['churn', 'ltv'] as const) {
    // A kind the challenger does not bring its own model for is the champion's for everyone.
    const own = challenger != null && versionsOf(challenger)[kind] !== versions[kind];
    metrics.modelRole.set({ kind, role: 'champion', version: versions[kind] }, own ? 1 - weight : 1);
    if (own && challenger != null)
      metrics.modelRole.set({ kind, role: 'challenger', version: versionsOf(challenger)[kind] }, weight);
  }
}

/** Sets churnstream_model_recalibration_error from the recalibrations in force (held-out figures). */
export function describeCalibrations(metrics: Metrics, calibrations: WantedModels['calibrations']): void {
  metrics.modelRecalibration.reset();
  for (const [version, calibration] of Object.entries(calibrations ?? {})) {
    const model_version = recalibratedVersion(version, calibration.revision);
    metrics.modelRecalibration.set({ model_version, stage: 'before' }, calibration.heldOut.before);
    metrics.modelRecalibration.set({ model_version, stage: 'after' }, calibration.heldOut.after);
  }
}

/** The versions and weight a rollout asks for (null: newest / the champion's). */
export const wantedOf = (rollout: Rollout): WantedModels => ({
  churn: rollout.champion.churn ?? undefined,
  ltv: rollout.champion.ltv ?? undefined,
  challenger:
    rollout.challenger === null
      ? null
      : { churn: rollout.challenger.churn ?? undefined, ltv: rollout.challenger.ltv ?? undefined },
  weight: rollout.weight,
  calibrations: rollout.calibrations,
});

/** What the settings ask for, before any rollout was written. */
export const configuredModels = (config: Config): WantedModels => {
  const { challengerChurn, challengerLtv, weight } = config.rollout;
  return {
    churn: config.models.churnVersion ?? undefined,
    ltv: config.models.ltvVersion ?? undefined,
    challenger:
      challengerChurn === null && challengerLtv === null
        ? null
        : { churn: challengerChurn ?? undefined, ltv: challengerLtv ?? undefined },
    weight,
  };
};

/** Champion and challenger versions, as one label (logs, and the rescoring's cause). */
export function modelsLabel(models: ModelRegistry): string {
  const challenger = models.current.challenger;
  const champion = pairLabel(versionsOf(models.current));
  return challenger == null ? champion : `${champion}+${pairLabel(versionsOf(challenger))}`;
}

/** One model pair's versions as `<churn>/<ltv>`. */
export const pairLabel = (v: { readonly churn: string; readonly ltv: string }): string => `${v.churn}/${v.ltv}`;

export function createModelReload(options: {
  readonly config: Config;
  readonly models: ModelRegistry;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly experiment: ExperimentHolder;
  /** Rescores the owned partitions not decided by what runs now (partition-decisions.ts). */
  readonly reconcileAll: () => Promise<number>;
}) {
  const { config, models, metrics, log, experiment } = options;
  // What a bare reload (SIGHUP) asks for: the settings, or the latest rollout applied.
  let baseline = configuredModels(config);
  return async (wanted: WantedModels = baseline): Promise<{ changed: boolean; rescored: number }> => {
    const before = modelsLabel(models);
    const experimentBefore = experiment.current;
    models.loadDefaults(wanted);
    baseline = wanted;
    const named = config.rollout.experiment;
    const weight = models.current.challenger == null ? 0 : (wanted.weight ?? experimentBefore?.challengerWeight ?? 0);
    experiment.current = named === null ? null : { ...named, challengerWeight: weight };
    // The rollout gives the challenger customers this process cannot assign: say so, each time.
    if (named === null && weight > 0)
      log.warn(
        { weight },
        'the rollout gives the challenger a weight but CHURNSTREAM_EXPERIMENT is not set here: the champion decides every customer of this process',
      );
    describeModels(metrics, models, experiment.current, weight);
    describeCalibrations(metrics, wanted.calibrations);
    const after = modelsLabel(models);
    // The weight in effect: without an experiment here, none moves (whatever the rollout says).
    const weightBefore = experimentBefore?.challengerWeight ?? 0;
    const weightAfter = experiment.current?.challengerWeight ?? 0;
    if (after !== before) log.info({ before, after }, 'models swapped; rescoring customers with trigger model_change');
    else if (weightAfter !== weightBefore)
      log.info(
        { before: weightBefore, after: weightAfter },
        "challenger's weight changed; rescoring the customers it moves",
      );
    else return { changed: false, rescored: 0 };
    // Each owned partition is rescored by what its mark says changed (partitions owned later are on assignment).
    return { changed: true, rescored: await options.reconcileAll() };
  };
}
