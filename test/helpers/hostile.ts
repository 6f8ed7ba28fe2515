// Seeded hostile input for the orders topic: payloads that must each end in the
// dead-letter topic with a known error class. Every payload has its own key, so the
// test can find its dead letter. Families: random bytes, wrong magic byte, truncated
// header, unknown schema id, truncated or padded Avro, huge strings, control and
// unicode characters in ids, NaN/inf/negative/absurd amounts, absurd dates, bad types.
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { DAY_MS } from '../../src/core/time.js';

export interface HostilePayload {
  readonly key: string;
  readonly value: Buffer | null;
  readonly expected: string;
}

type Family = (n: number) => { value: Buffer | null; expected: string };

const NOW = Date.UTC(2025, 5, 1);
// Avro longs are zigzag-encoded; avsc computes that in doubles, so only |t| < 2^52 ms
// round-trips exactly (-8.64e15 would be written as +8.64e15). Absurd dates stay below that.

export function hostilePayloads(
  count: number,
  seed: number,
  encode: (event: OrderEvent) => Buffer,
  unknownSchemaId: number,
): HostilePayload[] {
  const rng = xoroshiro128plus(seed);
  const int = (from: number, to: number) => uniformInt(rng, from, to);
  const bytes = (length: number) => Buffer.from(Array.from({ length }, () => int(0, 255)));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  const base = (n: number): OrderEvent => ({
    customerId: `fz-${n % 97}`,
    orderId: `fz-o-${n}`,
    eventTime: NOW - int(0, 300) * DAY_MS,
    type: 'order',
    amount: int(1, 50_000) / 100,
    currency: 'GBP',
    itemCount: int(1, 9),
    originalOrderId: null,
  });
  const controlChar = () => String.fromCharCode(pick([0, 1, 7, 8, 10, 13, 27, 127, 0x85, 0x9b]));
  const families: Family[] = [
    () => {
      const value = bytes(int(1, 300));
      value[0] = int(1, 255);
      return { value, expected: 'bad_magic_byte' };
    },
    () => ({
      value: Buffer.concat([Buffer.from([int(1, 255)]), encode(base(0)).subarray(1)]),
      expected: 'bad_magic_byte',
    }),
    () => ({ value: Buffer.concat([Buffer.from([0]), bytes(int(0, 3))]), expected: 'truncated_header' }),
    () => ({ value: null, expected: 'empty_value' }),
    (n) => {
      const value = Buffer.from(encode(base(n)));
      value.writeUInt32BE(unknownSchemaId + int(0, 1_000_000), 1);
      return { value, expected: 'unknown_schema_id' };
    },
    (n) => {
      const valid = encode(base(n));
      return { value: valid.subarray(0, int(5, valid.length - 1)), expected: 'undecodable_avro' };
    },
    (n) => ({ value: Buffer.concat([encode(base(n)), bytes(int(1, 40))]), expected: 'undecodable_avro' }),
    (n) => ({
      value: encode({ ...base(n), customerId: 'x'.repeat(int(257, 20_000)) }),
      expected: 'invalid_customer_id',
    }),
    (n) => ({
      value: encode({ ...base(n), orderId: '\u{1F600}'.repeat(int(129, 5000)) }),
      expected: 'invalid_order_id',
    }),
    (n) => ({
      value: encode({ ...base(n), customerId: `c${controlChar()}${'\u00e9\u4e2d'.repeat(int(0, 5))}` }),
      expected: 'invalid_customer_id',
    }),
    (n) => ({ value: encode({ ...base(n), orderId: `${controlChar()}o` }), expected: 'invalid_order_id' }),
    (n) => ({ value: encode({ ...base(n), customerId: ' '.repeat(int(0, 20)) }), expected: 'missing_customer_id' }),
    (n) => ({
      value: encode({
        ...base(n),
        amount: pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0.01, -1e300, 1e13, 1e308]),
      }),
      expected: 'invalid_amount',
    }),
    (n) => ({ value: encode({ ...base(n), itemCount: -int(1, 1_000_000) }), expected: 'invalid_item_count' }),
    (n) => ({
      value: encode({ ...base(n), currency: pick(['', 'pounds', 'gb', '€€€', 'GBPX']) }),
      expected: 'invalid_currency',
    }),
    (n) => ({
      value: encode({ ...base(n), eventTime: Date.now() + int(2, 3_000_000) * DAY_MS }),
      expected: 'event_time_in_future',
    }),
    (n) => ({
      value: encode({ ...base(n), eventTime: pick([0, -1, -8.64e14, Date.UTC(1989, 11, 31)]) }),
      expected: 'event_time_before_floor',
    }),
    (n) => ({ value: encode({ ...base(n), type: 'refund', originalOrderId: null }), expected: 'refund_without_order' }),
    (n) => ({
      value: encode({ ...base(n), originalOrderId: `fz-o-${n + 1}` }),
      expected: 'order_with_original_order',
    }),
  ];
  return Array.from({ length: count }, (_, n) => {
    const family = int(0, families.length - 1);
    const { value, expected } = (families[family] as Family)(n);
    return { key: `hostile-${n}`, value, expected };
  });
}
