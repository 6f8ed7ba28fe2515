// Per-feature contributions equal to LightGBM's pred_contrib (path-dependent TreeSHAP,
// Lundberg, Erion & Lee, arXiv:1802.03888), computed leaf by leaf from a closed form
// instead of by recursive path extension.
//
// For a leaf l with value v, let U be the distinct features on its root path (d = |U|).
// For each feature j in U: z_j = product of the cover fractions of the path's nodes
// that split on j (row independent, precomputed), and o_j = 1 when the row follows the
// path at every such node, else 0. Path-dependent TreeSHAP gives feature i in U
//
//   phi_i += v * (o_i - z_i) * sum_k c_k * k! (d-1-k)! / d!,   c = coefficients of
//            prod_{j in U, j != i} (z_j + o_j * t).
//
// With O = {j : o_j = 1} and P0 = prod_{j not in O} z_j, that product is
// P0 / z_i * Q(t) for i not in O and P0 * Q(t) / (z_i + t) for i in O, where
// Q(t) = prod_{j in O} (z_j + t). So one polynomial per leaf serves every feature,
// and the cost per leaf is O(d + |O|^2) instead of TreeSHAP's O(d^2) per leaf with its
// extend/unwind bookkeeping. Covers are LightGBM's training counts; the row's routing
// is the same rule as prediction; each tree's expected value goes to the bias slot.
// Output layout per class: [phi_0 .. phi_F-1, bias]; each block sums to that class's
// raw score. As in LightGBM, contributions are in raw space and not averaged for
// random forests; linear trees are not supported (LightGBM refuses them too).
import { compile, routeAll } from './compiled.js';
import type { LightGbmModel, Tree } from './model.js';

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

/**
 * Row-independent facts about every leaf's root path, for all trees, in flat arrays
 * (contiguous memory matters: a leaf's work is small, so pointer chasing would dominate).
 */
interface LeafTable {
  /** Per tree: its first leaf in this table and the class block it adds to. */
  readonly treeLeafStart: Int32Array;
  readonly treeClass: Int32Array;
  readonly leafValue: Float64Array;
  /** Distinct features of leaf l: featureStart[l] .. featureStart[l+1] in feature/zero. */
  readonly featureStart: Int32Array;
  readonly feature: Int32Array;
  readonly zero: Float64Array;
  /** Path nodes of leaf l: stepStart[l] .. in stepNode (global node), stepLeft, stepSlot. */
  readonly stepStart: Int32Array;
  readonly stepNode: Int32Array;
  readonly stepLeft: Uint8Array;
  readonly stepSlot: Int32Array;
}

function buildLeafTable(model: LightGbmModel, firstNode: Int32Array): LeafTable {
  const values: number[] = [];
  const featureStart: number[] = [0];
  const features: number[] = [];
  const zeros: number[] = [];
  const stepStart: number[] = [0];
  const stepNode: number[] = [];
  const stepLeft: number[] = [];
  const stepSlot: number[] = [];
  const treeLeafStart: number[] = [];
  model.trees.forEach((tree, t) => {
    treeLeafStart.push(values.length);
    if (tree.numLeaves <= 1) return;
    const base = firstNode[t] ?? 0;
    const walk = (node: number, path: { node: number; left: boolean; fraction: number }[]) => {
      for (const left of [true, false]) {
        const child = left ? (tree.leftChild[node] ?? 0) : (tree.rightChild[node] ?? 0);
        const step = [...path, { node, left, fraction: cover(tree, child) / cover(tree, node) }];
        if (child >= 0) {
          walk(child, step);
          continue;
        }
        const own: number[] = [];
        const ownZero: number[] = [];
        for (const entry of step) {
          const feature = tree.splitFeature[entry.node] ?? 0;
          let at = own.indexOf(feature);
          if (at < 0) {
            at = own.length;
            own.push(feature);
            ownZero.push(1);
          }
          ownZero[at] = (ownZero[at] ?? 1) * entry.fraction;
          stepNode.push(base + entry.node);
          stepLeft.push(entry.left ? 1 : 0);
          stepSlot.push(at);
        }
        values.push(tree.leafValue[~child] ?? 0);
        features.push(...own);
        zeros.push(...ownZero);
        featureStart.push(features.length);
        stepStart.push(stepNode.length);
      }
    };
    walk(0, []);
  });
  treeLeafStart.push(values.length);
  return {
    treeLeafStart: Int32Array.from(treeLeafStart),
    treeClass: Int32Array.from(model.trees, (_, t) => t % model.numTreePerIteration),
    leafValue: Float64Array.from(values),
    featureStart: Int32Array.from(featureStart),
    feature: Int32Array.from(features),
    zero: Float64Array.from(zeros),
    stepStart: Int32Array.from(stepStart),
    stepNode: Int32Array.from(stepNode),
    stepLeft: Uint8Array.from(stepLeft),
    stepSlot: Int32Array.from(stepSlot),
  };
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
  const forest = compile(model);
  const table = buildLeafTable(model, forest.firstNode);
  const expected = Float64Array.from(model.trees, expectedValue);
  const deepest = model.trees.reduce((max, tree) => Math.max(max, tree.maxDepth), 0);

  // Shapley weights W(k, d) = k! (d-1-k)! / d! = 1 / (d * C(d-1, k)), at d * stride + k.
  const stride = deepest + 1;
  const weight = new Float64Array((deepest + 2) * stride);
  for (let d = 1; d <= deepest + 1; d += 1) {
    for (let size = 0; size < d && size < stride; size += 1) {
      let w = 1 / d;
      for (let i = 1; i <= size; i += 1) w *= i / (d - i);
      weight[d * stride + size] = w;
    }
  }

  const goesLeft = new Uint8Array(forest.kind.length);
  const follows = new Uint8Array(deepest + 1);
  const q = new Float64Array(deepest + 2);
  const r = new Float64Array(deepest + 2);
  const { treeLeafStart, treeClass, leafValue, featureStart, feature, zero, stepStart, stepNode, stepLeft, stepSlot } =
    table;

  return {
    width,
    contributions(x, out) {
      const phi = out ?? new Float64Array(width * k);
      phi.fill(0);
      routeAll(forest, x, goesLeft);
      for (let t = 0; t < expected.length; t += 1) {
        const offset = (treeClass[t] as number) * width;
        phi[offset + width - 1] = (phi[offset + width - 1] as number) + (expected[t] as number);
        const end = treeLeafStart[t + 1] as number;
        for (let leaf = treeLeafStart[t] as number; leaf < end; leaf += 1) {
          const f0 = featureStart[leaf] as number;
          const d = (featureStart[leaf + 1] as number) - f0;
          for (let j = 0; j < d; j += 1) follows[j] = 1;
          const stepEnd = stepStart[leaf + 1] as number;
          for (let step = stepStart[leaf] as number; step < stepEnd; step += 1) {
            // Branch-free: a step the row does not take clears its feature's flag.
            const slot = stepSlot[step] as number;
            follows[slot] =
              (follows[slot] as number) &
              (1 ^ ((goesLeft[stepNode[step] as number] as number) ^ (stepLeft[step] as number)));
          }
          // Q(t) = prod over followed features of (z_j + t); P0 = prod over the others of z_j.
          let degree = 0;
          let p0 = 1;
          q[0] = 1;
          for (let j = 0; j < d; j += 1) {
            const z = zero[f0 + j] as number;
            if (follows[j] === 0) {
              p0 *= z;
              continue;
            }
            q[degree + 1] = 0;
            for (let c = degree + 1; c > 0; c -= 1) q[c] = (q[c] as number) * z + (q[c - 1] as number);
            q[0] = (q[0] as number) * z;
            degree += 1;
          }
          const w0 = d * stride;
          const value = leafValue[leaf] as number;
          let coldSum = 0;
          for (let c = 0; c <= degree && c < d; c += 1) coldSum += (q[c] as number) * (weight[w0 + c] as number);
          const coldDelta = -value * p0 * coldSum;
          for (let j = 0; j < d; j += 1) {
            const slot = offset + (feature[f0 + j] as number);
            if (follows[j] === 0) {
              // (0 - z_j) * (P0 / z_j) * sum = -P0 * sum
              phi[slot] = (phi[slot] as number) + coldDelta;
              continue;
            }
            // R(t) = Q(t) / (z_j + t), by synthetic division from the top coefficient.
            const z = zero[f0 + j] as number;
            r[degree - 1] = q[degree] as number;
            for (let c = degree - 1; c > 0; c -= 1) r[c - 1] = (q[c] as number) - z * (r[c] as number);
            let sum = 0;
            for (let c = 0; c < degree; c += 1) sum += (r[c] as number) * (weight[w0 + c] as number);
            phi[slot] = (phi[slot] as number) + value * (1 - z) * p0 * sum;
          }
        }
      }
      return phi;
    },
  };
}
