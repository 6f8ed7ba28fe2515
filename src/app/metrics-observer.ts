// The scorer's observer: what the unit handler and the passes report becomes Prometheus
// series (counters summed by the caller, so each call here is one increment per label set)
// and the drift window. Also keeps which dependencies the scorer is waiting for, which
// /readyz and churnstream_dependency_up report.
import type { Metrics } from '../adapters/metrics/definitions.js';
import type { DriftMonitor } from '../core/monitoring/drift.js';
import type { WaitingFor } from './scorer/failures.js';
import type { ScorerObserver } from './scorer/ports.js';

/** Dependencies the scorer is currently waiting for (a unit paused on a transient failure). */
export class DependencyStatus {
  private readonly down = new Map<WaitingFor, number>();
  private readonly metrics: Metrics;

  constructor(metrics: Metrics) {
    this.metrics = metrics;
    for (const dependency of ['kafka', 'redis', 'registry'] as const) metrics.dependencyUp.set({ dependency }, 1);
  }

  failed(dependency: WaitingFor): void {
    if (!this.down.has(dependency)) this.down.set(dependency, Date.now());
    if (dependency !== 'internal') this.metrics.dependencyUp.set({ dependency }, 0);
  }

  recovered(dependency: WaitingFor): void {
    this.down.delete(dependency);
    if (dependency !== 'internal') this.metrics.dependencyUp.set({ dependency }, 1);
  }

  /** What the scorer waits for, with the time since it started waiting (ISO). */
  waitingFor(): Record<string, string> {
    return Object.fromEntries([...this.down].map(([dependency, since]) => [dependency, new Date(since).toISOString()]));
  }
}

export interface ObservedVersions {
  /** Model versions that resolved labels in this process (their health series are exported). */
  readonly churn: Set<string>;
  readonly ltv: Set<string>;
}

export function metricsObserver(
  metrics: Metrics,
  drift: () => DriftMonitor | null,
  versions: ObservedVersions,
  status: DependencyStatus,
): ScorerObserver {
  return {
    consumed: (partition, count) => metrics.consumed.inc({ partition: String(partition) }, count),
    deadLettered: (reason, count) => metrics.deadLetters.inc({ reason }, count),
    applied: (outcome, count) => metrics.applied.inc({ outcome }, count),
    riskChanges: (records) => {
      const counts = new Map<string, { from: string; to: string; trigger: string; count: number }>();
      for (const r of records) {
        const from = r.previous_risk_level ?? 'none';
        const key = `${from}>${r.risk_level}>${r.trigger}`;
        const entry = counts.get(key);
        if (entry === undefined) counts.set(key, { from, to: r.risk_level, trigger: r.trigger, count: 1 });
        else entry.count += 1;
      }
      for (const { from, to, trigger, count } of counts.values()) metrics.riskChanges.inc({ from, to, trigger }, count);
    },
    scored: (features, probability) => {
      metrics.churnProbability.observe(probability);
      drift()?.add(features, probability);
    },
    labelsResolved: (labels) => {
      for (const label of labels) {
        versions.churn.add(label.modelVersion);
        metrics.labelsResolved.inc({
          model_version: label.modelVersion,
          label: label.churned ? 'churned' : 'retained',
        });
      }
    },
    ltvLabelsResolved: (labels) => {
      for (const label of labels) {
        versions.ltv.add(label.modelVersion);
        metrics.ltvLabelsResolved.inc({ model_version: label.modelVersion });
      }
    },
    stateConflict: () => metrics.conflicts.inc(),
    timerFired: (count) => {
      if (count > 0) metrics.timerEvaluations.inc(count);
    },
    batchDone: (partition, seconds) => metrics.batchSeconds.observe({ partition: String(partition) }, seconds),
    eventProcessed: (eventTime) => metrics.endToEndSeconds.observe(Math.max(0, (Date.now() - eventTime) / 1000)),
    redisCall: (operation, seconds) => metrics.redisSeconds.observe({ operation }, seconds),
    waiting: (dependency, seconds) => {
      status.failed(dependency as WaitingFor);
      metrics.waitSeconds.inc({ dependency }, seconds);
    },
  };
}
