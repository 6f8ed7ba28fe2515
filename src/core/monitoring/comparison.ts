// Champion against challenger on the same resolved labels: both were scored on the same
// features at the same moment, so each label is a pair of ranking scores (each model's output
// before calibration: AUC is a ranking's property, and calibrations of one model must tie
// with it, whatever resolution they give the probabilities). The pairs are kept as a
// joint histogram per label (PAIR_BINS x PAIR_BINS cells, mergeable counts like the label
// statistics), and DeLong's test for two correlated AUCs runs on it exactly: with scores
// binned, every structural component of DeLong's estimator depends on a customer only
// through the cell they fell in, so the variance of the AUC difference is a sum over cells.
// Pairing matters: the two models rank the same customers, their AUCs are correlated, and
// an unpaired interval would be several times wider. Labels are predictions, not customers:
// a customer resolves one per label window, so a long comparison holds several labels of the
// same customer, which are not independent; the variance is widened by the design effect
// (labels per customer), the bound for a customer's labels all alike and exact at one each.
import { binOf, RANK_BINS } from './calibration.js';

/** Each version's ranking score in the bins its own AUC uses, so the pair's marginals are those AUCs. */
export const PAIR_BINS = RANK_BINS;
/** Two-sided 95% normal quantile. */
const Z95 = 1.959963984540054;

export interface ResolvedPair {
  readonly customerId: string;
  readonly champion: string;
  readonly challenger: string;
  readonly championRank: number;
  readonly challengerRank: number;
  readonly churned: boolean;
}

/** Counts per cell (champion bin * bins + challenger bin), for churned and retained labels. */
export interface PairStats {
  readonly bins: number;
  readonly positives: number[];
  readonly negatives: number[];
  /** Distinct customers behind the labels (an estimate; 0 when they were not counted). */
  readonly customers: number;
}

export const emptyPairStats = (bins = PAIR_BINS): PairStats => ({
  bins,
  positives: new Array(bins * bins).fill(0),
  negatives: new Array(bins * bins).fill(0),
  customers: 0,
});

export const pairBin = (rank: number, bins = PAIR_BINS): number => binOf(rank, bins);

export function addPair(stats: PairStats, champion: number, challenger: number, churned: boolean): void {
  const cell = pairBin(champion, stats.bins) * stats.bins + pairBin(challenger, stats.bins);
  const target = churned ? stats.positives : stats.negatives;
  target[cell] = (target[cell] ?? 0) + 1;
}

/**
 * The labels paired for two versions in both roles, as `champion` rows: `asChampion` from the
 * time `champion` was champion, `asChallenger` from the time the roles were the other way round
 * (before a promotion), its cells transposed. Both are the same two models scoring the same
 * customers at the same moments, so a promotion keeps the evidence (and a promote back is
 * judged on it). Customers: the larger count, as the two sets are mostly the same people.
 */
export function bothRoles(asChampion: PairStats, asChallenger: PairStats): PairStats {
  const { bins } = asChampion;
  if (asChallenger.bins !== bins) throw new Error(`pair histograms of ${bins} and ${asChallenger.bins} bins`);
  const positives = [...asChampion.positives];
  const negatives = [...asChampion.negatives];
  for (let row = 0; row < bins; row += 1)
    for (let column = 0; column < bins; column += 1) {
      const from = row * bins + column;
      const to = column * bins + row;
      positives[to] = (positives[to] ?? 0) + (asChallenger.positives[from] ?? 0);
      negatives[to] = (negatives[to] ?? 0) + (asChallenger.negatives[from] ?? 0);
    }
  return { bins, positives, negatives, customers: Math.max(asChampion.customers, asChallenger.customers) };
}

interface VersionPairs {
  readonly champion: string;
  readonly challenger: string;
  readonly stats: PairStats;
  /** The customers the labels came from (the shared statistics count them distinct). */
  readonly customerIds: Set<string>;
}

/** Resolved pairs summed per (champion, challenger) versions: what a unit adds to the shared statistics. */
export function pairStatsByVersions(pairs: readonly ResolvedPair[]): Map<string, VersionPairs> {
  const byKey = new Map<string, VersionPairs>();
  for (const pair of pairs) {
    const key = `${pair.champion}\u0000${pair.challenger}`;
    let entry = byKey.get(key);
    if (entry === undefined) {
      entry = { champion: pair.champion, challenger: pair.challenger, stats: emptyPairStats(), customerIds: new Set() };
      byKey.set(key, entry);
    }
    addPair(entry.stats, pair.championRank, pair.challengerRank, pair.churned);
    entry.customerIds.add(pair.customerId);
  }
  return byKey;
}

export interface AucComparison {
  readonly positives: number;
  readonly negatives: number;
  /** Distinct customers behind the labels (0: not counted). */
  readonly customers: number;
  /** Variance factor for repeated labels of a customer: labels / customers, at least 1 (1 when not counted). */
  readonly designEffect: number;
  readonly championAuc: number;
  readonly challengerAuc: number;
  /** Challenger minus champion. */
  readonly difference: number;
  readonly standardError: number;
  /** 95% confidence interval of the difference (DeLong, paired). */
  readonly low: number;
  readonly high: number;
}

/** Per bin of one model: the structural components for positives (v10) and negatives (v01). */
function components(pos: readonly number[], neg: readonly number[], m: number, n: number) {
  const v10: number[] = [];
  const v01: number[] = [];
  let negativesBelow = 0;
  for (let bin = 0; bin < pos.length; bin += 1) {
    v10.push((negativesBelow + (neg[bin] ?? 0) / 2) / n);
    negativesBelow += neg[bin] ?? 0;
  }
  let positivesAbove = 0;
  for (let bin = pos.length - 1; bin >= 0; bin -= 1) {
    v01[bin] = (positivesAbove + (pos[bin] ?? 0) / 2) / m;
    positivesAbove += pos[bin] ?? 0;
  }
  return { v10, v01 };
}

/** Marginal counts per bin of the champion (rows) or the challenger (columns). */
function marginal(cells: readonly number[], bins: number, rows: boolean): number[] {
  const out = new Array<number>(bins).fill(0);
  cells.forEach((count, cell) => {
    const bin = rows ? Math.floor(cell / bins) : cell % bins;
    out[bin] = (out[bin] ?? 0) + count;
  });
  return out;
}

/**
 * DeLong's comparison of the two AUCs. The AUCs need one label of each class (as each
 * version's own AUC does, so the two tables agree); the interval needs two of each.
 */
export function compareAuc(stats: PairStats): AucComparison {
  const { bins } = stats;
  const m = stats.positives.reduce((s, v) => s + v, 0);
  const n = stats.negatives.reduce((s, v) => s + v, 0);
  const designEffect = stats.customers > 0 ? Math.max(1, (m + n) / stats.customers) : 1;
  const nan = Number.NaN;
  const counts = { positives: m, negatives: n, customers: stats.customers, designEffect };
  if (m < 1 || n < 1)
    return {
      ...counts,
      championAuc: nan,
      challengerAuc: nan,
      difference: nan,
      standardError: nan,
      low: nan,
      high: nan,
    };
  const a = components(marginal(stats.positives, bins, true), marginal(stats.negatives, bins, true), m, n);
  const b = components(marginal(stats.positives, bins, false), marginal(stats.negatives, bins, false), m, n);
  let aucA = 0;
  let aucB = 0;
  stats.positives.forEach((count, cell) => {
    aucA += count * (a.v10[Math.floor(cell / bins)] ?? 0);
    aucB += count * (b.v10[cell % bins] ?? 0);
  });
  aucA /= m;
  aucB /= m;
  const difference = aucB - aucA;
  if (m < 2 || n < 2)
    return { ...counts, championAuc: aucA, challengerAuc: aucB, difference, standardError: nan, low: nan, high: nan };
  // Variance of (component A - component B) over positives and over negatives.
  let s10 = 0;
  let s01 = 0;
  stats.positives.forEach((count, cell) => {
    if (count === 0) return;
    const d = (a.v10[Math.floor(cell / bins)] ?? 0) - aucA - ((b.v10[cell % bins] ?? 0) - aucB);
    s10 += count * d * d;
  });
  stats.negatives.forEach((count, cell) => {
    if (count === 0) return;
    const d = (a.v01[Math.floor(cell / bins)] ?? 0) - aucA - ((b.v01[cell % bins] ?? 0) - aucB);
    s01 += count * d * d;
  });
  const variance = (s10 / (m - 1) / m + s01 / (n - 1) / n) * designEffect;
  const standardError = Math.sqrt(Math.max(0, variance));
  return {
    ...counts,
    championAuc: aucA,
    challengerAuc: aucB,
    difference,
    standardError,
    // A difference of AUCs lies in [-1, 1]; the normal approximation's interval is cut there.
    low: Math.max(-1, difference - Z95 * standardError),
    high: Math.min(1, difference + Z95 * standardError),
  };
}

export type Verdict = 'challenger_better' | 'champion_better' | 'equivalent' | 'insufficient';

export interface EvidencePolicy {
  /** Fewer resolved labels of either class than this: no verdict, whatever the interval. */
  readonly minPerClass: number;
  /** An interval inside ±margin is "equivalent": the difference is too small to matter. */
  readonly margin: number;
}

export const DEFAULT_EVIDENCE: EvidencePolicy = { minPerClass: 50, margin: 0.01 };

/**
 * What the comparison supports. Sufficient evidence: enough labels of each class and an
 * interval that excludes 0 (one model ranks better) or lies within ±margin (equivalent).
 * Otherwise `moreLabels` estimates how many more resolved labels would narrow the interval
 * enough, as the standard error shrinks with the square root of the count.
 */
export function judge(
  comparison: AucComparison,
  policy: EvidencePolicy = DEFAULT_EVIDENCE,
): { verdict: Verdict; moreLabels: number | null } {
  const { positives, negatives, low, high, difference, standardError } = comparison;
  const total = positives + negatives;
  if (positives < policy.minPerClass || negatives < policy.minPerClass || !Number.isFinite(standardError)) {
    // With labels of one class only, no rate says how many more would bring the other.
    if (total > 0 && Math.min(positives, negatives) === 0) return { verdict: 'insufficient', moreLabels: null };
    const short = Math.max(policy.minPerClass - positives, policy.minPerClass - negatives, 0);
    const share = total === 0 ? 0.5 : Math.min(positives, negatives) / total;
    return { verdict: 'insufficient', moreLabels: Math.ceil(short / share) };
  }
  if (low > 0) return { verdict: 'challenger_better', moreLabels: null };
  if (high < 0) return { verdict: 'champion_better', moreLabels: null };
  if (low >= -policy.margin && high <= policy.margin) return { verdict: 'equivalent', moreLabels: null };
  // Half-width needed: below |difference| to exclude 0, or below the margin to show equivalence.
  const target = Math.max(Math.abs(difference), policy.margin);
  const halfWidth = Z95 * standardError;
  return { verdict: 'insufficient', moreLabels: Math.ceil(total * ((halfWidth / target) ** 2 - 1)) };
}
