// fast-check arbitraries for hostile records on the orders topic, as the generative
// hostile-input test uses them: a wire header (none / wrong magic / truncated / valid /
// a null value) x a writer schema id (ours / unknown small / unknown huge) x an Avro body
// (valid, truncated, padded, bytes flipped, random bytes spliced in, entirely random, or
// valid Avro with an invalid field value) x a size from 0 to past the dead-letter topic's
// limit x record headers x a key (null, empty, huge, ordinary). Every sample is plain
// data; `buildHostile` turns it into bytes deterministically (the random bytes come from
// a seed in the sample), so a fast-check seed replays the exact same records.
import fc from 'fast-check';
import type { IHeaders } from 'kafkajs';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { DAY_MS } from '../../src/core/time.js';

export const INVALID_FIELDS = {
  nan_amount: 'invalid_amount',
  negative_amount: 'invalid_amount',
  infinite_amount: 'invalid_amount',
  huge_amount: 'invalid_amount',
  negative_items: 'invalid_item_count',
  bad_currency: 'invalid_currency',
  empty_customer: 'missing_customer_id',
  long_customer: 'invalid_customer_id',
  control_customer: 'invalid_customer_id',
  long_order: 'invalid_order_id',
  future_time: 'event_time_in_future',
  before_floor: 'event_time_before_floor',
  refund_without_order: 'refund_without_order',
  order_with_original: 'order_with_original_order',
} as const;

export type InvalidField = keyof typeof INVALID_FIELDS;

export type HeaderKind = 'none' | 'wrong_magic' | 'truncated' | 'valid' | 'null_value';
export type BodyMutation =
  | { readonly kind: 'valid' }
  | { readonly kind: 'truncate'; readonly keep: number }
  | { readonly kind: 'pad' }
  | { readonly kind: 'flip'; readonly flips: readonly { readonly at: number; readonly mask: number }[] }
  | { readonly kind: 'splice'; readonly at: number }
  | { readonly kind: 'random' }
  | { readonly kind: 'field'; readonly field: InvalidField };
export type SchemaIdChoice =
  | { readonly kind: 'ours' }
  | { readonly kind: 'unknown_small'; readonly id: number }
  | { readonly kind: 'unknown_huge'; readonly id: number };
export type RecordHeaders = 'none' | 'one' | 'many' | 'binary' | 'huge' | 'repeated' | 'unicode';
export type KeyKind = 'null' | 'empty' | 'huge' | 'ordinary';

export interface HostileSample {
  readonly header: HeaderKind;
  readonly magic: number;
  readonly truncatedTo: number;
  readonly schemaId: SchemaIdChoice;
  readonly body: BodyMutation;
  readonly size: number;
  readonly headers: RecordHeaders;
  readonly key: KeyKind;
  readonly keySize: number;
  readonly bytesSeed: number;
  readonly partition: number;
  readonly dayOffset: number;
  readonly amountCents: number;
  readonly items: number;
}

/** `smallIds` and `hugeIds`: ids the registry does not serve (checked by the test). */
export function hostileSample(
  smallIds: readonly number[],
  hugeIds: readonly number[],
  partitions: number,
  deadLetterLimit: number,
): fc.Arbitrary<HostileSample> {
  return fc.record({
    header: fc.oneof(
      { arbitrary: fc.constantFrom<HeaderKind>('none', 'wrong_magic', 'truncated'), weight: 3 },
      { arbitrary: fc.constant<HeaderKind>('valid'), weight: 6 },
      { arbitrary: fc.constant<HeaderKind>('null_value'), weight: 1 },
    ),
    magic: fc.integer({ min: 1, max: 255 }),
    truncatedTo: fc.integer({ min: 0, max: 3 }),
    schemaId: fc.oneof(
      { arbitrary: fc.constant<SchemaIdChoice>({ kind: 'ours' }), weight: 6 },
      {
        arbitrary: fc.constantFrom(...smallIds).map((id): SchemaIdChoice => ({ kind: 'unknown_small', id })),
        weight: 1,
      },
      { arbitrary: fc.constantFrom(...hugeIds).map((id): SchemaIdChoice => ({ kind: 'unknown_huge', id })), weight: 1 },
    ),
    body: fc.oneof(
      { arbitrary: fc.constant<BodyMutation>({ kind: 'valid' }), weight: 2 },
      {
        arbitrary: fc
          .double({ min: 0, max: 1, noNaN: true, maxExcluded: true })
          .map((keep): BodyMutation => ({ kind: 'truncate', keep })),
        weight: 1,
      },
      { arbitrary: fc.constant<BodyMutation>({ kind: 'pad' }), weight: 1 },
      {
        arbitrary: fc
          .array(fc.record({ at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 })
          .map((flips): BodyMutation => ({ kind: 'flip', flips })),
        weight: 2,
      },
      { arbitrary: fc.nat().map((at): BodyMutation => ({ kind: 'splice', at })), weight: 1 },
      { arbitrary: fc.constant<BodyMutation>({ kind: 'random' }), weight: 1 },
      {
        arbitrary: fc
          .constantFrom(...(Object.keys(INVALID_FIELDS) as InvalidField[]))
          .map((field): BodyMutation => ({ kind: 'field', field })),
        weight: 3,
      },
    ),
    // Mostly small, some around a few KiB, a few past the dead-letter topic's limit.
    size: fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 64 }), weight: 5 },
      { arbitrary: fc.integer({ min: 65, max: 4096 }), weight: 3 },
      { arbitrary: fc.integer({ min: deadLetterLimit - 2048, max: deadLetterLimit * 2 }), weight: 1 },
    ),
    headers: fc.constantFrom<RecordHeaders>('none', 'one', 'many', 'binary', 'huge', 'repeated', 'unicode'),
    key: fc.constantFrom<KeyKind>('null', 'empty', 'huge', 'ordinary'),
    keySize: fc.integer({ min: 1025, max: deadLetterLimit + 8192 }),
    bytesSeed: fc.integer(),
    partition: fc.integer({ min: 0, max: partitions - 1 }),
    dayOffset: fc.integer({ min: 0, max: 365 }),
    amountCents: fc.integer({ min: 0, max: 100_000 }),
    items: fc.integer({ min: 0, max: 9 }),
  });
}

export interface BuiltHostile {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders | undefined;
  /** The event the body encodes before mutation (hostile customers are `hz-<index>`). */
  readonly base: OrderEvent;
  /** The error class a reader of the bytes alone must give, or null when it depends on the body. */
  readonly expectedClass: string | null;
}

/** The bytes of sample `index`: `encodeBody` writes an order event as Avro (no header). */
export function buildHostile(
  sample: HostileSample,
  index: number,
  ourSchemaId: number,
  encodeBody: (event: OrderEvent) => Buffer,
  baseTime: number,
): BuiltHostile {
  const rng = xoroshiro128plus(sample.bytesSeed);
  const bytes = (length: number) => {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i += 1) out[i] = uniformInt(rng, 0, 255);
    return out;
  };
  const base: OrderEvent = {
    customerId: `hz-${index}`,
    orderId: `hz-o-${index}`,
    eventTime: baseTime + sample.dayOffset * DAY_MS,
    type: 'order',
    amount: sample.amountCents / 100,
    currency: 'GBP',
    itemCount: sample.items,
    originalOrderId: null,
  };
  const invalid = (field: InvalidField): OrderEvent => {
    const long = (min: number) => 'x'.repeat(Math.max(min, sample.size));
    switch (field) {
      case 'nan_amount':
        return { ...base, amount: Number.NaN };
      case 'negative_amount':
        return { ...base, amount: -1 - sample.amountCents };
      case 'infinite_amount':
        return { ...base, amount: Number.NEGATIVE_INFINITY };
      case 'huge_amount':
        return { ...base, amount: 1e13 + sample.amountCents };
      case 'negative_items':
        return { ...base, itemCount: -1 - sample.items };
      case 'bad_currency':
        return { ...base, currency: ['', 'GB', 'GBPX', '€€€', 'g1p'][sample.items % 5] as string };
      case 'empty_customer':
        return { ...base, customerId: ' '.repeat(sample.items) };
      case 'long_customer':
        return { ...base, customerId: long(257) };
      case 'control_customer':
        return { ...base, customerId: `hz-${index}\u0007` };
      case 'long_order':
        return { ...base, orderId: long(257) };
      case 'future_time':
        return { ...base, eventTime: Date.now() + (2 + sample.dayOffset) * DAY_MS };
      case 'before_floor':
        return { ...base, eventTime: Date.UTC(1989, 0, 1) - sample.dayOffset * DAY_MS };
      case 'refund_without_order':
        return { ...base, type: 'refund', originalOrderId: null };
      case 'order_with_original':
        return { ...base, originalOrderId: `hz-o-${index + 1}` };
    }
  };
  const valid = encodeBody(base);
  const mutation = sample.body;
  let body: Buffer;
  switch (mutation.kind) {
    case 'valid':
      body = valid;
      break;
    case 'truncate':
      body = valid.subarray(0, Math.floor(mutation.keep * valid.length));
      break;
    case 'pad':
      body = Buffer.concat([valid, bytes(Math.max(1, sample.size))]);
      break;
    case 'flip': {
      body = Buffer.from(valid);
      for (const { at, mask } of mutation.flips) {
        const i = at % body.length;
        body[i] = (body[i] as number) ^ mask;
      }
      break;
    }
    case 'splice': {
      const at = mutation.at % (valid.length + 1);
      body = Buffer.concat([valid.subarray(0, at), bytes(Math.max(1, sample.size)), valid.subarray(at)]);
      break;
    }
    case 'random':
      body = bytes(sample.size);
      break;
    case 'field':
      body = encodeBody(invalid(mutation.field));
      break;
  }
  const schemaId = sample.schemaId.kind === 'ours' ? ourSchemaId : sample.schemaId.id;
  const idBytes = Buffer.alloc(4);
  idBytes.writeUInt32BE(schemaId >>> 0, 0);
  let value: Buffer | null;
  switch (sample.header) {
    case 'none':
      value = body;
      break;
    case 'wrong_magic':
      value = Buffer.concat([Buffer.from([sample.magic]), idBytes, body]);
      break;
    case 'truncated':
      value = Buffer.concat([Buffer.from([0]), idBytes.subarray(0, sample.truncatedTo)]);
      break;
    case 'valid':
      value = Buffer.concat([Buffer.from([0]), idBytes, body]);
      break;
    case 'null_value':
      value = null;
      break;
  }

  // What any reader must say from the bytes alone (the wire format), or from the body when
  // it is valid Avro of our schema with exactly one invalid field.
  let expectedClass: string | null = null;
  if (value === null || value.length === 0) expectedClass = 'empty_value';
  else if (value[0] !== 0) expectedClass = 'bad_magic_byte';
  else if (value.length < 5) expectedClass = 'truncated_header';
  else if (sample.header === 'valid' && sample.schemaId.kind !== 'ours') expectedClass = 'unknown_schema_id';
  else if (sample.header === 'valid' && mutation.kind === 'field') expectedClass = INVALID_FIELDS[mutation.field];

  const headerValue = bytes(Math.max(1, Math.min(sample.size, 64)));
  const headers: IHeaders | undefined = (() => {
    switch (sample.headers) {
      case 'none':
        return undefined;
      case 'one':
        return { trace_id: `trace-${index}` };
      case 'many':
        return Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`h${i}`, `value-${i}-${index}`]));
      case 'binary':
        return { binary: headerValue };
      case 'huge':
        return { huge: bytes(Math.max(1024, sample.size)) };
      case 'repeated':
        return { repeated: ['first', headerValue, 'third'] };
      case 'unicode':
        return { 'ключ-🔑': 'значение-✓', 'ctl\u0007': '\u0000\u0001' };
    }
  })();

  let key: Buffer | null;
  switch (sample.key) {
    case 'null':
      key = null;
      break;
    case 'empty':
      key = Buffer.alloc(0);
      break;
    case 'huge':
      key = Buffer.from(`hz-key-${index}-`.padEnd(sample.keySize, 'k'));
      break;
    case 'ordinary':
      key = Buffer.from(`hz-key-${index}`);
      break;
  }
  return { key, value, headers, base, expectedClass };
}
