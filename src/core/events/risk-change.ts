// The risk-change event CRM subscribers receive (schemas/risk-change.avsc), built from
// the scoring results. Its id is a hash of what caused it and of what decided it (the model
// versions): reprocessing the same input after a crash yields the same id and subscribers can
// drop the duplicate, while another model's decision on the same input (a staging scorer
// sharing the topic, a replay under a new model) is never taken for one. The experiment arm is
// left out: it is a label of the decision, and the deciding versions already tell arms apart.
import { createHash } from 'node:crypto';
import type { Reason } from '../decisions/reasons.js';
import type { ChurnResult, LtvResult } from '../decisions/results.js';
import type { RiskLevel } from '../decisions/risk.js';

export type RiskChangeTrigger = 'order' | 'refund' | 'cancellation' | 'timer' | 'model_change';

export interface RiskChangeRecord {
  event_id: string;
  customer_id: string;
  as_of: number;
  trigger: RiskChangeTrigger;
  previous_risk_level: RiskLevel | null;
  risk_level: RiskLevel;
  previous_churn_probability: number | null;
  churn_probability: number;
  is_at_risk: boolean;
  confidence: 'low' | 'medium' | 'high';
  reasons: {
    code: string;
    feature: string;
    direction: Reason['direction'];
    contribution: number;
    value: number | null;
  }[];
  recommendation: string;
  predicted_ltv: number;
  ltv_interval_low: number;
  ltv_interval_high: number;
  value_segment: 'low' | 'medium' | 'high';
  prediction_window_months: number;
  churn_model_version: string;
  ltv_model_version: string;
  feature_spec_version: string;
  is_rules_fallback: boolean;
  /** The experiment running when this change was decided, or null (no experiment). */
  experiment: string | null;
  /** The customer's variant in it (whose model decided: champion or challenger), or null. */
  variant: string | null;
}

/** The experiment arm a change was decided in. */
export interface ExperimentArm {
  readonly experiment: string;
  readonly variant: string;
}

export interface RiskChangeCause {
  readonly customerId: string;
  readonly asOf: number;
  readonly trigger: RiskChangeTrigger;
  /** What made it happen: the order/refund id, or the timer's due time, or the model version. */
  readonly cause: string;
  readonly previous: { readonly level: RiskLevel; readonly probability: number } | null;
}

/** What decided a change, besides its cause: part of its id. */
export interface RiskChangeDecision {
  readonly level: RiskLevel;
  readonly churnModel: string;
  readonly ltvModel: string;
}

export function riskChangeId(cause: RiskChangeCause, decision: RiskChangeDecision): string {
  return createHash('sha256')
    .update(
      [
        cause.customerId,
        cause.asOf,
        cause.trigger,
        cause.cause,
        cause.previous?.level ?? '-',
        decision.level,
        decision.churnModel,
        decision.ltvModel,
      ].join('\u0000'),
    )
    .digest('hex')
    .slice(0, 32);
}

export function riskChangeRecord(
  cause: RiskChangeCause,
  churn: ChurnResult,
  ltv: LtvResult,
  featureSpecVersion: string,
  arm: ExperimentArm | null = null,
): RiskChangeRecord {
  return {
    event_id: riskChangeId(cause, {
      level: churn.risk_level,
      churnModel: churn.model_version,
      ltvModel: ltv.model_version,
    }),
    customer_id: cause.customerId,
    as_of: cause.asOf,
    trigger: cause.trigger,
    previous_risk_level: cause.previous?.level ?? null,
    risk_level: churn.risk_level,
    previous_churn_probability: cause.previous?.probability ?? null,
    churn_probability: churn.churn_probability,
    is_at_risk: churn.is_at_risk,
    confidence: churn.confidence,
    reasons: churn.risk_factors.map((r) => ({ ...r })),
    recommendation: churn.recommendation,
    predicted_ltv: ltv.predicted_ltv,
    ltv_interval_low: ltv.confidence_interval.low,
    ltv_interval_high: ltv.confidence_interval.high,
    value_segment: ltv.value_segment,
    prediction_window_months: ltv.prediction_window_months,
    churn_model_version: churn.model_version,
    ltv_model_version: ltv.model_version,
    feature_spec_version: featureSpecVersion,
    is_rules_fallback: churn.is_rules_fallback,
    experiment: arm?.experiment ?? null,
    variant: arm?.variant ?? null,
  };
}
