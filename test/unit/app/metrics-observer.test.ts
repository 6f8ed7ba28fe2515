// The metrics observer: what the scorer reports becomes series; waits mark dependencies down.
import { describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../../src/adapters/metrics/definitions.js';
import { DependencyStatus, metricsObserver } from '../../../src/app/metrics-observer.js';
import type { RiskChangeRecord } from '../../../src/core/events/risk-change.js';

type Labelled = {
  get(): Promise<{ values: { labels: Partial<Record<string, string | number>>; value: number }[] }>;
};

async function series(metric: Labelled): Promise<Record<string, number>> {
  const { values } = await metric.get();
  return Object.fromEntries(
    values.map((v) => [
      Object.entries(v.labels)
        .map(([k, x]) => `${k}=${x}`)
        .join(','),
      v.value,
    ]),
  );
}

function observed(metrics: Metrics) {
  const status = new DependencyStatus(metrics);
  const observer = metricsObserver(metrics, () => null, { churn: new Set(), ltv: new Set() }, status);
  return { status, observer };
}

describe('metrics observer', () => {
  it('a wait marks its dependency down and counts the seconds; recovery marks it up', async () => {
    const metrics = createMetrics();
    const { status, observer } = observed(metrics);
    expect(await series(metrics.dependencyUp)).toEqual({
      'dependency=kafka': 1,
      'dependency=redis': 1,
      'dependency=registry': 1,
    });
    observer.waiting('redis', 0.1);
    observer.waiting('redis', 0.2);
    expect((await series(metrics.dependencyUp))['dependency=redis']).toBe(0);
    expect((await series(metrics.waitSeconds))['dependency=redis']).toBeCloseTo(0.3);
    expect(Object.keys(status.waitingFor())).toEqual(['redis']);
    status.recovered('redis');
    expect((await series(metrics.dependencyUp))['dependency=redis']).toBe(1);
    expect(status.waitingFor()).toEqual({});
  });

  it('an internal failure is reported as waited for, without a dependency_up series', async () => {
    const metrics = createMetrics();
    const { status, observer } = observed(metrics);
    observer.waiting('internal', 1);
    expect(Object.keys(status.waitingFor())).toEqual(['internal']);
    expect(Object.keys(await series(metrics.dependencyUp))).not.toContain('dependency=internal');
  });

  it('risk changes are counted per transition and trigger, summed in one call', async () => {
    const metrics = createMetrics();
    const { observer } = observed(metrics);
    const change = (from: string | null, to: string, trigger: string) =>
      ({ previous_risk_level: from, risk_level: to, trigger }) as unknown as RiskChangeRecord;
    observer.riskChanges([
      change(null, 'medium', 'order'),
      change(null, 'medium', 'order'),
      change('medium', 'high', 'timer'),
    ]);
    expect(await series(metrics.riskChanges)).toEqual({
      'from=none,to=medium,trigger=order': 2,
      'from=medium,to=high,trigger=timer': 1,
    });
  });

  it('dead letters and outcomes are counted by label with the given counts', async () => {
    const metrics = createMetrics();
    const { observer } = observed(metrics);
    observer.deadLettered('invalid_amount', 3);
    observer.deadLettered('invalid_amount', 2);
    observer.applied('duplicate', 4);
    expect(await series(metrics.deadLetters)).toEqual({ 'reason=invalid_amount': 5 });
    expect(await series(metrics.applied)).toEqual({ 'outcome=duplicate': 4 });
  });
});
