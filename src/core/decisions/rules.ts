// The rules-based churn score used when no model is loaded: the classic thresholds on
// days since the last purchase and the number of orders, as the system churnstream
// replaces scored customers. Every result it produces is marked as the fallback.
import { RAW_FEATURES, type RawFeature } from '../features/names.js';
import type { Reason } from './reasons.js';

export const RULES_VERSION = 'rules_v1';

interface Rule {
  readonly code: string;
  readonly feature: RawFeature;
  readonly applies: (value: number) => boolean;
  readonly weight: number;
}

/** Base risk plus one weight per rule that fires, capped at 0.95. */
const BASE_RISK = 0.1;
const MAX_RISK = 0.95;
const RULES: readonly Rule[] = [
  { code: 'RECENCY_OVER_90_DAYS', feature: 'recency_days', applies: (v) => v > 90, weight: 0.3 },
  { code: 'RECENCY_OVER_180_DAYS', feature: 'recency_days', applies: (v) => v > 180, weight: 0.2 },
  { code: 'FEWER_THAN_5_ORDERS', feature: 'lifetime_orders', applies: (v) => v < 5, weight: 0.2 },
  { code: 'NO_ORDER_IN_WINDOW', feature: 'frequency_orders', applies: (v) => v === 0, weight: 0.1 },
  { code: 'SPEND_FALLING', feature: 'spend_trend', applies: (v) => v < -0.5, weight: 0.1 },
];

const INDEX = Object.fromEntries(RAW_FEATURES.map((name, i) => [name, i])) as Record<RawFeature, number>;

export interface RulesScore {
  readonly probability: number;
  readonly reasons: Reason[];
}

/** Scores from the raw features (FEATURE_NAMES order; only the raw part is read). */
export function rulesChurnScore(features: ArrayLike<number>): RulesScore {
  let probability = BASE_RISK;
  const reasons: Reason[] = [];
  for (const rule of RULES) {
    const value = features[INDEX[rule.feature]] ?? Number.NaN;
    // A customer with no purchase at all has NaN recency: as overdue as it gets.
    const fires = Number.isNaN(value) ? rule.feature === 'recency_days' : rule.applies(value);
    if (!fires) continue;
    probability += rule.weight;
    reasons.push({
      code: rule.code,
      feature: rule.feature,
      direction: 'increases_risk',
      contribution: rule.weight,
      value: Number.isNaN(value) ? null : value,
    });
  }
  return { probability: Math.min(probability, MAX_RISK), reasons: reasons.slice(0, 4) };
}
