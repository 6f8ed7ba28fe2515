// The training table is point-in-time correct: features at a cutoff never see an event
// after it, labels never see an event at or before it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rfmSummary } from '../../../../src/core/dataset/bgnbd-inputs.js';
import { customerRows, cutoffsBetween } from '../../../../src/core/dataset/build.js';
import { fitFeatureSpec } from '../../../../src/core/dataset/fit-spec.js';
import { labelsAfter } from '../../../../src/core/dataset/labels.js';
import type { OrderEvent } from '../../../../src/core/events/order-event.js';
import { AXIS_FEATURES, RAW_FEATURES } from '../../../../src/core/features/names.js';
import { DEFAULT_FEATURE_SPEC } from '../../../../src/core/features/spec.js';
import { DAY_MS } from '../../../../src/core/time.js';
import { historyArb, sameVector, T0 } from '../../../helpers/histories.js';

const options = (cutoffs: number[]) => ({
  cutoffs,
  churnHorizonDays: 90,
  ltvHorizonDays: [90],
  spec: DEFAULT_FEATURE_SPEC,
});
const order = (id: string, day: number, amount: number): OrderEvent => ({
  customerId: 'c',
  orderId: id,
  eventTime: T0 + day * DAY_MS,
  type: 'order',
  amount,
  currency: 'GBP',
  itemCount: 1,
  originalOrderId: null,
});

describe('dataset builder: point in time', () => {
  it('features at a cutoff equal those built from the events up to it alone', () => {
    fc.assert(
      fc.property(historyArb(400), fc.integer({ min: 30, max: 400 }), (history, day) => {
        const cutoff = T0 + day * DAY_MS;
        const full = customerRows('c', history, options([cutoff]));
        const past = customerRows(
          'c',
          history.filter((e) => e.eventTime <= cutoff),
          options([cutoff]),
        );
        expect(full.length).toBe(past.length);
        if (full[0] !== undefined && past[0] !== undefined) {
          expect(sameVector(full[0].raw, past[0].raw)).toBe(true);
          expect(full[0].rfm).toEqual(past[0].rfm);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('labels depend only on events after the cutoff', () => {
    fc.assert(
      fc.property(historyArb(400), fc.integer({ min: 30, max: 400 }), (history, day) => {
        const cutoff = T0 + day * DAY_MS;
        const sorted = [...history].sort((a, b) => a.eventTime - b.eventTime);
        // Rewriting the past (dropping every earlier order) must not change the labels,
        // except for refunds after the cutoff of orders placed before it (they reduce future net spend).
        const keepPastOrdersOnlyIfRefundedLater = sorted.filter(
          (e) => e.eventTime > cutoff || sorted.some((r) => r.originalOrderId === e.orderId && r.eventTime > cutoff),
        );
        expect(labelsAfter(keepPastOrdersOnlyIfRefundedLater, cutoff, 90, [90, 365])).toEqual(
          labelsAfter(sorted, cutoff, 90, [90, 365]),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('computes churn and future spend by hand', () => {
    const history = [order('a', 0, 10), order('b', 100, 20), order('c', 150, 30), order('d', 191, 99)];
    const cutoff = T0 + 100 * DAY_MS; // b is exactly at the cutoff: a feature, not a label
    expect(labelsAfter(history, cutoff, 90, [90])).toEqual({ churned: 0, futureSpend: [30] });
    expect(labelsAfter(history, T0 + 151 * DAY_MS, 30, [30])).toEqual({ churned: 1, futureSpend: [0] });
    const refunded = [...history, { ...order('r', 160, 5), type: 'refund' as const, originalOrderId: 'c' }];
    expect(labelsAfter(refunded, cutoff, 90, [90]).futureSpend).toEqual([25]);
  });

  it('keeps one future-spend label per horizon, empty (NaN) where the window outlasts the data', () => {
    const history = [order('a', 0, 10), order('b', 120, 20), order('c', 250, 40), order('d', 400, 80)];
    const cutoff = T0 + 100 * DAY_MS;
    const dataEnd = T0 + 400 * DAY_MS;
    // Windows end on day 190, 370, 400 (the data's last instant: closed) and 465 (open).
    expect(labelsAfter(history, cutoff, 90, [90, 270, 300, 365], dataEnd)).toEqual({
      churned: 0,
      futureSpend: [20, 60, 140, Number.NaN],
    });
    // A refund counts in every window it falls in, and only there.
    const refunded = [...history, { ...order('r', 200, 15), type: 'refund' as const, originalOrderId: 'b' }];
    expect(labelsAfter(refunded, cutoff, 90, [90, 270]).futureSpend).toEqual([20, 45]);
  });

  it('keeps only customers active in the observation window, and only full label horizons', () => {
    const history = [order('a', 0, 10)];
    const rows = customerRows('c', history, options([T0 + 10 * DAY_MS, T0 + 181 * DAY_MS]));
    expect(rows.map((row) => (row.cutoff - T0) / DAY_MS)).toEqual([10]);
    expect(cutoffsBetween(T0, T0 + 200 * DAY_MS, 30, 90).map((c) => (c - T0) / DAY_MS)).toEqual([0, 30, 60, 90]);
  });

  it('summarises history for BG/NBD in lifetimes conventions', () => {
    const history = [order('a', 0, 10), order('b', 0, 5), order('c', 10, 20), order('d', 30, 40)];
    expect(rfmSummary(history, T0 + 50 * DAY_MS)).toEqual({ frequency: 2, recency: 30, age: 50, monetary: 30 });
  });

  it('fits fuzzy breakpoints as the 10/50/90th percentiles of the training rows', () => {
    const rows = Array.from({ length: 101 }, (_, i) => Float64Array.from(RAW_FEATURES, () => i));
    const spec = fitFeatureSpec(rows, DEFAULT_FEATURE_SPEC, 'fitted-test');
    expect(spec.version).toBe('fitted-test');
    for (const axis of AXIS_FEATURES) expect(spec.breakpoints[axis]).toEqual([10, 50, 90]);
  });
});
