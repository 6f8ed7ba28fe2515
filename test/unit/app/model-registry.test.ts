// Loading, validating and swapping model artifacts in the models/<kind>/<version>
// layout, and scoring with them (fixtures: training/golden/make_registry_fixtures.py).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../../src/app/model-registry.js';
import { churnResult, ltvResult } from '../../../src/core/decisions/results.js';
import { RULES_VERSION } from '../../../src/core/decisions/rules.js';
import { featuresAt } from '../../../src/core/features/extract.js';
import { FEATURE_NAMES } from '../../../src/core/features/names.js';
import { DEFAULT_FEATURE_SPEC } from '../../../src/core/features/spec.js';
import { ltvLabelHorizonMs, scoreChurn, scoreLtv } from '../../../src/core/models/scoring.js';
import { emptyState, foldEvent } from '../../../src/core/state/customer-state.js';
import { DAY_MS } from '../../../src/core/time.js';

const fixtures = new URL('../../fixtures/models/', import.meta.url).pathname;
const shipped = new URL('../../../models/', import.meta.url).pathname;

/** A pino logger as the service has, its JSON lines kept for the test. */
const capturingLogger = () => {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ base: null, timestamp: false }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
};

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
    expect(registry.versions('ltv')).toEqual(['t1']);
    const models = registry.loadDefaults({ churn: 't2' });
    expect(models.churn?.config.version).toBe('t2');
    expect(models.churn?.config.feature_names).toEqual(FEATURE_NAMES);
    expect(models.churn?.config.calibration).toEqual({ method: 'platt', a: 1, b: 0 });
    expect(models.churn?.spec.version).toBe('default-1');
    expect(models.ltv?.config).toMatchObject({
      version: 't1',
      feature_names: ['frequency_orders', 'monetary_spend', 'recency_days', 'avg_order_value'],
      feature_spec_version: 'default-1',
      window_months: 12,
      segment_cutoffs: { medium: 10, high: 30 },
      two_part: true,
    });
    expect(registry.current).toBe(models);
  });

  it('refuses a model whose features the spec does not compute, naming them, and keeps the active one', () => {
    const registry = new ModelRegistry(fixtures);
    const active = registry.loadDefaults({ churn: 't1' });
    expect(() => registry.loadDefaults({ churn: 'bad-features' })).toThrow(
      /churn\/bad-features: missing features .*: \[f0, f1, f2\]$/,
    );
    expect(registry.current).toBe(active);
    expect(registry.current.churn?.config.version).toBe('t1');
  });

  it('swaps versions at runtime and tells listeners', () => {
    const registry = new ModelRegistry(fixtures);
    registry.loadDefaults({ churn: 't1' });
    const seen: string[] = [];
    registry.onChange((models) => seen.push(`${models.churn?.config.version}/${models.ltv?.config.version}`));
    registry.loadDefaults({ churn: 't2' });
    expect(seen).toEqual(['t2/t1']);
    expect(registry.current.churn?.config.version).toBe('t2');
  });

  it('rejects broken configs with the file and field', () => {
    const root = mkdtempSync(join(tmpdir(), 'models-'));
    cpSync(fixtures, root, { recursive: true });
    writeFileSync(
      join(root, 'churn', 't1', 'config.json'),
      JSON.stringify({ kind: 'churn', version: 't1', threshold: 2 }),
    );
    expect(() => new ModelRegistry(root).loadDefaults({ churn: 't1' })).toThrow(
      /churn\/t1\/config\.json: feature_names: .*; feature_spec_version: .*; threshold: Too big/,
    );
  });

  // The evaluators are checked against LightGBM and scikit-learn by the golden tests; these
  // pinned values check the registry's part: the config's feature order mapped onto the
  // spec, calibration, reasons, the LTV config (two-part interval, segments, window).
  it('scores with models: churn with reasons from TreeSHAP, LTV with a two-part interval', () => {
    const models = new ModelRegistry(fixtures).loadDefaults({ churn: 't1' });
    const features = customerFeatures();
    const churn = scoreChurn(models.churn, features, true);
    expect(churn).toMatchObject({ isRulesFallback: false, modelVersion: 't1', threshold: 0.5 });
    expect(churn.probability).toBeCloseTo(0.7438065273628849, 12);
    expect(churn.reasons.map((r) => [r.code, r.direction, r.value])).toEqual([
      ['RECENCY_DAYS', 'increases_risk', 140],
      ['AVG_BASKET_SIZE_HIGH', 'decreases_risk', 0],
      ['TENURE_DAYS', 'decreases_risk', 200],
      ['INTER_ORDER_MEAN_DAYS_HIGH', 'increases_risk', 0],
    ]);
    expect(churn.reasons[0]?.contribution).toBeCloseTo(0.9147481368140856, 12);
    expect(churnResult(churn)).toMatchObject({
      model_version: 't1',
      risk_level: 'high',
      is_at_risk: true,
      confidence: 'high',
      is_rules_fallback: false,
    });
    const ltv = ltvResult(scoreLtv(models.ltv, features, churn.probability, 180));
    expect(ltv.predicted_ltv).toBeCloseTo(157446.00165000037, 6);
    expect(ltv.confidence_interval.low).toBe(0);
    expect(ltv.confidence_interval.high).toBeCloseTo(643700.2942803901, 6);
    expect(ltv).toMatchObject({
      value_segment: 'high',
      prediction_window_months: 12,
      model_version: 't1',
      is_rules_fallback: false,
    });
    // t2: twice the trees, Platt calibration with a = 1, b = 0 (the identity).
    const t2 = scoreChurn(new ModelRegistry(fixtures).loadDefaults({ churn: 't2' }).churn, features, true);
    expect(t2.modelVersion).toBe('t2');
    expect(t2.probability).toBeCloseTo(0.6884890971990476, 12);
    expect(t2.reasons.map((r) => r.code)).toEqual([
      'RECENCY_DAYS',
      'AVG_BASKET_SIZE_HIGH',
      'FREQUENCY_ORDERS_HIGH',
      'AVG_ORDER_VALUE_HIGH',
    ]);
  });

  it("takes P(no spend) from the LTV artifact's zero part when it has one, not from the churn probability", () => {
    const root = mkdtempSync(join(tmpdir(), 'models-'));
    cpSync(fixtures, root, { recursive: true });
    const configPath = join(root, 'ltv', 't1', 'config.json');
    const withZero = (coef: number[]) =>
      writeFileSync(
        configPath,
        JSON.stringify({
          ...JSON.parse(readFileSync(join(fixtures, 'ltv', 't1', 'config.json'), 'utf8')),
          window_days: 365,
          zero_model: { coef, intercept: Math.log(0.25 / 0.75) },
        }),
      );
    const features = customerFeatures();
    const before = scoreLtv(new ModelRegistry(fixtures).loadDefaults({ churn: 't1' }).ltv, features, 0.4, 180);
    // All coefficients 0: P(no spend) = sigmoid(intercept) = 0.25, whatever the churn probability.
    withZero([0, 0, 0, 0]);
    const ltv = new ModelRegistry(root).loadDefaults({ churn: 't1' }).ltv;
    const mean = before.value / (1 - 0.4); // the GLM mean, the same model
    for (const churn of [0.01, 0.4, 0.99])
      expect(scoreLtv(ltv, features, churn, 180).value).toBeCloseTo(mean * 0.75, 6);
    expect(ltvLabelHorizonMs(ltv)).toBe(365 * DAY_MS);
    // A zero part that does not match the GLM's inputs is refused, naming the folder.
    withZero([0, 0, 0]);
    expect(() => new ModelRegistry(root).loadDefaults({ churn: 't1' })).toThrow(
      /ltv\/t1: zero_model has 3 coefficients, the GLM 4/,
    );
  });

  it('falls back to rules, clearly marked, when no model is loaded', () => {
    const features = customerFeatures();
    const churn = churnResult(scoreChurn(null, features, true));
    expect(churn).toMatchObject({
      model_version: RULES_VERSION,
      is_rules_fallback: true,
      confidence: 'low',
      risk_level: 'high',
    });
    expect(churn.churn_probability).toBeCloseTo(0.7, 12);
    expect(churn.risk_factors.map((r) => [r.code, r.contribution, r.value])).toEqual([
      ['RECENCY_OVER_90_DAYS', 0.3, 140],
      ['FEWER_THAN_5_ORDERS', 0.2, 4],
      ['SPEND_FALLING', 0.1, -1],
    ]);
    const ltv = ltvResult(scoreLtv(null, features, 0.3, 180));
    expect(ltv).toMatchObject({ model_version: RULES_VERSION, is_rules_fallback: true, value_segment: 'medium' });
    expect(ltv.predicted_ltv).toBeCloseTo(120.73541666666667, 9);
    expect(ltv.confidence_interval.low).toBe(0);
    expect(ltv.confidence_interval.high).toBeCloseTo(362.20625, 9);
  });

  it('WARNs naming a version folder without config.json, which it skips, and a churn model without reference.json', () => {
    const root = mkdtempSync(join(tmpdir(), 'models-'));
    cpSync(fixtures, root, { recursive: true });
    // Newest by name, but empty (a copy that has not started, say): t2 is still the newest version.
    mkdirSync(join(root, 'churn', 't9'));
    mkdirSync(join(root, 'ltv', 'v0'));
    const { log, lines } = capturingLogger();
    const models = new ModelRegistry(root, log).loadDefaults();
    expect(models.churn?.config.version).toBe('t2');
    expect(models.churn?.reference).toBeNull();
    const warnings = lines.filter((line) => line['level'] === 40);
    expect(warnings).toEqual([
      {
        level: 40,
        folder: join(root, 'churn', 't9'),
        msg: `model folder ${join(root, 'churn', 't9')} has no config.json: skipped, it is no churn version`,
      },
      {
        level: 40,
        folder: join(root, 'ltv', 'v0'),
        msg: `model folder ${join(root, 'ltv', 'v0')} has no config.json: skipped, it is no ltv version`,
      },
      {
        level: 40,
        file: join(root, 'churn', 't2', 'reference.json'),
        msg: `churn model t2 has no ${join(root, 'churn', 't2', 'reference.json')}: no drift (PSI) series for it`,
      },
    ]);
    expect(lines).toEqual(warnings);
  });

  it('says nothing about complete versions with their reference.json (the shipped models)', () => {
    const { log, lines } = capturingLogger();
    const models = new ModelRegistry(shipped, log).loadDefaults();
    expect(models.churn?.reference).not.toBeNull();
    expect(lines).toEqual([]);
  });
});
