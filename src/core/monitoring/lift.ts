// Lift in the top decile from the binned label statistics: the churn rate among the 10% of
// resolved predictions with the highest scores, over the churn rate of all of them. A ranking
// measure, so it reads the ranking-score bins as AUC does. The bins are score ranges, not
// ranks, so the cut at 10% usually falls inside one bin, whose
// labels' order is not stored: that bin is counted at its own rate, as if its scores were
// tied (as the histogram AUC counts ties). Exact when the cut falls on a bin edge; otherwise
// between the lifts of the raw labels with that bin's order worst and best for the model.
import { type LabelStats, rankingHistogram } from './calibration.js';

export function topShareLift(stats: LabelStats, share = 0.1): number {
  const { positives, negatives } = rankingHistogram(stats);
  const bins = positives.length;
  let total = 0;
  let churned = 0;
  for (let bin = 0; bin < bins; bin += 1) {
    total += (positives[bin] ?? 0) + (negatives[bin] ?? 0);
    churned += positives[bin] ?? 0;
  }
  if (total === 0 || churned === 0) return Number.NaN;
  let wanted = share * total;
  let taken = 0;
  let takenChurned = 0;
  for (let bin = bins - 1; bin >= 0 && wanted > 0; bin -= 1) {
    const pos = positives[bin] ?? 0;
    const count = pos + (negatives[bin] ?? 0);
    if (count === 0) continue;
    const part = Math.min(count, wanted);
    taken += part;
    takenChurned += (pos * part) / count;
    wanted -= part;
  }
  return takenChurned / taken / (churned / total);
}

export const topDecileLift = (stats: LabelStats): number => topShareLift(stats, 0.1);
