// Decision regions of a forest: a tree model's output depends on a feature only through
// the splits on it. Two rows whose every used feature sits in the same region (same
// side of every threshold, same missing/zero status) get the same prediction. The
// streaming scorer uses this to rescore a silent customer only when time moves a
// feature into another region, not on every day that passes.
import { ZERO_THRESHOLD } from './decide.js';
import type { LightGbmModel } from './model.js';

export interface FeatureRegions {
  /** Model feature index. */
  readonly feature: number;
  /** Distinct numerical thresholds, ascending. */
  readonly thresholds: Float64Array;
  /**
   * True when the output depends on the exact value (categorical splits, linear leaves):
   * any change of the value is a change of region.
   */
  readonly exact: boolean;
}

/** Per used feature, the splits that can change the output; unused features are absent. */
export function featureRegions(model: LightGbmModel): FeatureRegions[] {
  const thresholds = new Map<number, Set<number>>();
  const exact = new Set<number>();
  const use = (feature: number) => {
    let set = thresholds.get(feature);
    if (set === undefined) {
      set = new Set();
      thresholds.set(feature, set);
    }
    return set;
  };
  for (const tree of model.trees) {
    for (let node = 0; node < tree.numLeaves - 1; node += 1) {
      const feature = tree.splitFeature[node] ?? 0;
      const set = use(feature);
      if ((tree.decisionType[node] ?? 0) & 1) exact.add(feature);
      else set.add(tree.threshold[node] ?? 0);
    }
    for (const features of tree.linear?.leafFeatures ?? []) {
      for (const feature of features) {
        use(feature);
        exact.add(feature);
      }
    }
  }
  return [...thresholds.entries()]
    .sort(([a], [b]) => a - b)
    .map(([feature, set]) => ({
      feature,
      thresholds: Float64Array.from([...set].sort((a, b) => a - b)),
      exact: exact.has(feature),
    }));
}

const NAN_REGION = -1;
const ZERO_REGION = -2;

/**
 * The region of a value: NaN and values LightGBM treats as zero get their own regions
 * (missing-value handling may route them apart from their neighbours); otherwise the
 * number of thresholds below the value, which fixes the side of every `value <= t`.
 */
export function regionOf(regions: FeatureRegions, value: number): number {
  if (Number.isNaN(value)) return NAN_REGION;
  if (value >= -ZERO_THRESHOLD && value <= ZERO_THRESHOLD) return ZERO_REGION;
  const t = regions.thresholds;
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((t[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether two values of a feature are routed identically by every split on it. */
export function sameRegion(regions: FeatureRegions, a: number, b: number): boolean {
  if (regions.exact) return Object.is(a, b);
  return regionOf(regions, a) === regionOf(regions, b);
}
