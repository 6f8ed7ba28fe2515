// Model health from resolved labels, as mergeable accumulators (plain counts and sums,
// so they can live in Redis and be added across processes): AUC from score histograms
// by label, Brier score, expected calibration error and the reliability table.

export const CALIBRATION_BINS = 10;

export interface LabelStats {
  /** Per probability bin (width 1/bins): counts of positives (churned) and negatives. */
  readonly positives: number[];
  readonly negatives: number[];
  /** Per bin: sum of predicted probabilities. */
  readonly predictedSum: number[];
  /** Sum of (p - y)^2. */
  brierSum: number;
}

export function emptyLabelStats(bins = CALIBRATION_BINS): LabelStats {
  return {
    positives: new Array(bins).fill(0),
    negatives: new Array(bins).fill(0),
    predictedSum: new Array(bins).fill(0),
    brierSum: 0,
  };
}

export function addLabel(stats: LabelStats, probability: number, churned: boolean): void {
  const bins = stats.positives.length;
  const bin = Math.min(bins - 1, Math.max(0, Math.floor(probability * bins)));
  const target = churned ? stats.positives : stats.negatives;
  target[bin] = (target[bin] ?? 0) + 1;
  stats.predictedSum[bin] = (stats.predictedSum[bin] ?? 0) + probability;
  stats.brierSum += (probability - (churned ? 1 : 0)) ** 2;
}

/**
 * AUC from the histograms: P(score of a positive > score of a negative), ties within a
 * bin counted one half. Equals the exact AUC when no bin holds both classes' scores in
 * a different order; otherwise within the within-bin ties' share.
 */
export function histogramAuc(stats: LabelStats): number {
  const positives = stats.positives.reduce((s, v) => s + v, 0);
  const negatives = stats.negatives.reduce((s, v) => s + v, 0);
  if (positives === 0 || negatives === 0) return Number.NaN;
  let negativesBelow = 0;
  let wins = 0;
  for (let bin = 0; bin < stats.positives.length; bin += 1) {
    const p = stats.positives[bin] ?? 0;
    const n = stats.negatives[bin] ?? 0;
    wins += p * (negativesBelow + n / 2);
    negativesBelow += n;
  }
  return wins / (positives * negatives);
}

export interface ReliabilityRow {
  readonly bin: number;
  readonly count: number;
  readonly meanPredicted: number;
  readonly observedRate: number;
}

export function reliability(stats: LabelStats): ReliabilityRow[] {
  return stats.positives.flatMap((p, bin) => {
    const count = p + (stats.negatives[bin] ?? 0);
    return count === 0
      ? []
      : [{ bin, count, meanPredicted: (stats.predictedSum[bin] ?? 0) / count, observedRate: p / count }];
  });
}

/** Expected calibration error: count-weighted |observed rate - mean prediction| over bins. */
export function expectedCalibrationError(stats: LabelStats): number {
  const rows = reliability(stats);
  const total = rows.reduce((s, r) => s + r.count, 0);
  return total === 0
    ? Number.NaN
    : rows.reduce((s, r) => s + r.count * Math.abs(r.observedRate - r.meanPredicted), 0) / total;
}

export function brierScore(stats: LabelStats): number {
  const total = stats.positives.reduce((s, v) => s + v, 0) + stats.negatives.reduce((s, v) => s + v, 0);
  return total === 0 ? Number.NaN : stats.brierSum / total;
}

const total = (stats: LabelStats): number =>
  stats.positives.reduce((s, v) => s + v, 0) + stats.negatives.reduce((s, v) => s + v, 0);

/** Share of resolved predictions that churned. */
export function realisedChurnRate(stats: LabelStats): number {
  const n = total(stats);
  return n === 0 ? Number.NaN : stats.positives.reduce((s, v) => s + v, 0) / n;
}

/** Mean predicted churn probability of the resolved predictions. */
export function predictedChurnRate(stats: LabelStats): number {
  const n = total(stats);
  return n === 0 ? Number.NaN : stats.predictedSum.reduce((s, v) => s + v, 0) / n;
}

/** True when no label was ever added. */
export const isEmptyLabelStats = (stats: LabelStats): boolean => total(stats) === 0;

/** Resolved labels summed per model version: what a unit adds to the shared statistics. */
export function labelStatsByVersion(
  labels: readonly { readonly modelVersion: string; readonly probability: number; readonly churned: boolean }[],
): Map<string, LabelStats> {
  const byVersion = new Map<string, LabelStats>();
  for (const { modelVersion, probability, churned } of labels) {
    let stats = byVersion.get(modelVersion);
    if (stats === undefined) {
      stats = emptyLabelStats();
      byVersion.set(modelVersion, stats);
    }
    addLabel(stats, probability, churned);
  }
  return byVersion;
}
