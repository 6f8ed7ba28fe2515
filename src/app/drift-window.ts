// Drift of the scored population against the active churn model's training reference
// (PSI per feature and of the score, over the recent scorings). A new model starts a new
// window: its reference is another distribution.
import type { Metrics } from '../adapters/metrics/definitions.js';
import { FEATURE_NAMES } from '../core/features/names.js';
import { DriftMonitor } from '../core/monitoring/drift.js';
import type { ModelRegistry } from './model-registry.js';

export function driftWindow(metrics: Metrics, models: ModelRegistry): () => DriftMonitor | null {
  const fresh = () => {
    const reference = models.current.churn?.reference;
    return reference == null ? null : new DriftMonitor(reference, FEATURE_NAMES);
  };
  let drift = fresh();
  models.onChange(() => {
    drift = fresh();
  });
  metrics.drift(() =>
    drift === null ? null : { features: drift.featurePsi(), score: drift.scorePsi(), window: drift.size },
  );
  return () => drift;
}
