// Tier transitions with hysteresis, so CRM systems see a customer move between risk
// levels once rather than flapping around a cut-off. A tier is entered upwards only
// when the probability clears the cut-off by `band`, left downwards only when the
// probability falls `band` below the current tier's cut-off and the customer has been
// in the tier for at least `minDwellMs` (event time). Escalations are immediate.
import { DAY_MS } from '../time.js';
import { RISK_CUTOFFS, RISK_LEVELS, type RiskLevel, riskRank } from './risk.js';

export interface HysteresisPolicy {
  readonly band: number;
  readonly minDwellMs: number;
}

export const DEFAULT_HYSTERESIS: HysteresisPolicy = { band: 0.03, minDwellMs: 7 * DAY_MS };

/** The tier is the probability's own level (what a model change uses: see customer-step.ts). */
export const NO_HYSTERESIS: HysteresisPolicy = { band: 0, minDwellMs: 0 };

export interface TierState {
  readonly level: RiskLevel;
  /** Event time the customer entered this level. */
  readonly since: number;
  /** Probability when the level was entered (published as previous_churn_probability next time). */
  readonly probability: number;
}

const lowerBound = (level: RiskLevel): number => (level === 'low' ? 0 : RISK_CUTOFFS[level]);

/** The level a probability maps to with `offset` added to every cut-off. */
function levelWith(probability: number, offset: number): RiskLevel {
  let level: RiskLevel = 'low';
  for (const candidate of RISK_LEVELS) {
    if (candidate !== 'low' && probability >= RISK_CUTOFFS[candidate] + offset) level = candidate;
  }
  return level;
}

/** The next tier state, or null when the tier does not change. */
export function nextTier(
  previous: TierState | null,
  probability: number,
  asOf: number,
  policy: HysteresisPolicy = DEFAULT_HYSTERESIS,
): TierState | null {
  if (previous === null) return { level: levelWith(probability, 0), since: asOf, probability };
  const up = levelWith(probability, policy.band);
  if (riskRank(up) > riskRank(previous.level)) return { level: up, since: asOf, probability };
  const stillAbove = probability >= lowerBound(previous.level) - policy.band;
  if (stillAbove || asOf - previous.since < policy.minDwellMs) return null;
  const down = levelWith(probability, -policy.band);
  return riskRank(down) < riskRank(previous.level) ? { level: down, since: asOf, probability } : null;
}

/**
 * When a downgrade that the dwell time blocks now becomes allowed, with the probability
 * unchanged (NaN when none is blocked). The scorer keeps a timer there, so a customer
 * whose score has settled lower still moves down once the dwell is over.
 */
export function blockedUntil(
  current: TierState | null,
  probability: number,
  asOf: number,
  policy: HysteresisPolicy = DEFAULT_HYSTERESIS,
): number {
  if (current === null || asOf - current.since >= policy.minDwellMs) return Number.NaN;
  const down = levelWith(probability, -policy.band);
  const blocked = probability < lowerBound(current.level) - policy.band && riskRank(down) < riskRank(current.level);
  return blocked ? current.since + policy.minDwellMs : Number.NaN;
}
