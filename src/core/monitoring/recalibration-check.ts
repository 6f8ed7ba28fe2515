// Whether a recalibration helps, judged on labels it was not fitted on. The statistics are
// bin counts, so "not fitted on" is a K-fold over the labels inside each bin: every label is
// put in one of K folds at random (a seeded generator, so a run is reproducible), the map is
// fitted on the other folds' counts and its calibration error measured on the fold's own.
// With only bins stored this is exactly what a K-fold over the raw labels gives a fitter that
// sees bins: the held-out labels' outcomes are never seen by the fit. What the folds share is
// each bin's mean prediction (its sum is not kept per label); that is an input, not a label.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { LabelStats } from './calibration.js';
import { type BinPoint, binCalibrationError, binPoints, fitPlatt, type PlattMap } from './recalibration.js';

export interface RecalibrationPolicy {
  readonly folds: number;
  readonly seed: number;
  /** Fewer labels, or fewer of either outcome: no fit is trusted. */
  readonly minLabels: number;
  readonly minPerClass: number;
}

export const DEFAULT_RECALIBRATION: RecalibrationPolicy = { folds: 5, seed: 1, minLabels: 200, minPerClass: 20 };

export type RecalibrationDecision = 'apply' | 'no_gain' | 'insufficient' | 'no_fit';

export interface RecalibrationCheck {
  readonly labels: number;
  readonly churned: number;
  /** Fitted on every label (what is applied when the decision is `apply`). */
  readonly map: PlattMap | null;
  /** Calibration error on held-out folds: as the model scores, and with each fold's map. */
  readonly heldOut: { readonly before: number; readonly after: number };
  /** On the labels the map was fitted on (optimistic; for reference only). */
  readonly inSample: { readonly before: number; readonly after: number };
  readonly decision: RecalibrationDecision;
}

/** A seeded uniform [0, 1) generator (pure-rand's xoroshiro128+): tests draw populations with it too. */
export function generator(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  return () => uniformFloat64(rng);
}

/** Each bin's labels dealt into `folds` folds at random; a fold's bins line up with `points` and keep their means. */
export function dealFolds(points: readonly BinPoint[], folds: number, seed: number): BinPoint[][] {
  const rng = xoroshiro128plus(seed);
  const out = Array.from({ length: folds }, () => points.map((p) => ({ ...p, count: 0, churned: 0 })));
  points.forEach((point, bin) => {
    for (let i = 0; i < point.count; i += 1) {
      const fold = out[uniformInt(rng, 0, folds - 1)];
      const target = fold?.[bin];
      if (target === undefined) continue;
      target.count += 1;
      if (i < point.churned) target.churned += 1;
    }
  });
  return out;
}

/** Every fold but `skip`, summed bin by bin: the training part of a fold. */
function others(folds: readonly BinPoint[][], skip: number, points: readonly BinPoint[]): BinPoint[] {
  return points.map((point, bin) => {
    let count = 0;
    let churned = 0;
    folds.forEach((fold, k) => {
      if (k === skip) return;
      count += fold[bin]?.count ?? 0;
      churned += fold[bin]?.churned ?? 0;
    });
    return { count, churned, meanPredicted: point.meanPredicted };
  });
}

/** Fits the map on every label and checks it on held-out folds; `apply` only if it lowers the error there. */
export function checkRecalibration(
  stats: LabelStats,
  policy: RecalibrationPolicy = DEFAULT_RECALIBRATION,
): RecalibrationCheck {
  const points = binPoints(stats);
  const labels = points.reduce((s, p) => s + p.count, 0);
  const churned = points.reduce((s, p) => s + p.churned, 0);
  const map = fitPlatt(points);
  const inSample = { before: binCalibrationError(points), after: binCalibrationError(points, map) };
  const nan = { before: Number.NaN, after: Number.NaN };
  const base = { labels, churned, map, inSample };
  if (labels < policy.minLabels || churned < policy.minPerClass || labels - churned < policy.minPerClass)
    return { ...base, heldOut: nan, decision: 'insufficient' };
  if (map === null) return { ...base, heldOut: nan, decision: 'no_fit' };
  const folds = dealFolds(points, policy.folds, policy.seed);
  let before = 0;
  let after = 0;
  folds.forEach((fold, k) => {
    const n = fold.reduce((s, p) => s + p.count, 0);
    if (n === 0) return;
    // A fold whose training part cannot fit a map keeps the model's scores (no gain counted).
    const foldMap = fitPlatt(others(folds, k, points));
    before += n * binCalibrationError(fold);
    after += n * binCalibrationError(fold, foldMap);
  });
  const heldOut = { before: before / labels, after: after / labels };
  return { ...base, heldOut, decision: heldOut.after < heldOut.before ? 'apply' : 'no_gain' };
}
