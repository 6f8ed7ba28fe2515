// A model flattened for speed: the nodes of all trees in one set of typed arrays. Each
// numerical node reads the row through one of five "views" prepared once per row, so
// that missing-value handling is folded into the value and the node is one comparison:
// the view maps NaN (or zero) to -Infinity when the node's default direction is left
// and to +Infinity when it is right. A node's two children sit next to each other, so
// the step is child[2 * node + (goes right)]. Categorical nodes and the few numerical
// nodes where the mapping would be ambiguous (a +Infinity or NaN threshold) take the
// general rule. Same decisions as decide.ts (the golden tests check both paths
// against LightGBM). Built once per model.
import { ZERO_THRESHOLD } from './decide.js';
import type { LightGbmModel } from './model.js';

// Views of the row, one per numerical routing kind (missing type and default direction).
const PLAIN = 0; // missing None: NaN and |x| <= kZ read as 0
const NAN_LEFT = 1; // missing NaN: NaN goes to the default side, |x| <= kZ reads as 0
const NAN_RIGHT = 2;
const ZERO_LEFT = 3; // missing Zero: NaN and |x| <= kZ go to the default side
const ZERO_RIGHT = 4;
const VIEWS = 5;
const CATEGORICAL = 5;

function kindOf(decision: number): number {
  if (decision & 1) return CATEGORICAL;
  const missing = (decision >> 2) & 3;
  const defaultLeft = (decision & 2) !== 0;
  if (missing === 2) return defaultLeft ? NAN_LEFT : NAN_RIGHT;
  if (missing === 1) return defaultLeft ? ZERO_LEFT : ZERO_RIGHT;
  return PLAIN;
}

/** Whether "view value <= threshold" decides this node exactly like LightGBM. */
function comparable(kind: number, threshold: number): boolean {
  if (kind === CATEGORICAL || Number.isNaN(threshold)) return false;
  // A missing value mapped to +Infinity would go left of a +Infinity threshold.
  return !((kind === NAN_RIGHT || kind === ZERO_RIGHT) && threshold === Number.POSITIVE_INFINITY);
}

export interface CompiledForest {
  readonly roots: Int32Array;
  /** Global index of each tree's node 0 (its nodes are contiguous). */
  readonly firstNode: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly kind: Uint8Array;
  /** Children of node n at 2n (left) and 2n + 1 (right): >= 0 a node, else ~leaf. */
  readonly child: Int32Array;
  /** Where node n reads its value in `views` (kind * numFeatures + feature), or -1: general rule. */
  readonly viewSlot: Int32Array;
  /** viewSlot with the general-rule nodes pointing at the extra 0 at the end of views. */
  readonly routeSlot: Int32Array;
  /** The nodes with viewSlot -1. */
  readonly generalNodes: Int32Array;
  /** Categorical nodes: first word of the node's bitset in catWords, and its length. */
  readonly catStart: Int32Array;
  readonly catLength: Int32Array;
  readonly catWords: Uint32Array;
  readonly leafValue: Float64Array;
  /** Which views some node reads (bit per kind): only those are filled per row. */
  readonly usedViews: number;
  /** Scratch: the row's views, VIEWS blocks of numFeatures, then one 0 that routeAll reads for general nodes. */
  readonly views: Float64Array;
  readonly numFeatures: number;
}

const cache = new WeakMap<LightGbmModel, CompiledForest>();

export function compile(model: LightGbmModel): CompiledForest {
  const cached = cache.get(model);
  if (cached !== undefined) return cached;
  const nodes = model.trees.reduce((n, tree) => n + tree.numLeaves - 1, 0);
  const leaves = model.trees.reduce((n, tree) => n + tree.numLeaves, 0);
  const numFeatures = model.numFeatures;
  const feature = new Int32Array(nodes);
  const threshold = new Float64Array(nodes);
  const kind = new Uint8Array(nodes);
  const child = new Int32Array(2 * nodes);
  const viewSlot = new Int32Array(nodes);
  const catStart = new Int32Array(nodes);
  const catLength = new Int32Array(nodes);
  const catWords = new Uint32Array(model.trees.reduce((n, tree) => n + tree.catThreshold.length, 0));
  const leafValue = new Float64Array(leaves);
  const roots = new Int32Array(model.trees.length);
  const firstNode = new Int32Array(model.trees.length);
  let usedViews = 0;
  let nodeBase = 0;
  let leafBase = 0;
  let wordBase = 0;
  model.trees.forEach((tree, t) => {
    const inner = tree.numLeaves - 1;
    const globalChild = (c: number) => (c >= 0 ? nodeBase + c : ~(leafBase + ~c));
    roots[t] = inner > 0 ? nodeBase : ~leafBase;
    firstNode[t] = nodeBase;
    for (let i = 0; i < inner; i += 1) {
      const at = nodeBase + i;
      const decision = tree.decisionType[i] as number;
      const nodeKind = kindOf(decision);
      feature[at] = tree.splitFeature[i] as number;
      threshold[at] = tree.threshold[i] as number;
      kind[at] = nodeKind;
      if (comparable(nodeKind, threshold[at] as number)) {
        viewSlot[at] = nodeKind * numFeatures + (feature[at] as number);
        usedViews |= 1 << nodeKind;
      } else {
        viewSlot[at] = -1;
      }
      if (nodeKind === CATEGORICAL) {
        const set = Math.trunc(tree.threshold[i] as number);
        const start = tree.catBoundaries[set] as number;
        catStart[at] = wordBase + start;
        catLength[at] = (tree.catBoundaries[set + 1] as number) - start;
      }
      child[2 * at] = globalChild(tree.leftChild[i] as number);
      child[2 * at + 1] = globalChild(tree.rightChild[i] as number);
    }
    catWords.set(tree.catThreshold, wordBase);
    wordBase += tree.catThreshold.length;
    leafValue.set(tree.leafValue, leafBase);
    nodeBase += inner;
    leafBase += tree.numLeaves;
  });
  const forest: CompiledForest = {
    roots,
    firstNode,
    feature,
    threshold,
    kind,
    child,
    viewSlot,
    catStart,
    catLength,
    catWords,
    leafValue,
    usedViews,
    routeSlot: viewSlot.map((slot) => (slot < 0 ? VIEWS * numFeatures : slot)),
    generalNodes: Int32Array.from(viewSlot.keys()).filter((node) => (viewSlot[node] as number) < 0),
    views: new Float64Array(VIEWS * numFeatures + 1),
    numFeatures,
  };
  cache.set(model, forest);
  return forest;
}

const isZero = (value: number): boolean => !(value > ZERO_THRESHOLD) && !(value < -ZERO_THRESHOLD);

/** Fills the views of x that the forest reads (see the file comment). */
function fillViews(forest: CompiledForest, x: ArrayLike<number>): void {
  const { views, usedViews, numFeatures } = forest;
  const inf = Number.POSITIVE_INFINITY;
  for (let f = 0; f < numFeatures; f += 1) {
    const value = x[f] as number;
    const nan = Number.isNaN(value);
    const zeroish = isZero(value); // true for NaN too
    const zeroed = zeroish ? 0 : value;
    if (usedViews & (1 << PLAIN)) views[f] = zeroed;
    if (usedViews & (1 << NAN_LEFT)) views[NAN_LEFT * numFeatures + f] = nan ? -inf : zeroed;
    if (usedViews & (1 << NAN_RIGHT)) views[NAN_RIGHT * numFeatures + f] = nan ? inf : zeroed;
    if (usedViews & (1 << ZERO_LEFT)) views[ZERO_LEFT * numFeatures + f] = zeroish ? -inf : value;
    if (usedViews & (1 << ZERO_RIGHT)) views[ZERO_RIGHT * numFeatures + f] = zeroish ? inf : value;
  }
}

/** The child of a node by LightGBM's general rule (nodes without a view slot). */
function route(forest: CompiledForest, node: number, x: ArrayLike<number>): number {
  const value = x[forest.feature[node] as number] as number;
  const nodeKind = forest.kind[node] as number;
  const left = forest.child[2 * node] as number;
  const right = forest.child[2 * node + 1] as number;
  if (nodeKind === CATEGORICAL) {
    // NaN, negatives and values past int32 go right; else test the bit.
    if (!(value > -1 && value < 2147483648)) return right;
    const category = Math.trunc(value);
    const word = category >>> 5;
    if (word >= (forest.catLength[node] as number)) return right;
    return ((forest.catWords[(forest.catStart[node] as number) + word] as number) >>> (category & 31)) & 1
      ? left
      : right;
  }
  const defaultSide = nodeKind === NAN_LEFT || nodeKind === ZERO_LEFT ? left : right;
  if ((nodeKind === NAN_LEFT || nodeKind === NAN_RIGHT) && Number.isNaN(value)) return defaultSide;
  if ((nodeKind === ZERO_LEFT || nodeKind === ZERO_RIGHT) && isZero(value)) return defaultSide;
  // NaN and |x| <= kZ both read as 0 (LightGBM's C API drops such values from a dense row).
  return (isZero(value) ? 0 : value) <= (forest.threshold[node] as number) ? left : right;
}

/** The leaf x reaches from `node` (a node index, or ~leaf for a single-leaf tree). */
function descend(forest: CompiledForest, node: number, x: ArrayLike<number>): number {
  const { child, viewSlot, threshold, views } = forest;
  let at = node;
  while (at >= 0) {
    const slot = viewSlot[at] as number;
    at =
      slot >= 0
        ? (child[2 * at + ((views[slot] as number) <= (threshold[at] as number) ? 0 : 1)] as number)
        : route(forest, at, x);
  }
  return ~at;
}

/** Raw scores of a model without linear trees; same result as evaluate.predictRaw. */
export function predictRawCompiled(
  model: LightGbmModel,
  forest: CompiledForest,
  x: ArrayLike<number>,
  raw: Float64Array,
): void {
  const { roots, leafValue, child, viewSlot, threshold, views } = forest;
  const k = model.numTreePerIteration;
  fillViews(forest, x);
  if (k > 1) {
    raw.fill(0);
    for (let t = 0; t < roots.length; t += 1) {
      raw[t % k] = (raw[t % k] as number) + (leafValue[descend(forest, roots[t] as number, x)] as number);
    }
    return;
  }
  // One class: trees walked in pairs, interleaved, so the CPU overlaps the two chains
  // of dependent loads; leaf values still added one by one in file order (bit-identical).
  let sum = 0;
  let t = 0;
  for (; t + 1 < roots.length; t += 2) {
    let a = roots[t] as number;
    let b = roots[t + 1] as number;
    while (a >= 0 && b >= 0) {
      const slotA = viewSlot[a] as number;
      const slotB = viewSlot[b] as number;
      if (slotA < 0 || slotB < 0) break;
      a = child[2 * a + ((views[slotA] as number) <= (threshold[a] as number) ? 0 : 1)] as number;
      b = child[2 * b + ((views[slotB] as number) <= (threshold[b] as number) ? 0 : 1)] as number;
    }
    sum += leafValue[descend(forest, a, x)] as number;
    sum += leafValue[descend(forest, b, x)] as number;
  }
  if (t < roots.length) sum += leafValue[descend(forest, roots[t] as number, x)] as number;
  raw[0] = sum;
}

/** For every node of every tree, whether x goes to its left child (1) or right (0). */
export function routeAll(forest: CompiledForest, x: ArrayLike<number>, goesLeft: Uint8Array): void {
  const { child, routeSlot, threshold, views, generalNodes } = forest;
  fillViews(forest, x);
  // Branch-free over all nodes (general-rule nodes read a dummy view), then those fixed.
  for (let node = 0; node < routeSlot.length; node += 1) {
    goesLeft[node] = +((views[routeSlot[node] as number] as number) <= (threshold[node] as number));
  }
  for (let i = 0; i < generalNodes.length; i += 1) {
    const node = generalNodes[i] as number;
    goesLeft[node] = route(forest, node, x) === child[2 * node] ? 1 : 0;
  }
}
