// Recalibration from the stream's own resolved labels: a Platt map on the logit,
// p' = sigmoid(a * logit(p) + b) with a > 0, fitted to a version's label statistics (the
// binned counts every scorer keeps per version in Redis). a > 0 makes the map strictly
// increasing, so any two scores keep their order: AUC, lift and the customers above any
// threshold's image stay the same, only the probability scale moves. Two parameters fit
// well from ten bins, where an isotonic fit would have ten knots and follow their noise.
// Binned, each label is represented by its bin's mean prediction (the only thing stored).
import type { Calibration } from '../models/artifacts.js';
import type { LabelStats } from './calibration.js';

export interface PlattMap {
  readonly a: number;
  readonly b: number;
}

/** A bin of resolved labels: how many, how many churned, the mean prediction. */
export interface BinPoint {
  readonly count: number;
  readonly churned: number;
  readonly meanPredicted: number;
}

const logit = (p: number): number => Math.log(p / (1 - p));
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
/** Bin means of exactly 0 or 1 would be infinite inputs to the fit. */
const fitInput = (p: number): number => logit(Math.min(Math.max(p, 1e-9), 1 - 1e-9));

/** The map; 0 and 1 stay 0 and 1 (a > 0), so no score is clamped and no two swap. */
export const applyPlatt = (map: PlattMap, p: number): number => sigmoid(map.a * logit(p) + map.b);

/** The non-empty bins of a version's statistics. */
export function binPoints(stats: LabelStats): BinPoint[] {
  return stats.positives.flatMap((churned, bin) => {
    const count = churned + (stats.negatives[bin] ?? 0);
    return count === 0 ? [] : [{ count, churned, meanPredicted: (stats.predictedSum[bin] ?? 0) / count }];
  });
}

/**
 * Maximum-likelihood Platt map on the bins (binomial likelihood of each bin's churned count
 * at the map of its mean prediction), with a weak pull towards the identity (one label's
 * worth) so two bins or a bin without both outcomes still give a finite answer. Null when
 * the bins cannot fit one (fewer than two, or the fit would reverse the ranking: a <= 0).
 */
export function fitPlatt(points: readonly BinPoint[]): PlattMap | null {
  if (points.filter((p) => p.count > 0).length < 2) return null;
  const ridge = 1;
  const xs = points.map((p) => fitInput(p.meanPredicted));
  // Penalised log-likelihood; Newton steps are halved until it rises (plain Newton can
  // overshoot from the identity when the map is far from it, e.g. a slope of 0.4).
  const objective = (a: number, b: number) =>
    points.reduce(
      (sum, point, i) => {
        const z = a * (xs[i] ?? 0) + b;
        // log sigmoid(z) and log(1 - sigmoid(z)), stable for large |z|.
        const logP = -Math.log1p(Math.exp(-Math.abs(z))) + Math.min(z, 0);
        const logQ = logP - z;
        return sum + point.churned * logP + (point.count - point.churned) * logQ;
      },
      -0.5 * ridge * ((a - 1) ** 2 + b ** 2),
    );
  let a = 1;
  let b = 0;
  let current = objective(a, b);
  for (let iteration = 0; iteration < 100; iteration += 1) {
    let ga = -ridge * (a - 1);
    let gb = -ridge * b;
    let haa = ridge;
    let hab = 0;
    let hbb = ridge;
    points.forEach((point, i) => {
      const x = xs[i] ?? 0;
      const s = sigmoid(a * x + b);
      const r = point.churned - point.count * s;
      const w = point.count * s * (1 - s);
      ga += r * x;
      gb += r;
      haa += w * x * x;
      hab += w * x;
      hbb += w;
    });
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    let da = (hbb * ga - hab * gb) / det;
    let db = (haa * gb - hab * ga) / det;
    let next = objective(a + da, b + db);
    for (let halvings = 0; !(next >= current) && halvings < 40; halvings += 1) {
      da /= 2;
      db /= 2;
      next = objective(a + da, b + db);
    }
    if (!(next >= current)) break;
    a += da;
    b += db;
    current = next;
    if (Math.abs(da) + Math.abs(db) < 1e-12) break;
  }
  return Number.isFinite(a) && Number.isFinite(b) && a > 0 ? { a, b } : null;
}

/**
 * Calibration error over the given bins, each bin's labels at the (mapped) mean prediction:
 * count-weighted |observed rate - prediction|. With no map it is the usual ECE; with one, the
 * same grouping of the same labels, so before and after compare like for like.
 */
export function binCalibrationError(points: readonly BinPoint[], map: PlattMap | null = null): number {
  let total = 0;
  let error = 0;
  for (const { count, churned, meanPredicted } of points) {
    const predicted = map === null ? meanPredicted : applyPlatt(map, meanPredicted);
    total += count;
    error += Math.abs(churned - count * predicted);
  }
  return total === 0 ? Number.NaN : error / total;
}

/** `second` after `first`, as one map (Platt maps compose exactly on the logit). */
export const composePlatt = (first: PlattMap, second: PlattMap): PlattMap => ({
  a: second.a * first.a,
  b: second.a * first.b + second.b,
});

/** Points inserted inside each segment of an isotonic map when a Platt map is put on top. */
const DENSITY = 16;

/**
 * A model's own calibration (config.json) followed by the stream's map, as one calibration
 * the runtime already applies. none and platt compose exactly; isotonic (piecewise linear)
 * gets the map at DENSITY points per segment: still increasing where it was, so the order
 * of any two scores is kept; between points within 1e-3 of the exact composition.
 */
export function composeCalibration(base: Calibration, map: PlattMap): Calibration {
  switch (base.method) {
    case 'none':
      return { method: 'platt', a: map.a, b: map.b };
    case 'platt': {
      const composed = composePlatt(base, map);
      return { method: 'platt', a: composed.a, b: composed.b };
    }
    case 'isotonic': {
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < base.x.length; i += 1) {
        const x1 = base.x[i] ?? 0;
        const y1 = base.y[i] ?? 0;
        if (i > 0) {
          const x0 = base.x[i - 1] ?? 0;
          const y0 = base.y[i - 1] ?? 0;
          for (let k = 1; k < DENSITY; k += 1) {
            x.push(x0 + ((x1 - x0) * k) / DENSITY);
            y.push(applyPlatt(map, y0 + ((y1 - y0) * k) / DENSITY));
          }
        }
        x.push(x1);
        y.push(applyPlatt(map, y1));
      }
      return { method: 'isotonic', x, y };
    }
    default: {
      const unreachable: never = base;
      return unreachable;
    }
  }
}

/** A recalibration in force for one model version: its map, its own revision, what it was fitted on. */
export interface StreamCalibration extends PlattMap {
  /** 1 for the version's first recalibration, +1 per refit; part of the served version's name. */
  readonly revision: number;
  /** The served version whose resolved labels it was fitted on, and their counts per bin. */
  readonly fittedOn: {
    readonly version: string;
    readonly labels: number;
    readonly churned: number;
    readonly positives: readonly number[];
    readonly negatives: readonly number[];
  };
  /** Calibration error on held-out folds, before and after (what decided to apply it). */
  readonly heldOut: { readonly before: number; readonly after: number; readonly folds: number };
}

/**
 * The name a recalibrated version is served, published and counted under: its labels are
 * kept apart from the uncalibrated version's, so the after-figures come from the stream too.
 */
export const recalibratedVersion = (version: string, revision: number): string => `${version}+cal${revision}`;

/** The version a served name was recalibrated from (the name itself when it was not). */
export const baseVersion = (served: string): string => served.replace(/\+cal\d+$/, '');
