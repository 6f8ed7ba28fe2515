// Hand-computed feature values on a small history that hits the boundaries: an event
// exactly at t, one exactly at the window edge, a zero-amount order, a partial refund,
// a cancellation, a future event. Expected values are worked out in the comments.
import { describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../../../src/core/events/order-event.js';
import { featuresAt, rawFeaturesAt } from '../../../../src/core/features/extract.js';
import { FEATURE_COUNT, FEATURE_NAMES, RAW_FEATURES, type RawFeature } from '../../../../src/core/features/names.js';
import { DEFAULT_FEATURE_SPEC } from '../../../../src/core/features/spec.js';
import { emptyState, foldEvent } from '../../../../src/core/state/customer-state.js';
import { DAY_MS } from '../../../../src/core/time.js';

const T = Date.UTC(2025, 0, 1);
const spec = DEFAULT_FEATURE_SPEC; // window 180 d, recent half 90 d, periods of 30 d
const at = (day: number) => T + day * DAY_MS;

const order = (id: string, day: number, amount: number, items: number): OrderEvent => ({
  customerId: 'c',
  orderId: id,
  eventTime: at(day),
  type: 'order',
  amount,
  currency: 'GBP',
  itemCount: items,
  originalOrderId: null,
});
const reversal = (
  id: string,
  of: string,
  day: number,
  type: 'refund' | 'cancellation',
  amount: number,
): OrderEvent => ({
  ...order(id, day, amount, 0),
  type,
  originalOrderId: of,
});

const history: OrderEvent[] = [
  order('o1', 0, 100, 2), // before the window: tenure and lifetime only
  order('o2', 20, 50, 1), // exactly at t - 180 d: outside the window (t - W, t]
  order('o3', 50, 80, 4),
  reversal('r3', 'o3', 60, 'refund', 20), // o3 nets 60
  order('o4', 110, 40, 1), // exactly at t - 90 d: earlier half, not in the last 90 days
  order('o5', 150, 60, 3),
  order('o6', 190, 0, 1), // zero amount still counts as an order
  order('o7', 195, 30, 5),
  reversal('x7', 'o7', 196, 'cancellation', 30), // o7 no longer counts
  order('o8', 200, 10, 2), // exactly at t: included
  order('o9', 201, 999, 9), // after t: invisible
];

function stateOf(events: readonly OrderEvent[]) {
  const state = emptyState();
  for (const event of events) foldEvent(state, event, spec.retention);
  return state;
}

const valuesAt = (events: readonly OrderEvent[], t: number): Record<RawFeature, number> => {
  const raw = rawFeaturesAt(stateOf(events), t, spec);
  return Object.fromEntries(RAW_FEATURES.map((name, index) => [name, raw[index]])) as Record<RawFeature, number>;
};

describe('raw features, hand-computed', () => {
  const f = valuesAt(history, at(200));

  it('RFM', () => {
    expect(f.recency_days).toBe(0); // o8 at t
    expect(f.frequency_orders).toBe(5); // o3 o4 o5 o6 o8
    expect(f.monetary_spend).toBe(170); // 60 + 40 + 60 + 0 + 10
    expect(f.avg_order_value).toBe(34);
    expect(f.tenure_days).toBe(200);
    expect(f.lifetime_orders).toBe(7); // all but cancelled o7 and future o9
    expect(f.lifetime_spend).toBe(320); // 100 + 50 + 60 + 40 + 60 + 0 + 10
    expect(f.orders_last_90d).toBe(3); // o5 o6 o8 (o4 sits exactly on the edge)
  });

  it('cadence: gaps of 60, 40, 40, 10 days', () => {
    expect(f.inter_order_mean_days).toBe(37.5);
    // deviations 22.5, 2.5, 2.5, -27.5: squares sum to 1275, population variance 318.75
    expect(f.inter_order_std_days).toBeCloseTo(Math.sqrt(318.75), 12);
    expect(f.inter_order_cv).toBeCloseTo(Math.sqrt(318.75) / 37.5, 12);
    expect(f.overdue_ratio).toBe(0);
  });

  it('trends: recent half o5 o6 o8 (70, 3 orders) vs earlier o3 o4 (100, 2 orders)', () => {
    expect(f.spend_trend).toBeCloseTo(-30 / 170, 15);
    expect(f.frequency_trend).toBeCloseTo(1 / 5, 15);
  });

  it('refunds, baskets and regularity', () => {
    // gross in window 80 + 40 + 60 + 0 + 30 + 10 = 220, refunded 20 + 30
    expect(f.refund_rate).toBeCloseTo(50 / 220, 15);
    expect(f.avg_basket_size).toBe(11 / 5);
    // periods back from t: o8, o6 -> 0; o5 -> 1; o4 -> 3; o3 -> 5: four of six
    expect(f.active_period_share).toBe(4 / 6);
  });

  it('moves with t: a day later recency ticks, o9 appears, the cancellation stays', () => {
    const later = valuesAt(history, at(201));
    expect(later.recency_days).toBe(0); // o9 at exactly t
    expect(later.frequency_orders).toBe(6);
    const before = valuesAt(history, at(196) - 1);
    // window is now (day 16, day 196): o2 is back in, o7 is not yet cancelled
    expect(before.frequency_orders).toBe(6);
    expect(before.recency_days).toBe(0); // o7 placed 0.99 days earlier
  });
});

describe('edge cases', () => {
  it('an empty history is missing where undefined and zero where a count', () => {
    const f = valuesAt([], at(10));
    expect(f.frequency_orders).toBe(0);
    expect(f.monetary_spend).toBe(0);
    expect(f.lifetime_orders).toBe(0);
    expect(f.active_period_share).toBe(0);
    for (const name of [
      'recency_days',
      'tenure_days',
      'avg_order_value',
      'inter_order_mean_days',
      'refund_rate',
    ] as const) {
      expect(f[name]).toBeNaN();
    }
  });

  it('a single order has no cadence', () => {
    const f = valuesAt([order('a', 0, 25, 1)], at(45.5));
    expect(f.recency_days).toBe(45);
    expect(f.frequency_orders).toBe(1);
    expect(f.inter_order_mean_days).toBeNaN();
    expect(f.inter_order_cv).toBeNaN();
    expect(f.overdue_ratio).toBeNaN();
    expect(f.spend_trend).toBe(1);
    expect(f.frequency_trend).toBe(1);
  });

  it('zero-amount orders only: no spend, no refund rate, still frequency', () => {
    const f = valuesAt([order('a', 0, 0, 1), order('b', 5, 0, 1)], at(5));
    expect(f.frequency_orders).toBe(2);
    expect(f.monetary_spend).toBe(0);
    expect(f.spend_trend).toBe(0);
    expect(f.refund_rate).toBeNaN();
  });

  it('very large baskets and amounts stay exact', () => {
    const f = valuesAt([order('a', 0, 123_456_789.123, 1_000_000), order('b', 1, 0.001, 3)], at(2));
    expect(f.avg_basket_size).toBe(500_001.5);
    expect(f.monetary_spend).toBe(123_456_789.124);
  });

  it('refunds beyond the order amount are capped at the amount', () => {
    const f = valuesAt(
      [order('a', 0, 10, 1), reversal('r1', 'a', 1, 'refund', 8), reversal('r2', 'a', 2, 'refund', 8)],
      at(3),
    );
    expect(f.monetary_spend).toBe(0);
    expect(f.refund_rate).toBe(1);
  });

  it('the full vector has raw features then 3 memberships per axis, summing to 1', () => {
    const vector = featuresAt(stateOf(history), at(200), spec);
    expect(vector.length).toBe(FEATURE_COUNT);
    expect(FEATURE_COUNT).toBe(RAW_FEATURES.length + 39);
    const lows = FEATURE_NAMES.flatMap((name, index) => (name.endsWith('_low') ? [index] : []));
    expect(lows).toHaveLength(13);
    for (const low of lows) {
      const sum = (vector[low] ?? 0) + (vector[low + 1] ?? 0) + (vector[low + 2] ?? 0);
      expect(sum).toBeCloseTo(1, 12);
    }
  });
});
