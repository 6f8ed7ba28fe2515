// Fitting the fuzzy breakpoints of a feature spec on training rows: the 10th, 50th and
// 90th percentiles of each axis (missing values ignored), so "low/medium/high" mean the
// same share of customers whatever the business's scale.
import { AXIS_FEATURES, type AxisFeature, RAW_FEATURES } from '../features/names.js';
import type { Breakpoints, FeatureSpec } from '../features/spec.js';

const quantile = (sorted: ArrayLike<number>, q: number): number => {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] ?? Number.NaN;
  const b = sorted[high] ?? Number.NaN;
  return a + (b - a) * (position - low);
};

/** Index in the raw feature row of each axis the spec has breakpoints for. */
export const AXIS_INDEXES: readonly number[] = AXIS_FEATURES.map((axis) => RAW_FEATURES.indexOf(axis));

/** The 10th, 50th and 90th percentiles of the values present (NaN: missing), or null when too few. */
function breakpointsOf(values: Float64Array): Breakpoints | null {
  const present = values.filter((v) => !Number.isNaN(v)).sort();
  if (present.length < 10) return null; // too few to fit: keep the base breakpoints
  return [quantile(present, 0.1), quantile(present, 0.5), quantile(present, 0.9)];
}

/**
 * Fits from each axis's values in any order, so a caller can hold one axis at a time:
 * `values(i)` gives the values of AXIS_FEATURES[i].
 */
export async function fitFeatureSpecFromAxes(
  values: (axis: number) => Promise<Float64Array>,
  base: FeatureSpec,
  version: string,
): Promise<FeatureSpec> {
  const breakpoints = { ...base.breakpoints } as Record<AxisFeature, Breakpoints>;
  for (const [i, axis] of AXIS_FEATURES.entries())
    breakpoints[axis] = breakpointsOf(await values(i)) ?? breakpoints[axis];
  return { ...base, version, breakpoints };
}

export function fitFeatureSpec(rawRows: readonly Float64Array[], base: FeatureSpec, version: string): FeatureSpec {
  const breakpoints = { ...base.breakpoints } as Record<AxisFeature, Breakpoints>;
  for (const [i, axis] of AXIS_FEATURES.entries()) {
    const index = AXIS_INDEXES[i] ?? -1;
    breakpoints[axis] =
      breakpointsOf(Float64Array.from(rawRows, (row) => row[index] ?? Number.NaN)) ?? breakpoints[axis];
  }
  return { ...base, version, breakpoints };
}
