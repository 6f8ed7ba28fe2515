// fast-check arbitraries for one customer's order history (orders, refunds,
// cancellations, refunds of unknown orders), and helpers to compare feature vectors.
import fc from 'fast-check';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { DAY_MS } from '../../src/core/time.js';

export const T0 = Date.UTC(2024, 0, 1);

const order = (index: number, time: number, cents: number, items: number): OrderEvent => ({
  customerId: 'c',
  orderId: `o${index}`,
  eventTime: time,
  type: 'order',
  amount: cents / 100,
  currency: 'GBP',
  itemCount: items,
  originalOrderId: null,
});

/** Orders over `spanDays`, some refunded in part, some cancelled, plus refunds of unknown orders. */
export const historyArb = (spanDays = 400): fc.Arbitrary<OrderEvent[]> =>
  fc
    .array(
      fc.record({
        // Whole days plus a millisecond part, so ties and exact-boundary cases both occur.
        day: fc.integer({ min: 0, max: spanDays }),
        ms: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: DAY_MS - 1 })),
        cents: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000_000 })),
        items: fc.integer({ min: 0, max: 5000 }),
        reversal: fc.option(
          fc.record({
            kind: fc.constantFrom('refund', 'cancellation'),
            afterDays: fc.integer({ min: 0, max: 120 }),
            share: fc.double({ min: 0, max: 1.2, noNaN: true }),
          }),
          { freq: 3 },
        ),
      }),
      { minLength: 0, maxLength: 30 },
    )
    .chain((specs) =>
      fc.array(fc.record({ day: fc.integer({ min: 0, max: spanDays }) }), { maxLength: 2 }).map((orphans) => {
        const events: OrderEvent[] = [];
        specs.forEach((spec, index) => {
          const time = T0 + spec.day * DAY_MS + spec.ms;
          const placed = order(index, time, spec.cents, spec.items);
          events.push(placed);
          if (spec.reversal !== null) {
            const cents = Math.round(spec.cents * spec.reversal.share);
            events.push({
              ...placed,
              orderId: `r${index}`,
              eventTime: time + spec.reversal.afterDays * DAY_MS,
              type: spec.reversal.kind as 'refund' | 'cancellation',
              amount: cents / 100,
              itemCount: Math.round(spec.items * Math.min(spec.reversal.share, 1)),
              originalOrderId: placed.orderId,
            });
          }
        });
        orphans.forEach((orphan, index) => {
          events.push({
            ...order(1000 + index, T0 + orphan.day * DAY_MS, 100, 1),
            orderId: `x${index}`,
            type: 'refund',
            originalOrderId: 'never-seen',
          });
        });
        return events;
      }),
    );

/** Same elements in another order, with some events delivered twice. */
export const shuffledWithDuplicates = <T>(items: readonly T[]): fc.Arbitrary<T[]> =>
  fc
    .tuple(
      fc.shuffledSubarray([...items], { minLength: 0, maxLength: Math.min(items.length, 5) }),
      fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
    )
    .map(([duplicates, keys]) => {
      const all = [...items, ...duplicates];
      const sortKeys = all.map(() => keys.next().value as number);
      return all
        .map((item, index) => ({ item, key: sortKeys[index] ?? 0 }))
        .sort((a, b) => a.key - b.key)
        .map((entry) => entry.item);
    });

/** Bitwise equality of two feature vectors (NaN equals NaN, +0 differs from -0). */
export function sameVector(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((value, index) => Object.is(value, b[index]));
}

export function describeDifference(names: readonly string[], a: Float64Array, b: Float64Array): string {
  return names
    .flatMap((name, index) => (Object.is(a[index], b[index]) ? [] : [`${name}: ${a[index]} vs ${b[index]}`]))
    .join(', ');
}
