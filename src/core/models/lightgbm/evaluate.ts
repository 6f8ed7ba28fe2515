// Prediction with LightGBM's exact semantics: per-tree outputs summed in file order
// in double precision (so raw scores are bit-identical), then the objective's
// output transform.
import { compile, predictRawCompiled } from './compiled.js';
import { leafIndex } from './decide.js';
import type { LightGbmModel, OutputTransform, Tree } from './model.js';

export function treeOutput(tree: Tree, x: ArrayLike<number>): number {
  const leaf = leafIndex(tree, x);
  const linear = tree.linear;
  if (linear === null) return tree.leafValue[leaf] ?? 0;
  const features = linear.leafFeatures[leaf] ?? new Int32Array(0);
  const coeffs = linear.leafCoeff[leaf] ?? new Float64Array(0);
  let output = linear.leafConst[leaf] ?? 0;
  for (let j = 0; j < features.length; j += 1) {
    const value = x[features[j] ?? 0] ?? Number.NaN;
    if (Number.isNaN(value)) return tree.leafValue[leaf] ?? 0;
    output += (coeffs[j] ?? 0) * value;
  }
  return output;
}

/** Raw scores, one per class (length num_tree_per_iteration). */
const hasLinearTrees = new WeakMap<LightGbmModel, boolean>();

export function predictRaw(model: LightGbmModel, x: ArrayLike<number>, out?: Float64Array): Float64Array {
  const k = model.numTreePerIteration;
  const raw = out ?? new Float64Array(k);
  let linear = hasLinearTrees.get(model);
  if (linear === undefined) {
    linear = model.trees.some((tree) => tree.linear !== null);
    hasLinearTrees.set(model, linear);
  }
  if (!linear) {
    predictRawCompiled(model, compile(model), x, raw);
    return raw;
  }
  raw.fill(0);
  const trees = model.trees;
  for (let t = 0; t < trees.length; t += 1) {
    const tree = trees[t];
    if (tree !== undefined) raw[t % k] = (raw[t % k] ?? 0) + treeOutput(tree, x);
  }
  return raw;
}

/** Applies the objective's transform in place (LightGBM's ConvertOutput). */
export function applyTransform(transform: OutputTransform, values: Float64Array): Float64Array {
  switch (transform.kind) {
    case 'identity':
      return values;
    case 'sigmoid':
    case 'sigmoid_per_class':
      for (let i = 0; i < values.length; i += 1) values[i] = 1 / (1 + Math.exp(-transform.sigmoid * (values[i] ?? 0)));
      return values;
    case 'softmax': {
      let max = Number.NEGATIVE_INFINITY;
      for (const v of values) if (v > max) max = v;
      let sum = 0;
      for (let i = 0; i < values.length; i += 1) {
        values[i] = Math.exp((values[i] ?? 0) - max);
        sum += values[i] ?? 0;
      }
      for (let i = 0; i < values.length; i += 1) values[i] = (values[i] ?? 0) / sum;
      return values;
    }
    case 'signed_square':
      for (let i = 0; i < values.length; i += 1) {
        const v = values[i] ?? 0;
        values[i] = Math.sign(v) * v * v;
      }
      return values;
    case 'exp':
      for (let i = 0; i < values.length; i += 1) values[i] = Math.exp(values[i] ?? 0);
      return values;
    case 'log1p_exp':
      for (let i = 0; i < values.length; i += 1) values[i] = Math.log1p(Math.exp(values[i] ?? 0));
      return values;
    default: {
      const unreachable: never = transform;
      return unreachable;
    }
  }
}

/** Transformed predictions, one per class; random forests average their trees first. */
export function predict(model: LightGbmModel, x: ArrayLike<number>, out?: Float64Array): Float64Array {
  const raw = predictRaw(model, x, out);
  if (model.averageOutput) {
    const iterations = model.trees.length / model.numTreePerIteration;
    for (let i = 0; i < raw.length; i += 1) raw[i] = (raw[i] ?? 0) / iterations;
  }
  return applyTransform(model.transform, raw);
}
