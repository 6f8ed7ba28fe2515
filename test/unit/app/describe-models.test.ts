// The role and weight gauges a process exports for its models: the challenger's share by role,
// and the weight the rollout asks next to the one served here (apart without an experiment,
// which alert RolloutWeightNotServed watches).
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/adapters/metrics/definitions.js';
import { ModelRegistry } from '../../../src/app/model-registry.js';
import { describeModels } from '../../../src/app/model-reload.js';

const dir = new URL('../../fixtures/models/', import.meta.url).pathname;

async function gauges(experiment: { name: string; salt: string; challengerWeight: number } | null, asked: number) {
  const metrics = createMetrics();
  const models = new ModelRegistry(dir);
  models.loadDefaults({ churn: 't1', ltv: 't1', challenger: { churn: 't2' } });
  describeModels(metrics, models, experiment, asked);
  const values = async (name: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values.map((v) => [v.labels, v.value]);
  return { weight: await values('churnstream_rollout_weight'), role: await values('churnstream_model_role') };
}

describe('describeModels', () => {
  it('exports the weight asked and the weight served: equal with an experiment', async () => {
    const { weight, role } = await gauges({ name: 'ab', salt: 's', challengerWeight: 0.25 }, 0.25);
    expect(weight).toEqual([
      [{ state: 'asked' }, 0.25],
      [{ state: 'served' }, 0.25],
    ]);
    expect(role).toContainEqual([{ kind: 'churn', role: 'challenger', version: 't2' }, 0.25]);
    expect(role).toContainEqual([{ kind: 'churn', role: 'champion', version: 't1' }, 0.75]);
  });

  it('apart without an experiment: the rollout asks a weight this process cannot serve', async () => {
    const { weight, role } = await gauges(null, 0.5);
    expect(weight).toEqual([
      [{ state: 'asked' }, 0.5],
      [{ state: 'served' }, 0],
    ]);
    expect(role).toContainEqual([{ kind: 'churn', role: 'champion', version: 't1' }, 1]);
  });
});
