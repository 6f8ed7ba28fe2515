// Turning a churn probability into the result users expect: at-risk flag, risk level,
// confidence. Cut-offs are fixed and documented (docs/MODEL_CARD.md "Decisions"), so a
// level means the same thing whichever model produced the probability.

export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const CONFIDENCE_LEVELS = ['low', 'medium', 'high'] as const;
export type Confidence = (typeof CONFIDENCE_LEVELS)[number];

/** Lower bounds of medium, high and critical on the churn probability. */
export const RISK_CUTOFFS = { medium: 0.3, high: 0.6, critical: 0.9 } as const;

export function riskLevel(probability: number): RiskLevel {
  if (probability >= RISK_CUTOFFS.critical) return 'critical';
  if (probability >= RISK_CUTOFFS.high) return 'high';
  if (probability >= RISK_CUTOFFS.medium) return 'medium';
  return 'low';
}

/**
 * Confidence of the at-risk call: how far the probability sits from the operating
 * threshold (>= 0.15 high, >= 0.07 medium). The rules fallback is always low.
 */
export function confidence(probability: number, threshold: number, isRulesFallback: boolean): Confidence {
  if (isRulesFallback) return 'low';
  const margin = Math.abs(probability - threshold);
  if (margin >= 0.15) return 'high';
  if (margin >= 0.07) return 'medium';
  return 'low';
}

export const riskRank = (level: RiskLevel): number => RISK_LEVELS.indexOf(level);
