// Population Stability Index of current data against a reference distribution on the
// reference's fixed bins (the bins never move with the data, so values are comparable
// over time). Missing values are a bin of their own.

export interface ReferenceDistribution {
  /** Interior bin edges, ascending: bins (-inf, e0], (e0, e1], ..., (e_last, inf). */
  readonly edges: readonly number[];
  /** Share of non-missing values per bin (edges.length + 1 entries), of all values. */
  readonly shares: readonly number[];
  readonly missing_share: number;
}

/** Bin index of a value: edges.length + 1 for missing. */
export function binOf(edges: readonly number[], value: number): number {
  if (Number.isNaN(value)) return edges.length + 1;
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (value <= (edges[mid] ?? Number.POSITIVE_INFINITY)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Counts of values per reference bin, missing last. */
export function histogram(edges: readonly number[], values: Iterable<number>): number[] {
  const counts = new Array<number>(edges.length + 2).fill(0);
  for (const value of values) {
    const bin = binOf(edges, value);
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return counts;
}

/** Shares below this are floored, so an empty bin costs a large but finite amount. */
export const PSI_FLOOR = 1e-4;

export function psi(reference: ReferenceDistribution, counts: readonly number[]): number {
  const total = counts.reduce((sum, c) => sum + c, 0);
  if (total === 0) return Number.NaN;
  const expected = [...reference.shares, reference.missing_share];
  let value = 0;
  for (let i = 0; i < expected.length; i += 1) {
    const e = Math.max(expected[i] ?? 0, PSI_FLOOR);
    const a = Math.max((counts[i] ?? 0) / total, PSI_FLOOR);
    value += (a - e) * Math.log(a / e);
  }
  return value;
}
