// Per-feature contributions equal to LightGBM's pred_contrib: path-dependent TreeSHAP
// (Lundberg, Erion & Lee, "Consistent individualized feature attribution for tree
// ensembles", Algorithm 2) with LightGBM's conventions: cover = training row counts,
// the hot child chosen by the same routing rule as prediction, and per tree the
// expected value added to the bias slot. Output layout per class: [phi_0 .. phi_F-1,
// bias]; each block sums to that class's raw score. Contributions are in raw (margin)
// space and, as in LightGBM, not averaged for random forests.
//
// Speed: per-model precomputation (expected values, one path buffer sized for the
// deepest tree) and typed arrays throughout, so no allocation happens per row.
import { nextNode } from './decide.js';
import type { LightGbmModel, Tree } from './model.js';

/** The unique path of TreeSHAP as parallel arrays, carved into per-depth frames. */
class PathBuffer {
  readonly feature: Int32Array;
  readonly zero: Float64Array;
  readonly one: Float64Array;
  readonly weight: Float64Array;
  constructor(size: number) {
    this.feature = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.weight = new Float64Array(size);
  }
  copy(from: number, to: number, length: number): void {
    this.feature.copyWithin(to, from, from + length);
    this.zero.copyWithin(to, from, from + length);
    this.one.copyWithin(to, from, from + length);
    this.weight.copyWithin(to, from, from + length);
  }
}

export interface ShapExplainer {
  /** Contributions of one row: numTreePerIteration blocks of (numFeatures + 1). */
  contributions(x: ArrayLike<number>, out?: Float64Array): Float64Array;
  readonly width: number;
}

function expectedValue(tree: Tree): number {
  if (tree.numLeaves <= 1) return tree.leafValue[0] ?? 0;
  const total = tree.internalCount[0] ?? 0;
  let value = 0;
  for (let leaf = 0; leaf < tree.numLeaves; leaf += 1) {
    value += ((tree.leafCount[leaf] ?? 0) / total) * (tree.leafValue[leaf] ?? 0);
  }
  return value;
}

const cover = (tree: Tree, node: number): number =>
  node >= 0 ? (tree.internalCount[node] ?? 0) : (tree.leafCount[~node] ?? 0);

/** Adds an element to the path of `depth` elements starting at `base`, updating permutation weights. */
function extend(path: PathBuffer, base: number, depth: number, zero: number, one: number, feature: number): void {
  const at = base + depth;
  path.feature[at] = feature;
  path.zero[at] = zero;
  path.one[at] = one;
  path.weight[at] = depth === 0 ? 1 : 0;
  const w = path.weight;
  for (let i = depth - 1; i >= 0; i -= 1) {
    w[base + i + 1] = (w[base + i + 1] ?? 0) + (one * (w[base + i] ?? 0) * (i + 1)) / (depth + 1);
    w[base + i] = (zero * (w[base + i] ?? 0) * (depth - i)) / (depth + 1);
  }
}

/** Removes element `index` from the path (depth = index of its last element), undoing its weights. */
function unwind(path: PathBuffer, base: number, depth: number, index: number): void {
  const one = path.one[base + index] ?? 0;
  const zero = path.zero[base + index] ?? 0;
  const w = path.weight;
  let nextOne = w[base + depth] ?? 0;
  for (let i = depth - 1; i >= 0; i -= 1) {
    if (one !== 0) {
      const saved = w[base + i] ?? 0;
      w[base + i] = (nextOne * (depth + 1)) / ((i + 1) * one);
      nextOne = saved - ((w[base + i] ?? 0) * zero * (depth - i)) / (depth + 1);
    } else {
      w[base + i] = ((w[base + i] ?? 0) * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i += 1) {
    path.feature[base + i] = path.feature[base + i + 1] ?? 0;
    path.zero[base + i] = path.zero[base + i + 1] ?? 0;
    path.one[base + i] = path.one[base + i + 1] ?? 0;
  }
}

/** Total permutation weight of the path with element `index` taken out (without modifying it). */
function unwoundSum(path: PathBuffer, base: number, depth: number, index: number): number {
  const one = path.one[base + index] ?? 0;
  const zero = path.zero[base + index] ?? 0;
  const w = path.weight;
  let nextOne = w[base + depth] ?? 0;
  let total = 0;
  for (let i = depth - 1; i >= 0; i -= 1) {
    if (one !== 0) {
      const part = (nextOne * (depth + 1)) / ((i + 1) * one);
      total += part;
      nextOne = (w[base + i] ?? 0) - part * zero * ((depth - i) / (depth + 1));
    } else if (zero !== 0) {
      total += (w[base + i] ?? 0) / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

function recurse(
  tree: Tree,
  x: ArrayLike<number>,
  phi: Float64Array,
  offset: number,
  path: PathBuffer,
  node: number,
  parentBase: number,
  depth: number,
  zero: number,
  one: number,
  feature: number,
): void {
  // Each level works on its own copy of the path, placed after the parent's.
  const base = parentBase + depth;
  if (depth > 0) path.copy(parentBase, base, depth);
  extend(path, base, depth, zero, one, feature);

  if (node < 0) {
    const value = tree.leafValue[~node] ?? 0;
    for (let i = 1; i <= depth; i += 1) {
      const weight = unwoundSum(path, base, depth, i);
      const f = offset + (path.feature[base + i] ?? 0);
      phi[f] = (phi[f] ?? 0) + weight * ((path.one[base + i] ?? 0) - (path.zero[base + i] ?? 0)) * value;
    }
    return;
  }
  const split = tree.splitFeature[node] ?? 0;
  const hot = nextNode(tree, node, x);
  const left = tree.leftChild[node] ?? 0;
  const cold = hot === left ? (tree.rightChild[node] ?? 0) : left;
  const nodeCover = cover(tree, node);
  const hotZero = cover(tree, hot) / nodeCover;
  const coldZero = cover(tree, cold) / nodeCover;
  let incomingZero = 1;
  let incomingOne = 1;
  let pathDepth = depth;
  // A feature met again on the path: undo its earlier split before redoing it here.
  let index = 0;
  while (index <= pathDepth && path.feature[base + index] !== split) index += 1;
  if (index !== pathDepth + 1) {
    incomingZero = path.zero[base + index] ?? 0;
    incomingOne = path.one[base + index] ?? 0;
    unwind(path, base, pathDepth, index);
    pathDepth -= 1;
  }
  recurse(tree, x, phi, offset, path, hot, base, pathDepth + 1, hotZero * incomingZero, incomingOne, split);
  recurse(tree, x, phi, offset, path, cold, base, pathDepth + 1, coldZero * incomingZero, 0, split);
}

export function createShapExplainer(model: LightGbmModel): ShapExplainer {
  for (const [index, tree] of model.trees.entries()) {
    if (tree.linear !== null)
      throw new Error(`TreeSHAP does not support linear trees (tree ${index}), nor does LightGBM`);
    if (tree.numLeaves > 1 && !((tree.internalCount[0] ?? 0) > 0)) {
      throw new Error(`tree ${index} has no training counts: contributions cannot be computed`);
    }
  }
  const width = model.numFeatures + 1;
  const k = model.numTreePerIteration;
  const expected = Float64Array.from(model.trees, expectedValue);
  const deepest = model.trees.reduce((max, tree) => Math.max(max, tree.maxDepth), 0);
  // Frames of depth 0..D+1 elements, each placed after the previous: (D+2)(D+3)/2 slots.
  const path = new PathBuffer(((deepest + 2) * (deepest + 3)) / 2);
  return {
    width,
    contributions(x, out) {
      const phi = out ?? new Float64Array(width * k);
      phi.fill(0);
      model.trees.forEach((tree, t) => {
        const offset = (t % k) * width;
        phi[offset + model.numFeatures] = (phi[offset + model.numFeatures] ?? 0) + (expected[t] ?? 0);
        if (tree.numLeaves > 1) recurse(tree, x, phi, offset, path, 0, 0, 0, 1, 1, -1);
      });
      return phi;
    },
  };
}
