// One customer's history as a training table sees it, whatever order and duplicates the
// input file had: events sorted by event time with every field as a tie-break, and a
// document id that occurs again (an order id, or a refund/cancellation id) dropped after
// its first occurrence in that order, as the stream's reducer drops it after its first
// arrival. Features, labels and the baselines' inputs are all computed from this list, so a
// shuffled copy of a history with duplicated rows gives the same rows.
import type { OrderEvent } from '../events/order-event.js';

const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Total order on events: event time, then every other field. */
export function compareEvents(a: OrderEvent, b: OrderEvent): number {
  return (
    a.eventTime - b.eventTime ||
    text(a.type, b.type) ||
    text(a.orderId, b.orderId) ||
    a.amount - b.amount ||
    a.itemCount - b.itemCount ||
    text(a.currency, b.currency) ||
    text(a.originalOrderId ?? '', b.originalOrderId ?? '')
  );
}

/** Orders and refunds (refunds and cancellations share ids) are separate id spaces, as in the reducer. */
const documentKey = (event: OrderEvent) => `${event.type === 'order' ? 'o' : 'r'}:${event.orderId}`;

export function canonicalHistory(events: readonly OrderEvent[]): OrderEvent[] {
  const sorted = [...events].sort(compareEvents);
  const seen = new Set<string>();
  const kept: OrderEvent[] = [];
  for (const event of sorted) {
    const key = documentKey(event);
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(event);
  }
  return kept;
}
