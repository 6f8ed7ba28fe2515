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

export function reasonCode(feature: string): string {
  return feature.replace(/^fuzzy_/, '').toUpperCase();
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
  const order = featureNames
    .map((_, index) => index)
    .filter((index) => (contributions[index] ?? 0) !== 0)
    .sort((a, b) => Math.abs(contributions[b] ?? 0) - Math.abs(contributions[a] ?? 0) || a - b);
  return order.slice(0, limit).map((index) => {
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
