// Labels for a customer at a cutoff, from events strictly after the cutoff only.
import type { OrderEvent } from '../events/order-event.js';
import { DAY_MS } from '../time.js';

export interface Labels {
  /** 1 when no order falls in (cutoff, cutoff + churn horizon], else 0. */
  readonly churned: 0 | 1;
  /**
   * Per LTV horizon (in the order asked): net spend (orders minus refunds/cancellations) in
   * (cutoff, cutoff + horizon], floored at 0; NaN when that window ends after the data do
   * (an open window's spend is not known yet, and 0 would be a false label).
   */
  readonly futureSpend: readonly number[];
}

/** `sorted` must be one customer's events in event-time order. */
export function labelsAfter(
  sorted: readonly OrderEvent[],
  cutoff: number,
  churnDays: number,
  ltvDays: readonly number[],
  dataEnd = Number.POSITIVE_INFINITY,
): Labels {
  const churnEnd = cutoff + churnDays * DAY_MS;
  const ends = ltvDays.map((days) => cutoff + days * DAY_MS);
  let bought = false;
  const spendMills = ends.map(() => 0);
  const amounts = new Map<string, number>();
  for (const event of sorted) {
    if (event.type === 'order') amounts.set(event.orderId, Math.round(event.amount * 1000));
    if (event.eventTime <= cutoff) continue;
    if (event.type === 'order' && event.eventTime <= churnEnd) bought = true;
    // A cancellation returns the whole original order; a refund its amount.
    const original = event.type === 'order' ? 0 : (amounts.get(event.originalOrderId ?? '') ?? 0);
    const mills =
      event.type === 'order'
        ? Math.round(event.amount * 1000)
        : -(event.type === 'cancellation' ? original : Math.min(Math.round(event.amount * 1000), original));
    for (const [i, end] of ends.entries()) if (event.eventTime <= end) spendMills[i] = (spendMills[i] ?? 0) + mills;
  }
  return {
    churned: bought ? 0 : 1,
    futureSpend: ends.map((end, i) => (end > dataEnd ? Number.NaN : Math.max(spendMills[i] ?? 0, 0) / 1000)),
  };
}
