// Model reload (SIGHUP, or a call): loads the wanted versions (default: configured or
// newest) and, when they differ from the active ones, rescores every timed customer of the
// owned partitions with trigger "model_change". A model that fails validation leaves the
// active one in place and says which file is wrong.
import type { Metrics } from '../adapters/metrics/definitions.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { type ModelRegistry, versionsOf } from './model-registry.js';

export interface WantedModels {
  readonly churn?: string;
  readonly ltv?: string;
}

/** Sets churnstream_model_info and churnstream_rules_fallback for the active models. */
export function describeModels(metrics: Metrics, models: ModelRegistry): void {
  const versions = versionsOf(models.current);
  metrics.modelInfo.reset();
  metrics.modelInfo.set({ kind: 'churn', version: versions.churn }, 1);
  metrics.modelInfo.set({ kind: 'ltv', version: versions.ltv }, 1);
  metrics.rulesFallback.set({ kind: 'churn' }, models.current.churn === null ? 1 : 0);
  metrics.rulesFallback.set({ kind: 'ltv' }, models.current.ltv === null ? 1 : 0);
}

export function createModelReload(options: {
  readonly config: Config;
  readonly models: ModelRegistry;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly assigned: () => readonly number[];
  /** Rescores one partition with trigger model_change; `versions` names the new models. */
  readonly rescorePartition: (partition: number, versions: string) => Promise<number>;
}) {
  const { config, models, metrics, log } = options;
  return async (wanted: WantedModels = {}): Promise<{ changed: boolean; rescored: number }> => {
    const label = () => {
      const v = versionsOf(models.current);
      return `${v.churn}/${v.ltv}`;
    };
    const before = label();
    models.loadDefaults({
      churn: wanted.churn ?? config.models.churnVersion ?? undefined,
      ltv: wanted.ltv ?? config.models.ltvVersion ?? undefined,
    });
    describeModels(metrics, models);
    const after = label();
    if (after === before) return { changed: false, rescored: 0 };
    log.info({ before, after }, 'models swapped; rescoring customers with trigger model_change');
    let rescored = 0;
    for (const partition of options.assigned()) rescored += await options.rescorePartition(partition, after);
    return { changed: true, rescored };
  };
}
