// What /metrics reads from Redis at scrape time: model health per version (from the
// shared label statistics) and the timer backlog of the owned partitions. Each read is
// guarded (scrape-sources.ts), so a Redis outage leaves these series out, never /metrics.
import type { Metrics } from '../adapters/metrics/definitions.js';
import { isEmptyLabelStats } from '../core/monitoring/calibration.js';
import { compareAuc } from '../core/monitoring/comparison.js';
import { baseVersion } from '../core/monitoring/recalibration.js';
import type { Clock } from './clock.js';
import type { ObservedVersions } from './metrics-observer.js';
import { type ModelRegistry, versionsOf } from './model-registry.js';
import type { ComparisonStore, ModelHealthStore, TimerIndex } from './scorer/ports.js';
import { guardedRead } from './scrape-sources.js';

export function healthReaders(
  metrics: Metrics,
  deps: {
    readonly health: ModelHealthStore;
    readonly comparisons: ComparisonStore;
    readonly timers: TimerIndex;
    readonly clock: Clock;
    readonly models: ModelRegistry;
    readonly seen: ObservedVersions;
    readonly assigned: () => readonly number[];
  },
): void {
  const { health, comparisons, timers, clock, models, seen } = deps;
  // The versions in force: the champion's and, while one runs, the challenger's.
  const current = (kind: 'churn' | 'ltv') => {
    const challenger = models.current.challenger;
    return [versionsOf(models.current)[kind], ...(challenger == null ? [] : [versionsOf(challenger)[kind]])];
  };
  // The active version's series are shown from the first scrape (another process may have
  // resolved its labels), with every version this process resolved labels for.
  metrics.modelHealth(
    guardedRead(metrics, 'redis', async () => {
      // A recalibrated version (v1+cal2) resolves labels of its own only a window later; its base
      // version's series go on meanwhile: the same ranking, so the same AUC and lift.
      const inForce = current('churn');
      const wanted = new Set([...seen.churn, ...inForce, ...inForce.map(baseVersion)]);
      const entries = await Promise.all([...wanted].map(async (v) => [v, await health.labelStats(v)] as const));
      return new Map(entries.filter(([, stats]) => !isEmptyLabelStats(stats)));
    }),
  );
  metrics.ltvHealth(
    guardedRead(metrics, 'redis', async () => {
      const wanted = new Set([...seen.ltv, ...current('ltv')]);
      const entries = await Promise.all([...wanted].map(async (v) => [v, await health.ltvLabels(v)] as const));
      return new Map(entries.filter(([, pairs]) => pairs.length > 0));
    }),
  );
  metrics.modelComparison(
    guardedRead(metrics, 'redis', async () => {
      const [champion, challenger] = current('churn');
      if (challenger === undefined || challenger === champion) return new Map();
      let comparison = compareAuc(await comparisons.pairStats(champion as string, challenger));
      // After a recalibration (same ranking), the pairs scored before it count while they are more.
      const [a, b] = [baseVersion(champion as string), baseVersion(challenger)];
      if (a !== champion || b !== challenger) {
        const before = compareAuc(await comparisons.pairStats(a, b));
        if (before.positives + before.negatives > comparison.positives + comparison.negatives) comparison = before;
      }
      return new Map([[`${champion}|${challenger}`, { ...comparison, champion: champion as string, challenger }]]);
    }),
  );
  metrics.timerBacklog(
    guardedRead(metrics, 'redis', async () => {
      const partitions = deps.assigned();
      const counts = await Promise.all(partitions.map((p) => timers.backlog(p, clock.now(p))));
      return new Map(partitions.map((p, i) => [p, counts[i] ?? 0]));
    }),
  );
}
