// Golden tests against the real LightGBM (fixtures from training/golden/): raw scores
// bit for bit, transformed predictions within a few ulps, contributions within 1e-12.
import { describe, expect, it } from 'vitest';
import { predict, predictRaw } from '../../../../src/core/models/lightgbm/evaluate.js';
import { parseLightGbmModel } from '../../../../src/core/models/lightgbm/parse.js';
import { createShapExplainer } from '../../../../src/core/models/lightgbm/shap.js';
import { goldenCases } from '../../../helpers/lightgbm-fixtures.js';

const cases = goldenCases();

/** Relative distance in units of the larger magnitude's ulp (2^-52 relative). */
const ulps = (a: number, b: number): number => {
  if (Object.is(a, b) || a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Number.POSITIVE_INFINITY;
  return Math.abs(a - b) / (Math.max(Math.abs(a), Math.abs(b), Number.MIN_VALUE) * Number.EPSILON);
};

describe('LightGBM golden fixtures', () => {
  it('cover every model kind the runtime claims', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(
      [
        'binary',
        'binary_sigmoid2',
        'cross_entropy',
        'cross_entropy_lambda',
        'gamma',
        'linear_tree',
        'multiclass',
        'multiclassova',
        'no_objective',
        'poisson',
        'random_forest',
        'regression',
        'regression_l1',
        'regression_sqrt',
        'single_leaf',
        'tweedie',
        'zero_as_missing',
      ].sort(),
    );
  });

  describe.each(cases)('$name', (golden) => {
    const model = parseLightGbmModel(golden.modelText);

    it('has the fixture feature names in order', () => {
      expect(model.featureNames).toEqual(golden.header);
    });

    it('raw scores equal LightGBM bit for bit', () => {
      let mismatches = 0;
      golden.rows.forEach((row, i) => {
        const raw = [...predictRaw(model, row)];
        const want = golden.raw[i] ?? [];
        if (!raw.every((v, k) => Object.is(v, want[k]))) mismatches += 1;
      });
      expect(mismatches).toBe(0);
    });

    it('predictions within 4 ulps', () => {
      let worst = 0;
      golden.rows.forEach((row, i) => {
        const prediction = predict(model, row);
        const want = golden.prediction[i] ?? [];
        prediction.forEach((v, k) => {
          worst = Math.max(worst, ulps(v, want[k] ?? Number.NaN));
        });
      });
      expect(worst).toBeLessThanOrEqual(4);
    });

    // Three ways to the same numbers: subset tables (the default), the per-leaf
    // polynomial with masks, and the polynomial re-walking each path (leaves too wide for a mask).
    it.each([
      ['subset tables', { memoEntries: 0 }],
      ['polynomial', { tableFeatureLimit: 0, memoEntries: 0 }],
      ['polynomial, paths walked', { maskFeatureLimit: 0, memoEntries: 0 }],
      // Every row twice, through a memo too small to hold them all: hits, misses and evictions.
      ['the routing memo', { memoEntries: 8 }],
    ] as const)(
      'contributions within 1e-12 of pred_contrib by %s (refused for linear trees, as LightGBM does)',
      (_, options) => {
        if (golden.contrib === undefined) {
          expect(() => createShapExplainer(model, options)).toThrow(/linear trees/);
          return;
        }
        const explainer = createShapExplainer(model, options);
        let worst = 0;
        const rows = 'memoEntries' in options && options.memoEntries > 0 ? [golden.rows, golden.rows] : [golden.rows];
        rows.flat().forEach((row, at) => {
          const i = at % golden.rows.length;
          const phi = explainer.contributions(row);
          const want = golden.contrib?.[i] ?? [];
          expect(phi.length).toBe(want.length);
          phi.forEach((v, k) => {
            worst = Math.max(worst, Math.abs(v - (want[k] ?? Number.NaN)));
          });
        });
        expect(worst).toBeLessThanOrEqual(1e-12);
      },
    );
  });
});
