// Reason codes from per-feature contributions: the (up to) four features that push
// this customer's score furthest, each with a stable code, a direction and its size.
// Codes are derived from feature names, so they never drift from the feature list:
// raw features read e.g. RECENCY_DAYS, memberships RECENCY_DAYS_HIGH.

export type Direction = 'increases_risk' | 'decreases_risk';

export interface Reason {
  readonly code: string;
  readonly feature: string;
  readonly direction: Direction;
  readonly contribution: number;
  readonly value: number | null;
}

export const MAX_REASONS = 4;

const codes = new Map<string, string>();

export function reasonCode(feature: string): string {
  let code = codes.get(feature);
  if (code === undefined) {
    code = feature.replace(/^fuzzy_/, '').toUpperCase();
    codes.set(feature, code);
  }
  return code;
}

/**
 * Top reasons by absolute contribution (ties by feature order, so the result is
 * deterministic). For churn, positive contributions increase risk; pass
 * `positiveIncreasesRisk = false` for scores where higher is better (LTV).
 */
export function topReasons(
  featureNames: readonly string[],
  contributions: ArrayLike<number>,
  values: ArrayLike<number>,
  positiveIncreasesRisk = true,
  limit = MAX_REASONS,
): Reason[] {
  // Runs for every published change: a pass keeping the best `limit` indices in order
  // (insertion), instead of sorting every feature (which was most of its garbage).
  const best: number[] = [];
  for (let index = 0; index < featureNames.length; index += 1) {
    const size = Math.abs(contributions[index] ?? 0);
    if (size === 0) continue;
    // Earlier indices win ties: the new one goes after every kept one at least as large.
    let at = best.length;
    while (at > 0 && size > Math.abs(contributions[best[at - 1] as number] ?? 0)) at -= 1;
    if (at >= limit) continue;
    best.splice(at, 0, index);
    if (best.length > limit) best.pop();
  }
  return best.map((index) => {
    const contribution = contributions[index] ?? 0;
    const feature = featureNames[index] ?? `feature_${index}`;
    const value = values[index] ?? Number.NaN;
    return {
      code: reasonCode(feature),
      feature,
      direction: contribution > 0 === positiveIncreasesRisk ? 'increases_risk' : 'decreases_risk',
      contribution,
      value: Number.isNaN(value) ? null : value,
    };
  });
}
