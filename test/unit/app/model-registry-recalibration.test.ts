// A churn version served with the stream's recalibration (from the rollout): its own version
// name (labels counted apart), the recalibrated probability, the threshold moved with the
// map (the same customers at risk), the order of scores kept; whatever role it plays.
import { describe, expect, it } from 'vitest';
import { ModelRegistry, versionsOf } from '../../../src/app/model-registry.js';
import { FEATURE_NAMES } from '../../../src/core/features/names.js';
import { scoreChurn } from '../../../src/core/models/scoring.js';
import { applyPlatt, type StreamCalibration } from '../../../src/core/monitoring/recalibration.js';

const fixtures = new URL('../../fixtures/models/', import.meta.url).pathname;
const calibration: StreamCalibration = {
  a: 0.8,
  b: -0.7,
  revision: 2,
  fittedOn: { version: 't1+cal1', labels: 900, churned: 300, positives: [], negatives: [] },
  heldOut: { before: 0.11, after: 0.03, folds: 5 },
};

/** Feature rows that reach different leaves (recency and frequency varied). */
const rows = Array.from({ length: 40 }, (_, i) => {
  const x = new Float64Array(FEATURE_NAMES.length);
  x[FEATURE_NAMES.indexOf('recency_days')] = (i * 17) % 400;
  x[FEATURE_NAMES.indexOf('frequency_orders')] = i % 9;
  x[FEATURE_NAMES.indexOf('monetary_spend')] = 20 * (i % 13);
  return x;
});

describe('recalibrated versions', () => {
  it('the champion: own version name, recalibrated probability, threshold moved, order kept', () => {
    const registry = new ModelRegistry(fixtures);
    const plain = registry.loadDefaults({ churn: 't1' }).churn;
    const served = registry.loadDefaults({ churn: 't1', calibrations: { t1: calibration } }).churn;
    if (plain === null || served === null) throw new Error('t1 must load');
    expect(served.config.version).toBe('t1+cal2');
    expect(served.config.threshold).toBeCloseTo(applyPlatt(calibration, plain.config.threshold), 12);
    const before = rows.map((x) => scoreChurn(plain, x, false).probability);
    const after = rows.map((x) => scoreChurn(served, x, false));
    after.forEach((score, i) => {
      expect(score.modelVersion).toBe('t1+cal2');
      expect(score.probability).toBeCloseTo(applyPlatt(calibration, before[i] as number), 12);
    });
    expect(new Set(before).size).toBeGreaterThan(3);
    for (let i = 0; i < rows.length; i += 1)
      for (let j = 0; j < rows.length; j += 1)
        if ((before[i] as number) < (before[j] as number))
          expect((after[i]?.probability as number) < (after[j]?.probability as number)).toBe(true);
  });

  it('maps the score drift reference with it (a recalibration is no score drift); features untouched', () => {
    const dir = new URL('../../fixtures/challenger/', import.meta.url).pathname;
    const registry = new ModelRegistry(dir);
    const plain = registry.loadDefaults({ churn: 'v1', ltv: 'v1' }).churn?.reference;
    const served = registry.loadDefaults({ churn: 'v1', ltv: 'v1', calibrations: { v1: calibration } }).churn
      ?.reference;
    if (plain == null || served == null) throw new Error('v1 ships reference.json');
    expect(plain.score.edges.length).toBeGreaterThan(3);
    expect(served.score.edges).toEqual(plain.score.edges.map((e) => (e > 0 && e < 1 ? applyPlatt(calibration, e) : e)));
    expect(served.score.shares).toEqual(plain.score.shares);
    expect(served.features).toEqual(plain.features);
  });

  it('the challenger too, and a version without a recalibration is served as shipped', () => {
    const registry = new ModelRegistry(fixtures);
    const models = registry.loadDefaults({
      churn: 't2',
      challenger: { churn: 't1' },
      calibrations: { t1: calibration },
    });
    expect(versionsOf(models).churn).toBe('t2');
    expect(models.challenger == null ? null : versionsOf(models.challenger).churn).toBe('t1+cal2');
  });
});
