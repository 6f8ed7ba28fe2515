// A model flattened for speed: the nodes of all trees in one set of typed arrays,
// each node tagged with a small routing kind so the common case (a numerical split
// without missing-value handling) is one comparison. Same decisions as decide.ts
// (the golden tests check both paths against LightGBM). Built once per model.
import { ZERO_THRESHOLD } from './decide.js';
import type { LightGbmModel } from './model.js';

// Routing kinds. Numerical splits by missing type (None / NaN / Zero) and default
// direction, and categorical splits.
const PLAIN = 0;
const NAN_LEFT = 1;
const NAN_RIGHT = 2;
const ZERO_LEFT = 3;
const ZERO_RIGHT = 4;
const CATEGORICAL = 5;

function kindOf(decision: number): number {
  if (decision & 1) return CATEGORICAL;
  const missing = (decision >> 2) & 3;
  const defaultLeft = (decision & 2) !== 0;
  if (missing === 2) return defaultLeft ? NAN_LEFT : NAN_RIGHT;
  if (missing === 1) return defaultLeft ? ZERO_LEFT : ZERO_RIGHT;
  return PLAIN;
}

export interface CompiledForest {
  readonly roots: Int32Array;
  /** Global index of each tree's node 0 (its nodes are contiguous). */
  readonly firstNode: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly kind: Uint8Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Categorical nodes: first word of the node's bitset in catWords, and its length. */
  readonly catStart: Int32Array;
  readonly catLength: Int32Array;
  readonly catWords: Uint32Array;
  readonly leafValue: Float64Array;
  /** Scratch row: x with NaN and |x| <= kZ replaced by 0, what PLAIN nodes compare. */
  readonly zeroed: Float64Array;
}

const cache = new WeakMap<LightGbmModel, CompiledForest>();

export function compile(model: LightGbmModel): CompiledForest {
  const cached = cache.get(model);
  if (cached !== undefined) return cached;
  const nodes = model.trees.reduce((n, tree) => n + tree.numLeaves - 1, 0);
  const leaves = model.trees.reduce((n, tree) => n + tree.numLeaves, 0);
  const forest: CompiledForest = {
    roots: new Int32Array(model.trees.length),
    firstNode: new Int32Array(model.trees.length),
    feature: new Int32Array(nodes),
    threshold: new Float64Array(nodes),
    kind: new Uint8Array(nodes),
    left: new Int32Array(nodes),
    right: new Int32Array(nodes),
    catStart: new Int32Array(nodes),
    catLength: new Int32Array(nodes),
    catWords: new Uint32Array(model.trees.reduce((n, tree) => n + tree.catThreshold.length, 0)),
    leafValue: new Float64Array(leaves),
    zeroed: new Float64Array(model.numFeatures),
  };
  let nodeBase = 0;
  let leafBase = 0;
  let wordBase = 0;
  model.trees.forEach((tree, t) => {
    const inner = tree.numLeaves - 1;
    const globalChild = (child: number) => (child >= 0 ? nodeBase + child : ~(leafBase + ~child));
    forest.roots[t] = inner > 0 ? nodeBase : ~leafBase;
    forest.firstNode[t] = nodeBase;
    for (let i = 0; i < inner; i += 1) {
      const at = nodeBase + i;
      const decision = tree.decisionType[i] as number;
      forest.feature[at] = tree.splitFeature[i] as number;
      forest.threshold[at] = tree.threshold[i] as number;
      forest.kind[at] = kindOf(decision);
      if (decision & 1) {
        const set = Math.trunc(tree.threshold[i] as number);
        const start = tree.catBoundaries[set] as number;
        forest.catStart[at] = wordBase + start;
        forest.catLength[at] = (tree.catBoundaries[set + 1] as number) - start;
      }
      forest.left[at] = globalChild(tree.leftChild[i] as number);
      forest.right[at] = globalChild(tree.rightChild[i] as number);
    }
    forest.catWords.set(tree.catThreshold, wordBase);
    wordBase += tree.catThreshold.length;
    forest.leafValue.set(tree.leafValue, leafBase);
    nodeBase += inner;
    leafBase += tree.numLeaves;
  });
  cache.set(model, forest);
  return forest;
}

/** The child of a compiled node for the row x (LightGBM's rules, as in decide.ts). */
function route(forest: CompiledForest, node: number, x: ArrayLike<number>): number {
  let value = x[forest.feature[node] as number] as number;
  const kind = forest.kind[node] as number;
  const left = forest.left[node] as number;
  const right = forest.right[node] as number;
  switch (kind) {
    case PLAIN:
      // NaN and |x| <= kZ both read as 0 (LightGBM's C API drops such values from a dense row).
      if (!(value > ZERO_THRESHOLD) && !(value < -ZERO_THRESHOLD)) value = 0;
      return value <= (forest.threshold[node] as number) ? left : right;
    case NAN_LEFT:
    case NAN_RIGHT:
      if (Number.isNaN(value)) return kind === NAN_LEFT ? left : right;
      if (!(value > ZERO_THRESHOLD) && !(value < -ZERO_THRESHOLD)) value = 0;
      return value <= (forest.threshold[node] as number) ? left : right;
    case ZERO_LEFT:
    case ZERO_RIGHT:
      if (!(value > ZERO_THRESHOLD) && !(value < -ZERO_THRESHOLD)) return kind === ZERO_LEFT ? left : right;
      return value <= (forest.threshold[node] as number) ? left : right;
    default: {
      // Categorical: NaN, negatives and values past int32 go right; else test the bit.
      if (!(value > -1 && value < 2147483648)) return right;
      const category = Math.trunc(value);
      const word = category >>> 5;
      if (word >= (forest.catLength[node] as number)) return right;
      return ((forest.catWords[(forest.catStart[node] as number) + word] as number) >>> (category & 31)) & 1
        ? left
        : right;
    }
  }
}

/** Raw scores of a model without linear trees; same result as evaluate.predictRaw. */
export function predictRawCompiled(
  model: LightGbmModel,
  forest: CompiledForest,
  x: ArrayLike<number>,
  raw: Float64Array,
): void {
  const { roots, leafValue, kind, feature, threshold, left, right, zeroed } = forest;
  const k = model.numTreePerIteration;
  raw.fill(0);
  let sum = 0;
  fillZeroed(zeroed, x);
  for (let t = 0; t < roots.length; t += 1) {
    let node = roots[t] as number;
    while (node >= 0) {
      const nodeKind = kind[node] as number;
      if (nodeKind <= NAN_RIGHT) {
        const f = feature[node] as number;
        const value = x[f] as number;
        if (nodeKind !== PLAIN && Number.isNaN(value))
          node = nodeKind === NAN_LEFT ? (left[node] as number) : (right[node] as number);
        else
          node =
            (zeroed[f] as number) <= (threshold[node] as number) ? (left[node] as number) : (right[node] as number);
      } else {
        node = route(forest, node, x);
      }
    }
    if (k === 1) sum += leafValue[~node] as number;
    else raw[t % k] = (raw[t % k] as number) + (leafValue[~node] as number);
  }
  // Same additions in the same order as accumulating in raw[0]: bit-identical.
  if (k === 1) raw[0] = sum;
}

/** Fills the scratch row PLAIN nodes compare: NaN and |x| <= kZ read as 0. */
function fillZeroed(zeroed: Float64Array, x: ArrayLike<number>): void {
  for (let f = 0; f < zeroed.length; f += 1) {
    const value = x[f] as number;
    zeroed[f] = value > ZERO_THRESHOLD || value < -ZERO_THRESHOLD ? value : 0;
  }
}

/** For every node of every tree, whether x goes to its left child (1) or right (0). */
export function routeAll(forest: CompiledForest, x: ArrayLike<number>, goesLeft: Uint8Array): void {
  const { kind, feature, threshold, left, zeroed } = forest;
  fillZeroed(zeroed, x);
  for (let node = 0; node < kind.length; node += 1) {
    const nodeKind = kind[node] as number;
    if (nodeKind <= NAN_RIGHT) {
      const f = feature[node] as number;
      if (nodeKind !== PLAIN && Number.isNaN(x[f] as number)) goesLeft[node] = nodeKind === NAN_LEFT ? 1 : 0;
      else goesLeft[node] = (zeroed[f] as number) <= (threshold[node] as number) ? 1 : 0;
    } else {
      goesLeft[node] = route(forest, node, x) === left[node] ? 1 : 0;
    }
  }
}
