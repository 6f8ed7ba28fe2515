// Parser cases LightGBM's own training rarely produces: inf/-inf/nan tokens in
// thresholds, and malformed files that must fail with a clear message.
import { describe, expect, it } from 'vitest';
import { predictRaw, treeOutput } from '../../../../src/core/models/lightgbm/evaluate.js';
import { ModelParseError, parseLightGbmModel, parseNumber } from '../../../../src/core/models/lightgbm/parse.js';
import { createShapExplainer } from '../../../../src/core/models/lightgbm/shap.js';

const model = (threshold: string, decisionType: number, extraHeader = '') => `tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=1
objective=regression
${extraHeader}feature_names=a b
feature_infos=[0:1] [0:1]
tree_sizes=1

Tree=0
num_leaves=3
num_cat=0
split_feature=0 1
split_gain=1 1
threshold=${threshold} 0.5
decision_type=${decisionType} 2
left_child=-1 -2
right_child=1 -3
leaf_value=10 20 30
leaf_weight=1 1 1
leaf_count=50 30 20
internal_value=0 0
internal_weight=0 0
internal_count=100 50
is_linear=0
shrinkage=1


end of trees
`;

describe('LightGBM text parser', () => {
  it('reads inf, -inf and nan tokens that Number() rejects', () => {
    expect(parseNumber('inf', 't')).toBe(Number.POSITIVE_INFINITY);
    expect(parseNumber('-inf', 't')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseNumber('nan', 't')).toBeNaN();
    expect(parseNumber('1.0000000180025095e-35', 't')).toBe(Math.fround(1e-35));
    expect(() => parseNumber('1..2', 't')).toThrow(ModelParseError);
  });

  it('routes with an inf threshold: every finite value left, NaN by missing type', () => {
    // decision_type 8: numerical, missing type NaN, default right.
    const m = parseLightGbmModel(model('inf', 8));
    expect(predictRaw(m, [1e308, 0])[0]).toBe(10);
    expect(predictRaw(m, [Number.POSITIVE_INFINITY, 0])[0]).toBe(10);
    expect(predictRaw(m, [Number.NaN, 0])[0]).toBe(20);
    expect(predictRaw(m, [Number.NaN, 0.9])[0]).toBe(30);
    const phi = createShapExplainer(m).contributions([Number.NaN, 0.9]);
    expect(phi.reduce((sum, v) => sum + v, 0)).toBeCloseTo(30, 12);
  });

  it('routes with a -inf threshold: only -inf goes left', () => {
    const m = parseLightGbmModel(model('-inf', 0));
    expect(predictRaw(m, [Number.NEGATIVE_INFINITY, 0])[0]).toBe(10);
    expect(predictRaw(m, [-1e308, 0])[0]).toBe(20);
  });

  it('fast path routes like the general rule for every missing type, default side, threshold and edge value', () => {
    // The compiled forest folds missing values into per-row views (NaN or zero mapped to
    // -inf/+inf by default side); decide.ts applies LightGBM's rule literally.
    const kZ = '1.0000000180025095e-35';
    const thresholds = ['-inf', '-1', `-${kZ}`, '0', kZ, '1', 'inf', 'nan'];
    const values = [Number.NaN, 0, -0, 1e-36, -1e-36, Math.fround(1e-35), -Math.fround(1e-35), 1e-34, -1, 1];
    values.push(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, -1e308);
    let checked = 0;
    for (const threshold of thresholds) {
      for (const missing of [0, 1, 2]) {
        for (const defaultLeft of [0, 2]) {
          const m = parseLightGbmModel(model(threshold, (missing << 2) | defaultLeft));
          const tree = m.trees[0];
          if (tree === undefined) throw new Error('no tree');
          for (const value of values) {
            for (const second of [Number.NaN, 0.4, 0.6]) {
              expect([threshold, missing, defaultLeft, value, predictRaw(m, [value, second])[0]]).toEqual([
                threshold,
                missing,
                defaultLeft,
                value,
                treeOutput(tree, [value, second]),
              ]);
              checked += 1;
            }
          }
        }
      }
    }
    expect(checked).toBe(8 * 3 * 2 * 14 * 3);
  });

  it('explains a tree whose nodes are not numbered parents first exactly like its LightGBM numbering', () => {
    // The same tree twice: root on a, right child splits b, whose left child splits c.
    // LightGBM numbers the b node 1 and the c node 2; the other file numbers them 2 and 1.
    const tree = (lines: string) => `tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=2
objective=regression
feature_names=a b c
feature_infos=[0:1] [0:1] [0:1]
tree_sizes=1

Tree=0
num_leaves=4
num_cat=0
${lines}
leaf_value=1 2 3 4
leaf_weight=1 1 1 1
leaf_count=40 25 20 15
internal_weight=0 0 0
is_linear=0
shrinkage=1


end of trees
`;
    const lightgbm = parseLightGbmModel(
      tree(`split_feature=0 1 2
split_gain=1 1 1
threshold=0.5 0.5 0.5
decision_type=2 2 2
left_child=-1 2 -3
right_child=1 -2 -4
internal_value=0 0 0
internal_count=100 60 35`),
    );
    const renumbered = parseLightGbmModel(
      tree(`split_feature=0 2 1
split_gain=1 1 1
threshold=0.5 0.5 0.5
decision_type=2 2 2
left_child=-1 -3 1
right_child=2 -4 -2
internal_value=0 0 0
internal_count=100 35 60`),
    );
    const grid = [0.2, 0.8, Number.NaN];
    for (const a of grid) {
      for (const b of grid) {
        for (const c of grid) {
          const row = [a, b, c];
          expect(predictRaw(renumbered, row)[0]).toBe(predictRaw(lightgbm, row)[0]);
          const want = [...createShapExplainer(lightgbm).contributions(row)];
          const got = [...createShapExplainer(renumbered).contributions(row)];
          got.forEach((value, i) => {
            expect(value).toBeCloseTo(want[i] ?? Number.NaN, 14);
          });
          expect(got.reduce((sum, v) => sum + v, 0)).toBeCloseTo(predictRaw(lightgbm, row)[0] ?? Number.NaN, 14);
        }
      }
    }
  });

  it('reads the random forest flag', () => {
    expect(parseLightGbmModel(model('0.5', 2, 'average_output\n')).averageOutput).toBe(true);
  });

  it('fails clearly on malformed models', () => {
    expect(() => parseLightGbmModel('hello')).toThrow(/not a LightGBM text model/);
    expect(() => parseLightGbmModel(model('0.5', 2).replace('version=v4', 'version=v9'))).toThrow(/version 'v9'/);
    expect(() => parseLightGbmModel(model('0.5', 2).replace('feature_names=a b', 'feature_names=a'))).toThrow(
      /feature_names has 1 names/,
    );
    expect(() => parseLightGbmModel(model('0.5 0.7', 2))).toThrow(/threshold has 3 values, expected 2/);
    expect(() => parseLightGbmModel(model('0.5', 2).replace('split_feature=0 1', 'split_feature=0 7'))).toThrow(
      /feature 7 outside/,
    );
    expect(() => parseLightGbmModel(model('0.5', 2).replace('objective=regression', 'objective=made_up'))).toThrow(
      /objective 'made_up'/,
    );
    expect(() => parseLightGbmModel(model('0.5', 2).replace('tree_sizes=1', 'tree_sizes=1 2'))).toThrow(/truncated/);
    for (const bad of ['nan', 'inf', '-inf'])
      expect(() =>
        parseLightGbmModel(model('0.5', 2).replace('leaf_value=10 20 30', `leaf_value=10 ${bad} 30`)),
      ).toThrow(/leaf_value of leaf 1 is/);
  });
});
