// Labels for a customer at a cutoff, from events strictly after the cutoff only.
import type { OrderEvent } from '../events/order-event.js';
import { DAY_MS } from '../time.js';

export interface Labels {
  /** 1 when no order falls in (cutoff, cutoff + churn horizon], else 0. */
  readonly churned: 0 | 1;
  /** Net spend (orders minus refunds/cancellations) in (cutoff, cutoff + ltv horizon], floored at 0. */
  readonly futureSpend: number;
}

/** `sorted` must be one customer's events in event-time order. */
export function labelsAfter(sorted: readonly OrderEvent[], cutoff: number, churnDays: number, ltvDays: number): Labels {
  const churnEnd = cutoff + churnDays * DAY_MS;
  const ltvEnd = cutoff + ltvDays * DAY_MS;
  let bought = false;
  let spendMills = 0;
  const amounts = new Map<string, number>();
  for (const event of sorted) {
    if (event.type === 'order') amounts.set(event.orderId, Math.round(event.amount * 1000));
    if (event.eventTime <= cutoff) continue;
    if (event.type === 'order') {
      if (event.eventTime <= churnEnd) bought = true;
      if (event.eventTime <= ltvEnd) spendMills += Math.round(event.amount * 1000);
    } else if (event.eventTime <= ltvEnd) {
      // A cancellation returns the whole original order; a refund its amount.
      const original = amounts.get(event.originalOrderId ?? '') ?? 0;
      spendMills -= event.type === 'cancellation' ? original : Math.min(Math.round(event.amount * 1000), original);
    }
  }
  return { churned: bought ? 0 : 1, futureSpend: Math.max(spendMills, 0) / 1000 };
}
