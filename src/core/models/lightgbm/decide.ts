// LightGBM's routing rule at one internal node, shared by prediction and TreeSHAP
// (TreeSHAP must route the "hot" path exactly as prediction does).
import type { Tree } from './model.js';

/** LightGBM's kZeroThreshold: the float32 1e-35, used as a double. */
export const ZERO_THRESHOLD = Math.fround(1e-35);

const CATEGORICAL = 1;
const DEFAULT_LEFT = 2;
const MISSING_ZERO = 1;
const MISSING_NAN = 2;
const INT32_LIMIT = 2 ** 31;

/** The child (node index >= 0, or ~leaf) that x goes to at `node`. */
export function nextNode(tree: Tree, node: number, x: ArrayLike<number>): number {
  const decision = tree.decisionType[node] ?? 0;
  let value = x[tree.splitFeature[node] ?? 0] ?? Number.NaN;
  const left = tree.leftChild[node] ?? 0;
  const right = tree.rightChild[node] ?? 0;
  if (decision & CATEGORICAL) {
    // NaN, negatives and values past int32 (C's cast is undefined there) go right.
    if (Number.isNaN(value) || value <= -1 || value >= INT32_LIMIT) return right;
    const category = Math.trunc(value);
    const set = Math.trunc(tree.threshold[node] ?? 0);
    const start = tree.catBoundaries[set] ?? 0;
    const words = (tree.catBoundaries[set + 1] ?? 0) - start;
    const word = category >>> 5;
    if (word >= words) return right;
    return ((tree.catThreshold[start + word] ?? 0) >>> (category & 31)) & 1 ? left : right;
  }
  const missing = (decision >> 2) & 3;
  // LightGBM's C API drops |x| <= kZeroThreshold from a dense row before prediction, so
  // such values are exactly 0 (this matters when a threshold is itself +-kZeroThreshold).
  if ((value >= -ZERO_THRESHOLD && value <= ZERO_THRESHOLD) || (Number.isNaN(value) && missing !== MISSING_NAN))
    value = 0;
  if (
    (missing === MISSING_ZERO && value >= -ZERO_THRESHOLD && value <= ZERO_THRESHOLD) ||
    (missing === MISSING_NAN && Number.isNaN(value))
  ) {
    return decision & DEFAULT_LEFT ? left : right;
  }
  return value <= (tree.threshold[node] ?? 0) ? left : right;
}

/** Index of the leaf x falls into. */
export function leafIndex(tree: Tree, x: ArrayLike<number>): number {
  if (tree.numLeaves <= 1) return 0;
  let node = 0;
  while (node >= 0) node = nextNode(tree, node, x);
  return ~node;
}
