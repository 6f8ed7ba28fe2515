// Loading, validating and swapping model artifacts in the models/<kind>/<version>
// layout, and scoring with them (fixtures: training/golden/make_registry_fixtures.py).
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../../src/app/model-registry.js';
import { churnResult, ltvResult } from '../../../src/core/decisions/results.js';
import { featuresAt } from '../../../src/core/features/extract.js';
import { DEFAULT_FEATURE_SPEC } from '../../../src/core/features/spec.js';
import { scoreChurn, scoreLtv } from '../../../src/core/models/scoring.js';
import { emptyState, foldEvent } from '../../../src/core/state/customer-state.js';
import { DAY_MS } from '../../../src/core/time.js';

const fixtures = new URL('../../fixtures/models/', import.meta.url).pathname;

const customerFeatures = () => {
  const state = emptyState();
  const t0 = Date.UTC(2025, 0, 1);
  for (let i = 0; i < 4; i += 1) {
    foldEvent(
      state,
      {
        customerId: 'c',
        orderId: `o${i}`,
        eventTime: t0 + i * 20 * DAY_MS,
        type: 'order',
        amount: 40 + i,
        currency: 'GBP',
        itemCount: 2,
        originalOrderId: null,
      },
      DEFAULT_FEATURE_SPEC.retention,
    );
  }
  return featuresAt(state, t0 + 200 * DAY_MS, DEFAULT_FEATURE_SPEC);
};

describe('model registry', () => {
  it('lists versions in natural order and loads the newest usable ones', () => {
    const registry = new ModelRegistry(fixtures);
    expect(registry.versions('churn')).toEqual(['bad-features', 't1', 't2']);
    const models = registry.loadDefaults({ churn: 't2' });
    expect(models.churn?.config.version).toBe('t2');
    expect(models.ltv?.config.version).toBe('t1');
  });

  it('refuses a model whose features the spec does not compute, naming them, and keeps the active one', () => {
    const registry = new ModelRegistry(fixtures);
    registry.loadDefaults({ churn: 't1' });
    expect(() => registry.activate('churn', 'bad-features')).toThrow(/missing features .*\[f0, f1, f2\]/);
    expect(registry.current.churn?.config.version).toBe('t1');
  });

  it('swaps versions at runtime and tells listeners', () => {
    const registry = new ModelRegistry(fixtures);
    registry.loadDefaults({ churn: 't1' });
    const seen: string[] = [];
    registry.onChange((models) => seen.push(models.churn?.config.version ?? 'none'));
    registry.activate('churn', 't2');
    expect(seen).toEqual(['t2']);
    expect(registry.current.churn?.config.version).toBe('t2');
  });

  it('rejects broken configs with the file and field', () => {
    const root = mkdtempSync(join(tmpdir(), 'models-'));
    cpSync(fixtures, root, { recursive: true });
    writeFileSync(
      join(root, 'churn', 't1', 'config.json'),
      JSON.stringify({ kind: 'churn', version: 't1', threshold: 2 }),
    );
    expect(() => new ModelRegistry(root).activate('churn', 't1')).toThrow(
      /config\.json: .*feature_names.*threshold|threshold/,
    );
  });

  it('scores with models: churn with reasons from TreeSHAP, LTV with a two-part interval', () => {
    const models = new ModelRegistry(fixtures).loadDefaults({ churn: 't1' });
    const features = customerFeatures();
    const churn = scoreChurn(models.churn, features, true);
    expect(churn.isRulesFallback).toBe(false);
    expect(churn.modelVersion).toBe('t1');
    expect(churn.probability).toBeGreaterThan(0);
    expect(churn.probability).toBeLessThan(1);
    expect(churn.reasons.length).toBeGreaterThan(0);
    expect(churn.reasons.length).toBeLessThanOrEqual(4);
    const result = churnResult(churn);
    expect(result.model_version).toBe('t1');
    const ltv = ltvResult(scoreLtv(models.ltv, features, churn.probability, 180));
    expect(ltv.predicted_ltv).toBeGreaterThan(0);
    expect(ltv.confidence_interval.low).toBeLessThanOrEqual(ltv.predicted_ltv);
    expect(ltv.confidence_interval.high).toBeGreaterThan(ltv.predicted_ltv);
    expect(ltv.prediction_window_months).toBe(12);
  });

  it('falls back to rules, clearly marked, when no model is loaded', () => {
    const features = customerFeatures();
    const churn = churnResult(scoreChurn(null, features, true));
    expect(churn).toMatchObject({ model_version: 'rules_v1', is_rules_fallback: true, confidence: 'low' });
    const ltv = ltvResult(scoreLtv(null, features, 0.3, 180));
    expect(ltv.is_rules_fallback).toBe(true);
  });
});
