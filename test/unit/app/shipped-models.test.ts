// The models a fresh clone ships (models/, from training/run.sh) load, validate and score.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { activeSpec, ModelRegistry } from '../../../src/app/model-registry.js';
import { churnResult, ltvResult } from '../../../src/core/decisions/results.js';
import { featuresAt } from '../../../src/core/features/extract.js';
import { FEATURE_NAMES } from '../../../src/core/features/names.js';
import { calibrate } from '../../../src/core/models/artifacts.js';
import { scoreChurn, scoreLtv } from '../../../src/core/models/scoring.js';
import { emptyState, foldEvent } from '../../../src/core/state/customer-state.js';
import { DAY_MS } from '../../../src/core/time.js';

const root = new URL('../../../models/', import.meta.url).pathname;

describe('shipped models', () => {
  const registry = new ModelRegistry(root);
  const models = registry.loadDefaults();

  it('load with their fitted feature spec', () => {
    expect(models.churn?.config.version).toBe('v1');
    expect(models.ltv?.config.version).toBe('v1');
    expect(activeSpec(models).version).toBe(models.churn?.config.feature_spec_version);
    expect(models.churn?.model.featureNames).toEqual(FEATURE_NAMES);
  });

  it('ship metadata with out-of-time metrics, exact TypeScript parity and reference distributions', () => {
    const metadata = JSON.parse(readFileSync(`${root}churn/v1/metadata.json`, 'utf8')) as {
      metrics: { model: { auc: number } };
      typescript_parity: { rows: number; raw_bit_exact: number };
    };
    expect(metadata.metrics.model.auc).toBeGreaterThan(0.6);
    expect(metadata.typescript_parity.raw_bit_exact).toBe(metadata.typescript_parity.rows);
    const reference = JSON.parse(readFileSync(`${root}churn/v1/reference.json`, 'utf8')) as {
      features: Record<string, { edges: number[]; shares: number[] }>;
      score: { edges: number[]; shares: number[] };
    };
    expect(Object.keys(reference.features)).toEqual([...FEATURE_NAMES]);
    expect(reference.score.edges).toHaveLength(9);
  });

  it('rank a lapsed customer above a loyal one', () => {
    const spec = activeSpec(models);
    const t0 = Date.UTC(2011, 0, 3);
    const customer = (gaps: number[]) => {
      const state = emptyState();
      let day = 0;
      gaps.forEach((gap, i) => {
        day += gap;
        foldEvent(
          state,
          {
            customerId: 'c',
            orderId: `o${i}`,
            eventTime: t0 + day * DAY_MS,
            type: 'order',
            amount: 300,
            currency: 'GBP',
            itemCount: 100,
            originalOrderId: null,
          },
          spec.retention,
        );
      });
      return featuresAt(state, t0 + 200 * DAY_MS, spec);
    };
    const loyal = scoreChurn(models.churn, customer([20, 20, 20, 20, 20, 20, 20, 20, 20, 20]), true);
    const lapsed = scoreChurn(models.churn, customer([5, 10]), true);
    expect(lapsed.probability).toBeGreaterThan(loyal.probability);
    const result = churnResult(lapsed);
    expect(result.risk_factors.length).toBeGreaterThan(0);
    expect(result.is_rules_fallback).toBe(false);
    const ltv = ltvResult(scoreLtv(models.ltv, customer([20, 20, 20]), loyal.probability, 180));
    expect(ltv.prediction_window_months).toBe(12);
    expect(models.ltv?.config.window_days).toBe(365);
    expect(ltv.predicted_ltv).toBeGreaterThan(0);
    // The 12-month hurdle model has its own P(no spend): the 90-day churn probability does not enter.
    expect(scoreLtv(models.ltv, customer([20, 20, 20]), 0.9, 180).value).toBe(ltv.predicted_ltv);
  });

  it("the churn model's calibration keeps the ranking: distinct raw probabilities stay distinct and in order (generated)", () => {
    const calibration = models.churn?.config.calibration;
    expect(calibration).toBeDefined();
    if (calibration === undefined) return;
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1e-9, max: 1, noNaN: true }),
        (p, gap) => {
          const q = Math.min(p + gap, 1);
          fc.pre(q - p >= 1e-9);
          expect(calibrate(calibration, q)).toBeGreaterThan(calibrate(calibration, p));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
