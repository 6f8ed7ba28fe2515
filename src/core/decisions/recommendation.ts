// What the CRM should do about a customer, from the risk level and the main reason.
import type { Reason } from './reasons.js';
import type { RiskLevel } from './risk.js';

const BY_LEVEL: Readonly<Record<RiskLevel, string>> = {
  critical: 'Contact personally within 48 hours with a retention offer.',
  high: 'Send a targeted win-back offer this week.',
  medium: 'Nurture with personalised recommendations and a light incentive.',
  low: 'No action needed; keep in regular communication.',
};

/** A more specific action for the strongest risk-increasing reason, when one applies. */
function focus(reason: Reason | undefined): string | null {
  if (reason === undefined || reason.direction !== 'increases_risk') return null;
  const feature = reason.feature.replace(/^fuzzy_/, '').replace(/_(low|medium|high)$/, '');
  if (feature.startsWith('recency') || feature === 'overdue_ratio')
    return 'Lead with a reactivation message: the customer is overdue.';
  if (feature === 'refund_rate') return 'Lead with service recovery: recent refunds suggest a bad experience.';
  if (feature.endsWith('_trend')) return 'Lead with relevance: spending or order frequency is falling.';
  if (feature === 'frequency_orders' || feature === 'lifetime_orders') return 'Lead with a second-purchase incentive.';
  return null;
}

export function recommendation(level: RiskLevel, reasons: readonly Reason[]): string {
  const base = BY_LEVEL[level];
  const specific = level === 'low' ? null : focus(reasons[0]);
  return specific === null ? base : `${base} ${specific}`;
}
