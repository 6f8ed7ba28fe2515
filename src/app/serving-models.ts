// The models a scorer process starts with, and the scoring context every pass reads them
// through: loaded once before any dependency is contacted (a challenger that does not load
// or reads other features is a configuration error, exit 2), then swapped in place by
// model-reload.ts while `context()` keeps returning whatever is current.
import { fromPackageRoot } from '../adapters/files/package-root.js';
import type { Metrics } from '../adapters/metrics/definitions.js';
import { type ScoringContext, scoringContextFor } from '../core/step/customer-step.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { activeSpec, ModelRegistry, versionsOf } from './model-registry.js';
import { configuredModels, describeModels, type ExperimentHolder } from './model-reload.js';

export interface ServingModels {
  readonly models: ModelRegistry;
  readonly experiment: ExperimentHolder;
  /** The scoring context of the models and experiment in force at the time of the call. */
  readonly context: () => ScoringContext;
}

export function loadServingModels(config: Config, metrics: Metrics, log: Logger): ServingModels {
  if (config.models.dir === null) log.info('CHURNSTREAM_MODELS_DIR not set: using the shipped models');
  const models = new ModelRegistry(config.models.dir ?? fromPackageRoot('models'), log);
  models.loadDefaults(configuredModels(config));
  const settings = config.rollout.experiment;
  const experiment: ExperimentHolder = {
    current:
      settings === null
        ? null
        : { ...settings, challengerWeight: models.current.challenger == null ? 0 : config.rollout.weight },
  };
  describeModels(metrics, models, experiment.current, models.current.challenger == null ? 0 : config.rollout.weight);
  for (const kind of ['churn', 'ltv'] as const)
    if (models.current[kind] === null) log.warn({ kind }, `no ${kind} model in the models directory: rules fallback`);
  const challenger = models.current.challenger;
  log.info(
    {
      ...versionsOf(models.current),
      featureSpec: activeSpec(models.current).version,
      challenger: challenger == null ? null : versionsOf(challenger),
      experiment: settings === null ? null : settings.name,
      weight: experiment.current?.challengerWeight ?? 0,
    },
    'models loaded',
  );

  const context = () => {
    const active = models.current;
    return scoringContextFor(active.churn, active.ltv, activeSpec(active), {
      hysteresis: config.hysteresis,
      maxStalenessMs: config.timers.maxStalenessMs,
      // Rescore when time moves a feature across one of the churn model's splits.
      modelAwareTimers: true,
      challenger: active.challenger ?? null,
      experiment: experiment.current,
    });
  };
  return { models, experiment, context };
}
