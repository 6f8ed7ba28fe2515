import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topReasons } from '../../../../src/core/decisions/reasons.js';
import { churnResult, fallbackLtv, ltvResult } from '../../../../src/core/decisions/results.js';
import { confidence, riskLevel } from '../../../../src/core/decisions/risk.js';
import { RULES_VERSION, rulesChurnScore } from '../../../../src/core/decisions/rules.js';
import { RAW_FEATURES } from '../../../../src/core/features/names.js';

const raw = (values: Partial<Record<(typeof RAW_FEATURES)[number], number>>) =>
  Float64Array.from(RAW_FEATURES, (name) => values[name] ?? 0);

describe('risk levels and confidence', () => {
  it('uses the documented cut-offs, inclusive at the lower bound', () => {
    expect([0, 0.2999, 0.3, 0.5999, 0.6, 0.85, 0.9, 1].map(riskLevel)).toEqual([
      'low',
      'low',
      'medium',
      'medium',
      'high',
      'high',
      'critical',
      'critical',
    ]);
  });

  it('grows with the distance from the threshold; the fallback is always low', () => {
    expect(confidence(0.85, 0.682, false)).toBe('high');
    expect(confidence(0.6, 0.682, false)).toBe('medium');
    expect(confidence(0.7, 0.682, false)).toBe('low');
    expect(confidence(0.99, 0.5, true)).toBe('low');
  });
});

describe('reasons', () => {
  it('picks the 4 largest contributions with stable codes and directions', () => {
    const names = ['recency_days', 'frequency_orders', 'fuzzy_recency_days_high', 'refund_rate', 'tenure_days', 'x'];
    const reasons = topReasons(names, [0.8, -0.5, 0.5, 0.1, -0.05, 0], [120, 1, 1, Number.NaN, 30, 0]);
    expect(reasons.map((r) => [r.code, r.direction])).toEqual([
      ['RECENCY_DAYS', 'increases_risk'],
      ['FREQUENCY_ORDERS', 'decreases_risk'],
      ['RECENCY_DAYS_HIGH', 'increases_risk'],
      ['REFUND_RATE', 'increases_risk'],
    ]);
    expect(reasons[3]?.value).toBeNull();
  });

  it('equals sorting every nonzero contribution by size, earlier features first on ties', () => {
    // Few distinct sizes, both signs and zeros: ties and sign-only differences are common.
    const contribution = fc.constantFrom(0, 0.5, -0.5, 0.25, -1, 1, 2, 1e-9);
    fc.assert(
      fc.property(fc.array(contribution, { maxLength: 12 }), fc.integer({ min: 1, max: 6 }), (values, limit) => {
        const names = values.map((_, i) => `f${i}`);
        const want = names
          .map((_, i) => i)
          .filter((i) => values[i] !== 0)
          .sort((a, b) => Math.abs(values[b] ?? 0) - Math.abs(values[a] ?? 0) || a - b)
          .slice(0, limit)
          .map((i) => `F${i}`);
        expect(topReasons(names, values, values, true, limit).map((r) => r.code)).toEqual(want);
      }),
    );
  });
});

describe('rules fallback', () => {
  it('adds the classic weights to a base risk', () => {
    expect(rulesChurnScore(raw({ recency_days: 10, lifetime_orders: 12, frequency_orders: 3 })).probability).toBe(0.1);
    const lapsed = rulesChurnScore(
      raw({ recency_days: 200, lifetime_orders: 2, frequency_orders: 0, spend_trend: -1 }),
    );
    expect(lapsed.probability).toBe(0.95); // 0.1 + 0.3 + 0.2 + 0.2 + 0.1 + 0.1 capped
    expect(lapsed.reasons.map((r) => r.code)).toEqual([
      'RECENCY_OVER_90_DAYS',
      'RECENCY_OVER_180_DAYS',
      'FEWER_THAN_5_ORDERS',
      'NO_ORDER_IN_WINDOW',
    ]);
  });

  it('produces results marked as the fallback', () => {
    const score = rulesChurnScore(raw({ recency_days: 100, lifetime_orders: 9, frequency_orders: 1 }));
    const result = churnResult({
      ...score,
      rank: score.probability,
      modelVersion: RULES_VERSION,
      threshold: 0.5,
      isRulesFallback: true,
    });
    expect(result).toMatchObject({
      churn_probability: 0.4,
      is_at_risk: false,
      risk_level: 'medium',
      confidence: 'low',
      model_version: RULES_VERSION,
      is_rules_fallback: true,
    });
    expect(result.recommendation).toMatch(/reactivation/);
  });
});

describe('LTV result', () => {
  it('segments by the configured cut-offs', () => {
    const base = {
      low: 1,
      high: 2,
      modelVersion: 'v1',
      segmentCutoffs: { medium: 100, high: 500 },
      windowMonths: 12,
      isRulesFallback: false,
    };
    expect(ltvResult({ ...base, value: 99 }).value_segment).toBe('low');
    expect(ltvResult({ ...base, value: 100 }).value_segment).toBe('medium');
    expect(ltvResult({ ...base, value: 500 })).toMatchObject({
      value_segment: 'high',
      predicted_ltv: 500,
      confidence_interval: { low: 1, high: 2 },
      prediction_window_months: 12,
    });
  });

  it('falls back to run-rate spend times survival', () => {
    const { value } = fallbackLtv(182.625, 182.625, 0.5, 12);
    expect(value).toBeCloseTo(12 * 30.4375 * 0.5, 9);
  });
});
