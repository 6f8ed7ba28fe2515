// The batch path for training: features of many customers at many cutoff times from
// a full history. It is the streaming code run in event-time order (foldEvent, then
// featuresAt at each cutoff), not a second implementation, so training and serving
// cannot drift apart.
import type { OrderEvent } from '../events/order-event.js';
import { type CustomerState, emptyState, foldEvent, type RetentionPolicy } from '../state/customer-state.js';
import { featuresAt } from './extract.js';
import type { FeatureSpec } from './spec.js';

export interface FeatureRow {
  readonly customerId: string;
  readonly cutoff: number;
  readonly features: Float64Array;
}

export const byEventTime = (a: OrderEvent, b: OrderEvent): number =>
  a.eventTime - b.eventTime || (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0);

/** Groups events by customer (insertion order of first appearance). */
export function groupByCustomer(events: Iterable<OrderEvent>): Map<string, OrderEvent[]> {
  const grouped = new Map<string, OrderEvent[]>();
  for (const event of events) {
    let list = grouped.get(event.customerId);
    if (list === undefined) {
      list = [];
      grouped.set(event.customerId, list);
    }
    list.push(event);
  }
  return grouped;
}

/**
 * Replays one customer's history through the streaming reducer in event-time order and
 * calls `visit` with the state at each cutoff (ascending), holding exactly the events
 * with event time <= cutoff.
 */
export function replayAtCutoffs(
  events: readonly OrderEvent[],
  cutoffs: readonly number[],
  retention: RetentionPolicy,
  visit: (state: CustomerState, cutoff: number) => void,
): void {
  const sorted = [...events].sort(byEventTime);
  const orderedCutoffs = [...cutoffs].sort((a, b) => a - b);
  const state = emptyState();
  let next = 0;
  for (const cutoff of orderedCutoffs) {
    while (next < sorted.length && (sorted[next]?.eventTime ?? Number.POSITIVE_INFINITY) <= cutoff) {
      const event = sorted[next];
      if (event !== undefined) foldEvent(state, event, retention);
      next += 1;
    }
    visit(state, cutoff);
  }
}

/**
 * Features of one customer as of each cutoff, using only events with event time <=
 * cutoff. `include` decides per cutoff whether a row is wanted (e.g. only customers
 * active in the observation window).
 */
export function customerFeaturesAtCutoffs(
  customerId: string,
  events: readonly OrderEvent[],
  cutoffs: readonly number[],
  spec: FeatureSpec,
  include: (features: Float64Array, cutoff: number) => boolean = () => true,
): FeatureRow[] {
  const rows: FeatureRow[] = [];
  replayAtCutoffs(events, cutoffs, spec.retention, (state, cutoff) => {
    const features = featuresAt(state, cutoff, spec);
    if (include(features, cutoff)) rows.push({ customerId, cutoff, features });
  });
  return rows;
}
