// The scoring results churnstream reports, with the field names users of the original
// Python service know (churn_probability, is_at_risk, risk_level, predicted_ltv, ...).
import type { Reason } from './reasons.js';
import { recommendation } from './recommendation.js';
import { type Confidence, confidence, type RiskLevel, riskLevel } from './risk.js';

export interface ChurnResult {
  readonly churn_probability: number;
  readonly is_at_risk: boolean;
  readonly risk_level: RiskLevel;
  readonly confidence: Confidence;
  readonly risk_factors: readonly Reason[];
  readonly recommendation: string;
  readonly model_version: string;
  readonly is_rules_fallback: boolean;
}

export interface ChurnScore {
  readonly probability: number;
  /**
   * The ranking score: the model's output before calibration. Calibration keeps the order, so
   * AUC is the model's property and is measured on this, with a resolution no calibration changes.
   */
  readonly rank: number;
  readonly reasons: readonly Reason[];
  readonly modelVersion: string;
  readonly threshold: number;
  readonly isRulesFallback: boolean;
}

/**
 * The result of a score; `level` is the risk level it reports: the probability's own, or the
 * tier hysteresis gives (a risk change reports the tier it moves the customer to).
 */
export function churnResult(score: ChurnScore, level: RiskLevel = riskLevel(score.probability)): ChurnResult {
  return {
    churn_probability: score.probability,
    is_at_risk: score.probability >= score.threshold,
    risk_level: level,
    confidence: confidence(score.probability, score.threshold, score.isRulesFallback),
    risk_factors: score.reasons,
    recommendation: recommendation(level, score.reasons),
    model_version: score.modelVersion,
    is_rules_fallback: score.isRulesFallback,
  };
}

export type ValueSegment = 'low' | 'medium' | 'high';

export interface LtvResult {
  readonly predicted_ltv: number;
  readonly confidence_interval: { readonly low: number; readonly high: number };
  readonly value_segment: ValueSegment;
  readonly prediction_window_months: number;
  readonly model_version: string;
  readonly is_rules_fallback: boolean;
}

export interface LtvScore {
  readonly value: number;
  readonly low: number;
  readonly high: number;
  readonly modelVersion: string;
  /** Lower bounds of the medium and high value segments (from the model's config). */
  readonly segmentCutoffs: { readonly medium: number; readonly high: number };
  readonly windowMonths: number;
  readonly isRulesFallback: boolean;
}

export function ltvResult(score: LtvScore): LtvResult {
  const segment: ValueSegment =
    score.value >= score.segmentCutoffs.high ? 'high' : score.value >= score.segmentCutoffs.medium ? 'medium' : 'low';
  return {
    predicted_ltv: score.value,
    confidence_interval: { low: score.low, high: score.high },
    value_segment: segment,
    prediction_window_months: score.windowMonths,
    model_version: score.modelVersion,
    is_rules_fallback: score.isRulesFallback,
  };
}

/**
 * The LTV fallback without a model: the last window's net spend, scaled to the
 * prediction window, times the chance the customer stays (1 - churn probability),
 * with a deliberately wide interval. Marked as the fallback.
 */
export function fallbackLtv(windowSpend: number, windowDays: number, churnProbability: number, windowMonths: number) {
  const perMonth = (Number.isFinite(windowSpend) ? windowSpend : 0) / (windowDays / 30.4375);
  const value = perMonth * windowMonths * (1 - churnProbability);
  return { value, low: 0, high: value * 3 };
}
