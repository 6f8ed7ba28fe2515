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
// Q(t) = prod_{j in O} (z_j + t). So one polynomial per leaf serves every feature.
//
// The sum depends on the row only through O, so for leaves with few distinct features
// it is tabulated once per model: for every subset T of U,
//
//   C(T) = -v * Z(T) * sum_k W(k, d) * (coefficient k of prod_{j in T} (z_j + t)),
//   Z(T) = prod_{j not in T} z_j,
//
// and a row's terms are C(O) for every i not in O and -(1 - z_i) / z_i * C(O \ {i})
// for i in O (the precomputation idea of Fast TreeSHAP v2, Yang 2021, arXiv:2109.09847;
// leaves with a zero cover fraction are not tabulated). Work shared across leaves:
// - the masks O of all leaves come from one pass over the nodes, parents first: a child
//   inherits its parent's mask with the parent's feature cleared on the side the row
//   does not take;
// - every feature of a leaf gets the leaf's C(O) ("cold" term), so those are summed per
//   subtree in one pass children first and added once at each feature's top-most split;
//   a leaf then only visits its followed features, adding their own term minus C(O).
// Leaves past the table limit or the memory budget use the polynomial directly. All
// paths are checked against LightGBM by the golden tests. Since everything above depends
// on the row only through its decision at every node, results of recent routings are
// kept and reused (routing-memo.ts).
//
// Covers are LightGBM's training counts; the row's routing is the same rule as
// prediction; each tree's expected value goes to the bias slot. Output layout per
// class: [phi_0 .. phi_F-1, bias]; each block sums to that class's raw score. As in
// LightGBM, contributions are in raw space and not averaged for random forests; linear
// trees are not supported (LightGBM refuses them too).
import { type CompiledForest, compile, routeAll } from './compiled.js';
import type { LightGbmModel, Tree } from './model.js';
import { type MemoStats, RoutingMemo } from './routing-memo.js';

/** Tables for leaves with at most this many distinct features (2^d numbers each). */
export const DEFAULT_TABLE_FEATURE_LIMIT = 12;
/** At most this many table numbers per model (8 bytes each: 32 MiB). */
const TABLE_BUDGET = 4 * 1024 * 1024;
const NODE_FIELDS = 5;
const LEAF_FIELDS = 5;
/** Bits of a mask of followed features (int32 arithmetic, sign bit left out). */
const MASK_BITS = 31;
/** Recent rows' contributions kept by routing: at most this many, and at most MEMO_BUDGET_BYTES. */
const DEFAULT_MEMO_ENTRIES = 4096;
const MEMO_BUDGET_BYTES = 8 * 1024 * 1024;

export interface ShapOptions {
  /** Tabulate leaves with at most this many distinct path features (0: never). */
  readonly tableFeatureLimit?: number;
  /**
   * Read O from a bit mask for leaves with at most this many distinct features (at most
   * 31, the default); wider leaves re-walk their path. Lower it only to test that path.
   */
  readonly maskFeatureLimit?: number;
  /**
   * Contributions of this many recent routings are kept and reused for rows with the same
   * routing (0: none; default: up to 4,096 within 8 MiB). See routing-memo.ts.
   */
  readonly memoEntries?: number;
}

export interface ShapExplainer {
  /** Contributions of one row: numTreePerIteration blocks of (numFeatures + 1). */
  contributions(x: ArrayLike<number>, out?: Float64Array): Float64Array;
  readonly width: number;
  /** Reuse counts of the routing memo, or null without one. */
  readonly memo: Readonly<MemoStats> | null;
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
  /** Where leaf l's mask is in the mask array (after the internal nodes). */
  readonly maskAt: Int32Array;
  /** Per internal node: its feature's slot on the node's root path (order of first use). */
  readonly nodeSlot: Int32Array;
  /** Per internal node: 1 when no node above it on its root path splits on its feature. */
  readonly firstUse: Uint8Array;
  /** Per internal node n: where its left (2n) and right (2n + 1) child's mask goes. */
  readonly maskChild: Int32Array;
  /** Path nodes of leaf l (only leaves wider than a mask): stepStart[l] .. in stepNode, stepLeft, stepSlot. */
  readonly stepStart: Int32Array;
  readonly stepNode: Int32Array;
  readonly stepLeft: Uint8Array;
  readonly stepSlot: Int32Array;
}

interface PathStep {
  readonly node: number;
  readonly left: boolean;
  readonly fraction: number;
}

function buildLeafTable(model: LightGbmModel, forest: CompiledForest, maskLimit: number): LeafTable {
  const nodes = forest.viewSlot.length;
  const nodeSlot = new Int32Array(nodes);
  const firstUse = new Uint8Array(nodes);
  const maskChild = new Int32Array(2 * nodes);
  const values: number[] = [];
  const featureStart: number[] = [0];
  const features: number[] = [];
  const zeros: number[] = [];
  const maskAt: number[] = [];
  const stepStart: number[] = [0];
  const stepNode: number[] = [];
  const stepLeft: number[] = [];
  const stepSlot: number[] = [];
  const treeLeafStart: number[] = [];
  let leafBase = 0;
  model.trees.forEach((tree, t) => {
    treeLeafStart.push(values.length);
    const base = forest.firstNode[t] ?? 0;
    const firstLeaf = leafBase;
    leafBase += tree.numLeaves;
    if (tree.numLeaves <= 1) return;
    // Leaves in LightGBM's leaf order, so the per-row passes read masks sequentially.
    const found: { leaf: number; features: readonly number[]; steps: readonly PathStep[] }[] = [];
    const walk = (node: number, path: readonly PathStep[], pathFeatures: readonly number[]) => {
      const feature = tree.splitFeature[node] ?? 0;
      const slot = pathFeatures.indexOf(feature);
      const ownFeatures = slot < 0 ? [...pathFeatures, feature] : pathFeatures;
      nodeSlot[base + node] = slot < 0 ? pathFeatures.length : slot;
      firstUse[base + node] = slot < 0 ? 1 : 0;
      for (const left of [true, false]) {
        const child = left ? (tree.leftChild[node] ?? 0) : (tree.rightChild[node] ?? 0);
        const steps = [...path, { node, left, fraction: cover(tree, child) / cover(tree, node) }];
        maskChild[2 * (base + node) + (left ? 0 : 1)] = child >= 0 ? base + child : nodes + firstLeaf + ~child;
        if (child >= 0) walk(child, steps, ownFeatures);
        else found.push({ leaf: ~child, features: ownFeatures, steps });
      }
    };
    walk(0, [], []);
    found.sort((a, b) => a.leaf - b.leaf);
    for (const { leaf, features: ownFeatures, steps } of found) {
      const zero = ownFeatures.map(() => 1);
      for (const step of steps) {
        const at = ownFeatures.indexOf(tree.splitFeature[step.node] ?? 0);
        zero[at] = (zero[at] ?? 1) * step.fraction;
        if (ownFeatures.length > maskLimit) {
          stepNode.push(base + step.node);
          stepLeft.push(step.left ? 1 : 0);
          stepSlot.push(at);
        }
      }
      values.push(tree.leafValue[leaf] ?? 0);
      maskAt.push(nodes + firstLeaf + leaf);
      features.push(...ownFeatures);
      zeros.push(...zero);
      featureStart.push(features.length);
      stepStart.push(stepNode.length);
    }
  });
  treeLeafStart.push(values.length);
  return {
    treeLeafStart: Int32Array.from(treeLeafStart),
    treeClass: Int32Array.from(model.trees, (_, t) => t % model.numTreePerIteration),
    leafValue: Float64Array.from(values),
    featureStart: Int32Array.from(featureStart),
    feature: Int32Array.from(features),
    zero: Float64Array.from(zeros),
    maskAt: Int32Array.from(maskAt),
    nodeSlot,
    firstUse,
    maskChild,
    stepStart: Int32Array.from(stepStart),
    stepNode: Int32Array.from(stepNode),
    stepLeft: Uint8Array.from(stepLeft),
    stepSlot: Int32Array.from(stepSlot),
  };
}

/**
 * All internal nodes, each after its parent. LightGBM numbers nodes in split order, so
 * that is index order; a file from elsewhere may not be, and then trees go depth first.
 */
function parentsFirstOrder(model: LightGbmModel, forest: CompiledForest): Int32Array {
  const inOrder = model.trees.every((tree) => {
    for (let node = 0; node < tree.numLeaves - 1; node += 1) {
      if ((tree.leftChild[node] ?? 0) >= 0 && (tree.leftChild[node] ?? 0) <= node) return false;
      if ((tree.rightChild[node] ?? 0) >= 0 && (tree.rightChild[node] ?? 0) <= node) return false;
    }
    return true;
  });
  const nodes = forest.viewSlot.length;
  if (inOrder) return Int32Array.from({ length: nodes }, (_, node) => node);
  const order: number[] = [];
  model.trees.forEach((tree, t) => {
    const base = forest.firstNode[t] ?? 0;
    const pending = tree.numLeaves > 1 ? [0] : [];
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      order.push(base + node);
      for (const child of [tree.rightChild[node] ?? -1, tree.leftChild[node] ?? -1])
        if (child >= 0) pending.push(child);
    }
  });
  return Int32Array.from(order);
}

interface ShapleyWeights {
  /** W(k, d) = k! (d-1-k)! / d! = 1 / (d * C(d-1, k)), at d * stride + k. */
  readonly weight: Float64Array;
  readonly stride: number;
}

function shapleyWeights(deepest: number): ShapleyWeights {
  const stride = deepest + 1;
  const weight = new Float64Array((deepest + 2) * stride);
  for (let d = 1; d <= deepest + 1; d += 1) {
    for (let size = 0; size < d && size < stride; size += 1) {
      let w = 1 / d;
      for (let i = 1; i <= size; i += 1) w *= i / (d - i);
      weight[d * stride + size] = w;
    }
  }
  return { weight, stride };
}

/**
 * Per tabulated leaf, C(T) = -A(T) * Z(T) for every subset T of its distinct features
 * (bit j = its j-th feature) from tableStart[leaf]; -1 for other leaves.
 */
function buildSubsetTables(
  leaves: LeafTable,
  { weight, stride }: ShapleyWeights,
  featureLimit: number,
): { readonly tableStart: Int32Array; readonly table: Float64Array } {
  const leafCount = leaves.leafValue.length;
  const tableStart = new Int32Array(leafCount).fill(-1);
  let size = 0;
  for (let leaf = 0; leaf < leafCount; leaf += 1) {
    const f0 = leaves.featureStart[leaf] as number;
    const d = (leaves.featureStart[leaf + 1] as number) - f0;
    const cells = 2 ** d;
    if (d > featureLimit || size + cells > TABLE_BUDGET) continue;
    // The followed-feature terms divide by z_j: a zero cover fraction takes the polynomial.
    if (leaves.zero.subarray(f0, f0 + d).some((z) => !(z > 0))) continue;
    tableStart[leaf] = size;
    size += cells;
  }
  const table = new Float64Array(size);
  for (let leaf = 0; leaf < leafCount; leaf += 1) {
    const base = tableStart[leaf] as number;
    if (base < 0) continue;
    const f0 = leaves.featureStart[leaf] as number;
    const d = (leaves.featureStart[leaf + 1] as number) - f0;
    const value = leaves.leafValue[leaf] as number;
    const subsets = 2 ** d;
    // Coefficients of prod_{j in T} (z_j + t), each built from T without its highest bit.
    const width = d + 1;
    const poly = new Float64Array(subsets * width);
    poly[0] = 1;
    for (let subset = 1; subset < subsets; subset += 1) {
      const high = 31 - Math.clz32(subset);
      const from = (subset ^ (1 << high)) * width;
      const to = subset * width;
      const z = leaves.zero[f0 + high] as number;
      poly[to] = (poly[from] as number) * z;
      for (let c = 1; c <= d; c += 1) poly[to + c] = (poly[from + c] as number) * z + (poly[from + c - 1] as number);
    }
    for (let subset = 0; subset < subsets; subset += 1) {
      let sum = 0;
      for (let c = 0; c < d; c += 1) sum += (poly[subset * width + c] as number) * (weight[d * stride + c] as number);
      let outside = 1;
      for (let j = 0; j < d; j += 1) if (((subset >> j) & 1) === 0) outside *= leaves.zero[f0 + j] as number;
      table[base + subset] = -value * sum * outside;
    }
  }
  return { tableStart, table };
}

/**
 * Everything a row's contributions need: row-independent tables plus scratch buffers.
 * Built once per explainer; the per-row functions below take it as an argument and copy
 * its fields into locals (module functions, not closures: with several explainers alive,
 * closures would lose V8's specialisation to one context and run markedly slower).
 */
interface ShapPlan {
  readonly forest: CompiledForest;
  readonly leaves: LeafTable;
  readonly width: number;
  readonly classes: number;
  readonly nodes: number;
  readonly leafCount: number;
  readonly maskLimit: number;
  readonly weight: Float64Array;
  readonly stride: number;
  readonly tableStart: Int32Array;
  readonly table: Float64Array;
  /** The leaves with tableStart -1. */
  readonly untabulated: Int32Array;
  /** -(1 - z_j) / z_j: turns C(O \ {j}) into feature j's term (see buildSubsetTables). */
  readonly followedFactor: Float64Array;
  /** Internal nodes, each after its parent. */
  readonly parentsFirst: Int32Array;
  /**
   * Per internal node in parentsFirst order, NODE_FIELDS numbers: the node, its feature's
   * slot, where its left and right child's mask goes, and its coldTarget. One record
   * array instead of five keeps the per-row passes to one sequential stream.
   */
  readonly nodeRecords: Int32Array;
  /** Per leaf, LEAF_FIELDS numbers: first feature, distinct features, tableStart, output offset, mask index. */
  readonly leafRecords: Int32Array;
  /**
   * Where the backward pass adds node n's subtree total of cold terms: its feature's
   * cell when n is the top-most split on that feature, else a dummy cell past the end.
   */
  readonly coldTarget: Int32Array;
  /** Per leaf, its class block's offset in the output. */
  readonly leafOffset: Int32Array;
  /** Per class, the sum of its trees' expected values in file order: the bias column. */
  readonly bias: Float64Array;
  readonly memo: RoutingMemo | null;
  // Scratch, overwritten by every row.
  readonly goesLeft: Uint8Array;
  /** Per node and leaf (leaves after the nodes): the mask of followed path features. */
  readonly masks: Int32Array;
  readonly coldTotals: Float64Array;
  /** The output blocks plus the dummy cell. */
  readonly sums: Float64Array;
  readonly follows: Uint8Array;
  readonly q: Float64Array;
  readonly r: Float64Array;
}

function buildPlan(model: LightGbmModel, options: ShapOptions): ShapPlan {
  const width = model.numFeatures + 1;
  const classes = model.numTreePerIteration;
  const forest = compile(model);
  const maskLimit = Math.min(options.maskFeatureLimit ?? MASK_BITS, MASK_BITS);
  const leaves = buildLeafTable(model, forest, maskLimit);
  const deepest = model.trees.reduce((max, tree) => Math.max(max, tree.maxDepth), 0);
  const weights = shapleyWeights(deepest);
  const { tableStart, table } = buildSubsetTables(
    leaves,
    weights,
    Math.min(options.tableFeatureLimit ?? DEFAULT_TABLE_FEATURE_LIMIT, maskLimit),
  );
  const nodes = forest.viewSlot.length;
  const { roots, firstNode } = forest;
  const { treeClass, treeLeafStart, firstUse } = leaves;
  const dummyCell = width * classes;
  const coldTarget = new Int32Array(nodes).fill(dummyCell);
  for (let t = 0; t < roots.length; t += 1) {
    const end = t + 1 < roots.length ? (firstNode[t + 1] as number) : nodes;
    for (let node = firstNode[t] as number; node < end; node += 1) {
      if (firstUse[node] === 1) coldTarget[node] = (treeClass[t] as number) * width + (forest.feature[node] as number);
    }
  }
  const leafCount = leaves.leafValue.length;
  const leafOffset = new Int32Array(leafCount);
  const bias = new Float64Array(classes);
  model.trees.forEach((tree, t) => {
    const block = treeClass[t] as number;
    bias[block] = (bias[block] as number) + expectedValue(tree);
    leafOffset.fill(block * width, treeLeafStart[t] as number, treeLeafStart[t + 1] as number);
  });
  const parentsFirst = parentsFirstOrder(model, forest);
  const nodeRecords = new Int32Array(NODE_FIELDS * nodes);
  parentsFirst.forEach((node, i) => {
    nodeRecords.set(
      [
        node,
        leaves.nodeSlot[node] as number,
        leaves.maskChild[2 * node] as number,
        leaves.maskChild[2 * node + 1] as number,
        coldTarget[node] as number,
      ],
      NODE_FIELDS * i,
    );
  });
  const leafRecords = new Int32Array(LEAF_FIELDS * leafCount);
  for (let leaf = 0; leaf < leafCount; leaf += 1) {
    const f0 = leaves.featureStart[leaf] as number;
    leafRecords.set(
      [
        f0,
        (leaves.featureStart[leaf + 1] as number) - f0,
        tableStart[leaf] as number,
        leafOffset[leaf] as number,
        leaves.maskAt[leaf] as number,
      ],
      LEAF_FIELDS * leaf,
    );
  }
  const masks = new Int32Array(nodes + forest.leafValue.length);
  // Roots follow everything; no node writes a root's mask, so this holds across rows.
  for (const root of roots) if (root >= 0) masks[root] = -1;
  // An entry: its key (2 bytes per 16 nodes), its result, and the maps' own overhead.
  const entryBytes = 2 * Math.ceil(nodes / 16) + 8 * width * classes + 128;
  const memoEntries = Math.min(options.memoEntries ?? DEFAULT_MEMO_ENTRIES, Math.floor(MEMO_BUDGET_BYTES / entryBytes));
  return {
    forest,
    leaves,
    width,
    classes,
    nodes,
    leafCount,
    maskLimit,
    weight: weights.weight,
    stride: weights.stride,
    tableStart,
    table,
    untabulated: Int32Array.from(tableStart.keys()).filter((leaf) => (tableStart[leaf] as number) < 0),
    followedFactor: Float64Array.from(leaves.zero, (z) => -(1 - z) / z),
    parentsFirst,
    nodeRecords,
    leafRecords,
    coldTarget,
    leafOffset,
    bias,
    memo: memoEntries > 0 && nodes > 0 ? new RoutingMemo(nodes, memoEntries) : null,
    goesLeft: new Uint8Array(nodes),
    masks,
    coldTotals: new Float64Array(nodes + forest.leafValue.length),
    sums: new Float64Array(width * classes + 1),
    follows: new Uint8Array(deepest + 1),
    q: new Float64Array(deepest + 2),
    r: new Float64Array(deepest + 2),
  };
}

/** Every node's and leaf's mask of followed path features (bit = slot), parents first. */
function fillMasks(plan: ShapPlan): void {
  const { nodeRecords, masks, goesLeft } = plan;
  for (let at = 0; at < nodeRecords.length; at += NODE_FIELDS) {
    const node = nodeRecords[at] as number;
    const mask = masks[node] as number;
    const left = goesLeft[node] as number;
    const slot = nodeRecords[at + 1] as number;
    masks[nodeRecords[at + 2] as number] = mask & ~((left ^ 1) << slot);
    masks[nodeRecords[at + 3] as number] = mask & ~(left << slot);
  }
}

/** follows[] of an untabulated leaf: from its mask, or from its path when wider than a mask. */
function setFollows(plan: ShapPlan, leaf: number, d: number): void {
  const { follows, masks, goesLeft } = plan;
  const { maskAt, stepStart, stepNode, stepLeft, stepSlot } = plan.leaves;
  if (d <= plan.maskLimit) {
    const mask = masks[maskAt[leaf] as number] as number;
    for (let j = 0; j < d; j += 1) follows[j] = (mask >> j) & 1;
    return;
  }
  follows.fill(1, 0, d);
  const stepEnd = stepStart[leaf + 1] as number;
  for (let step = stepStart[leaf] as number; step < stepEnd; step += 1) {
    if (goesLeft[stepNode[step] as number] !== stepLeft[step]) follows[stepSlot[step] as number] = 0;
  }
}

/** phi += one untabulated leaf's contributions, from the polynomial; follows[] set. */
function addByPolynomial(plan: ShapPlan, phi: Float64Array, offset: number, leaf: number): void {
  const { follows, q, r, weight, stride } = plan;
  const { featureStart, feature, zero, leafValue } = plan.leaves;
  const f0 = featureStart[leaf] as number;
  const d = (featureStart[leaf + 1] as number) - f0;
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

function contributionsOf(plan: ShapPlan, x: ArrayLike<number>, out: Float64Array | undefined): Float64Array {
  const { forest, table, followedFactor, untabulated, nodeRecords, leafRecords } = plan;
  const { leafOffset, bias, goesLeft, masks, coldTotals, sums, width, classes } = plan;
  const { featureStart, feature, maskAt } = plan.leaves;
  routeAll(forest, x, goesLeft);
  const { memo } = plan;
  const key = memo?.keyOf(goesLeft);
  if (memo !== null && key !== undefined) {
    const known = memo.get(key);
    if (known !== undefined) {
      const result = out ?? new Float64Array(known.length);
      result.set(known);
      return result;
    }
  }
  sums.fill(0);
  fillMasks(plan);
  // Every feature of a tabulated leaf gets the leaf's cold term C(O); followed features
  // get their own term instead. The cold terms are summed per subtree below and added
  // once per feature, at its top-most split, so each leaf only visits its followed features.
  for (let at = 0; at < leafRecords.length; at += LEAF_FIELDS) {
    const base = leafRecords[at + 2] as number;
    if (base < 0) continue;
    const f0 = leafRecords[at] as number;
    const d = leafRecords[at + 1] as number;
    const offset = leafRecords[at + 3] as number;
    const maskIndex = leafRecords[at + 4] as number;
    const followed = (masks[maskIndex] as number) & ((1 << d) - 1);
    const cold = table[base + followed] as number;
    coldTotals[maskIndex] = cold;
    for (let rest = followed; rest !== 0; rest &= rest - 1) {
      const j = 31 - Math.clz32(rest & -rest);
      const cell = offset + (feature[f0 + j] as number);
      const own = (followedFactor[f0 + j] as number) * (table[base + (followed ^ (1 << j))] as number);
      sums[cell] = (sums[cell] as number) + (own - cold);
    }
  }
  // Untabulated leaves (none in most models) add every term themselves; cold total 0.
  for (let i = 0; i < untabulated.length; i += 1) {
    const leaf = untabulated[i] as number;
    const d = (featureStart[leaf + 1] as number) - (featureStart[leaf] as number);
    coldTotals[maskAt[leaf] as number] = 0;
    setFollows(plan, leaf, d);
    addByPolynomial(plan, sums, leafOffset[leaf] as number, leaf);
  }
  // Children before parents: subtree totals of the cold terms, added at each feature's
  // top-most split (other nodes add to the dummy cell).
  for (let at = nodeRecords.length - NODE_FIELDS; at >= 0; at -= NODE_FIELDS) {
    const total =
      (coldTotals[nodeRecords[at + 2] as number] as number) + (coldTotals[nodeRecords[at + 3] as number] as number);
    coldTotals[nodeRecords[at] as number] = total;
    const cell = nodeRecords[at + 4] as number;
    sums[cell] = (sums[cell] as number) + total;
  }
  for (let c = 0; c < classes; c += 1) sums[c * width + width - 1] = bias[c] as number;
  const result = out ?? new Float64Array(width * classes);
  result.set(sums.subarray(0, width * classes));
  if (memo !== null && key !== undefined) memo.remember(key, result.slice());
  return result;
}

export function createShapExplainer(model: LightGbmModel, options: ShapOptions = {}): ShapExplainer {
  for (const [index, tree] of model.trees.entries()) {
    if (tree.linear !== null)
      throw new Error(`TreeSHAP does not support linear trees (tree ${index}), nor does LightGBM`);
    if (tree.numLeaves > 1 && !((tree.internalCount[0] ?? 0) > 0)) {
      throw new Error(`tree ${index} has no training counts: contributions cannot be computed`);
    }
  }
  const plan = buildPlan(model, options);
  return {
    width: plan.width,
    contributions: (x, out) => contributionsOf(plan, x, out),
    memo: plan.memo?.stats ?? null,
  };
}
