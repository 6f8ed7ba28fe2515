// Model health from resolved labels, as mergeable accumulators (plain counts and sums,
// so they can live in Redis and be added across processes): AUC from score histograms
// by label, Brier score, expected calibration error and the reliability table.
//
// Calibration is judged on the probability (10 bins, as a reliability table reads); AUC on
// the ranking score, the model's output before calibration, in finer bins. Binned AUC counts
// ties within a bin as one half, so on probabilities it would depend on where a calibration
// puts them: two calibrations of one model, same ranking, would show different AUCs.

export const CALIBRATION_BINS = 10;
/** Bins of the ranking score's histograms (AUC per version and the paired comparison). */
export const RANK_BINS = 50;

export interface LabelStats {
  /** Per probability bin (width 1/bins): counts of positives (churned) and negatives. */
  readonly positives: number[];
  readonly negatives: number[];
  /** Per bin: sum of predicted probabilities. */
  readonly predictedSum: number[];
  /** Sum of (p - y)^2. */
  brierSum: number;
  /** Per ranking-score bin (width 1/RANK_BINS): counts of positives and negatives. */
  readonly rankPositives: number[];
  readonly rankNegatives: number[];
}

export function emptyLabelStats(bins = CALIBRATION_BINS, rankBins = RANK_BINS): LabelStats {
  return {
    positives: new Array(bins).fill(0),
    negatives: new Array(bins).fill(0),
    predictedSum: new Array(bins).fill(0),
    brierSum: 0,
    rankPositives: new Array(rankBins).fill(0),
    rankNegatives: new Array(rankBins).fill(0),
  };
}

/** The bin of a value in [0, 1] among `bins` equal ones (out-of-range values in the end bins). */
export const binOf = (value: number, bins: number): number => Math.min(bins - 1, Math.max(0, Math.floor(value * bins)));

/** Adds a label; `rank` is its ranking score (the probability when none was kept). */
export function addLabel(stats: LabelStats, probability: number, churned: boolean, rank = probability): void {
  const bin = binOf(probability, stats.positives.length);
  const target = churned ? stats.positives : stats.negatives;
  target[bin] = (target[bin] ?? 0) + 1;
  stats.predictedSum[bin] = (stats.predictedSum[bin] ?? 0) + probability;
  stats.brierSum += (probability - (churned ? 1 : 0)) ** 2;
  const rankBin = binOf(rank, stats.rankPositives.length);
  const rankTarget = churned ? stats.rankPositives : stats.rankNegatives;
  rankTarget[rankBin] = (rankTarget[rankBin] ?? 0) + 1;
}

const sum = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0);

/** P(positive's bin above a negative's), ties in a bin one half: the binned AUC of two histograms. */
function binnedAuc(positives: readonly number[], negatives: readonly number[]): number {
  const p = sum(positives);
  const n = sum(negatives);
  if (p === 0 || n === 0) return Number.NaN;
  let negativesBelow = 0;
  let wins = 0;
  for (let bin = 0; bin < positives.length; bin += 1) {
    const nb = negatives[bin] ?? 0;
    wins += (positives[bin] ?? 0) * (negativesBelow + nb / 2);
    negativesBelow += nb;
  }
  return wins / (p * n);
}

/**
 * The histograms ranking measures read: the ranking score's, or the coarser probability bins
 * for statistics holding labels added before ranking scores were counted (their rank
 * histogram lacks some labels).
 */
export function rankingHistogram(stats: LabelStats): { positives: readonly number[]; negatives: readonly number[] } {
  const complete =
    sum(stats.rankPositives) === sum(stats.positives) && sum(stats.rankNegatives) === sum(stats.negatives);
  return complete
    ? { positives: stats.rankPositives, negatives: stats.rankNegatives }
    : { positives: stats.positives, negatives: stats.negatives };
}

/**
 * AUC from the ranking histogram: P(score of a positive > score of a negative), ties within a
 * bin counted one half (exact when no bin holds both classes in a different order).
 */
export function histogramAuc(stats: LabelStats): number {
  const { positives, negatives } = rankingHistogram(stats);
  return binnedAuc(positives, negatives);
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
  labels: readonly {
    readonly modelVersion: string;
    readonly probability: number;
    readonly rank?: number;
    readonly churned: boolean;
  }[],
): Map<string, LabelStats> {
  const byVersion = new Map<string, LabelStats>();
  for (const { modelVersion, probability, rank, churned } of labels) {
    let stats = byVersion.get(modelVersion);
    if (stats === undefined) {
      stats = emptyLabelStats();
      byVersion.set(modelVersion, stats);
    }
    addLabel(stats, probability, churned, rank);
  }
  return byVersion;
}
