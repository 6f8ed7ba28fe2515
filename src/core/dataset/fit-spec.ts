// Fitting the fuzzy breakpoints of a feature spec on training rows: the 10th, 50th and
// 90th percentiles of each axis (missing values ignored), so "low/medium/high" mean the
// same share of customers whatever the business's scale.
import { AXIS_FEATURES, type AxisFeature, RAW_FEATURES } from '../features/names.js';
import type { Breakpoints, FeatureSpec } from '../features/spec.js';

const quantile = (sorted: readonly number[], q: number): number => {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] ?? Number.NaN;
  const b = sorted[high] ?? Number.NaN;
  return a + (b - a) * (position - low);
};

export function fitFeatureSpec(rawRows: readonly Float64Array[], base: FeatureSpec, version: string): FeatureSpec {
  const breakpoints = { ...base.breakpoints } as Record<AxisFeature, Breakpoints>;
  for (const axis of AXIS_FEATURES) {
    const index = RAW_FEATURES.indexOf(axis);
    const values = rawRows
      .map((row) => row[index] ?? Number.NaN)
      .filter((v) => !Number.isNaN(v))
      .sort((a, b) => a - b);
    if (values.length < 10) continue; // too few to fit: keep the base breakpoints
    breakpoints[axis] = [quantile(values, 0.1), quantile(values, 0.5), quantile(values, 0.9)];
  }
  return { ...base, version, breakpoints };
}
