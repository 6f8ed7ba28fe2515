// LTV model health from resolved LTV labels (a predicted value and the net spend that
// followed in its window): realised vs predicted by decile of the prediction, the
// share of realised values inside the prediction interval, and the overall ratio.

export interface LtvPair {
  readonly predicted: number;
  readonly realised: number;
  readonly low: number;
  readonly high: number;
}

export interface LtvDecileRow {
  /** 1 = the tenth with the lowest predictions. */
  readonly decile: number;
  readonly count: number;
  readonly predictedMean: number;
  readonly realisedMean: number;
}

/** Pairs sorted by prediction, cut into ten groups as equal as possible (none empty). */
export function ltvDeciles(pairs: readonly LtvPair[]): LtvDecileRow[] {
  const valid = pairs.filter((p) => Number.isFinite(p.predicted) && Number.isFinite(p.realised));
  const sorted = [...valid].sort((a, b) => a.predicted - b.predicted);
  const rows: LtvDecileRow[] = [];
  for (let decile = 1; decile <= 10; decile += 1) {
    const group = sorted.slice(
      Math.floor(((decile - 1) * sorted.length) / 10),
      Math.floor((decile * sorted.length) / 10),
    );
    if (group.length === 0) continue;
    rows.push({
      decile,
      count: group.length,
      predictedMean: group.reduce((s, p) => s + p.predicted, 0) / group.length,
      realisedMean: group.reduce((s, p) => s + p.realised, 0) / group.length,
    });
  }
  return rows;
}

/** Share of realised values inside [low, high]; NaN without labels. */
export function intervalCoverage(pairs: readonly LtvPair[]): number {
  if (pairs.length === 0) return Number.NaN;
  return pairs.filter((p) => p.realised >= p.low && p.realised <= p.high).length / pairs.length;
}

/** Sum realised / sum predicted: above 1 the model under-predicts. NaN when nothing was predicted. */
export function realisedToPredicted(pairs: readonly LtvPair[]): number {
  const predicted = pairs.reduce((s, p) => s + p.predicted, 0);
  return predicted > 0 ? pairs.reduce((s, p) => s + p.realised, 0) / predicted : Number.NaN;
}
