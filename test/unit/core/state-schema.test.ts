// The customer state's Avro schema: schemas/customer-state.avsc is the documented source,
// src/core/state/codec.ts holds the same schema without docs (the core does no I/O). They
// must be identical, and the bytes they write must not move: every customer in Redis was
// written with them.
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { CUSTOMER_STATE_SCHEMA, decodeState, encodeState } from '../../../src/core/state/codec.js';
import { DEFAULT_RETENTION, emptyState, foldEvent } from '../../../src/core/state/customer-state.js';
import { DAY_MS } from '../../../src/core/time.js';

const file = JSON.parse(readFileSync(new URL('../../../schemas/customer-state.avsc', import.meta.url), 'utf8'));

/** The schema with every "doc" attribute removed. */
const withoutDocs = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(withoutDocs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== 'doc')
      .map(([key, value]) => [key, withoutDocs(value)]),
  );
};

/** Names of the records and fields that carry no doc. */
const undocumented = (node: unknown, path: string): string[] => {
  if (Array.isArray(node)) return node.flatMap((item) => undocumented(item, path));
  if (node === null || typeof node !== 'object') return [];
  const record = node as { name?: string; doc?: string; type?: unknown; items?: unknown; fields?: unknown };
  const here = record.name === undefined ? path : `${path}/${record.name}`;
  const own =
    record.name !== undefined && (record.fields !== undefined || record.type !== undefined) && !record.doc
      ? [here]
      : [];
  return [
    ...own,
    ...undocumented(record.fields, here),
    ...(typeof record.type === 'object' ? undocumented(record.type, here) : []),
    ...(typeof record.items === 'object' ? undocumented(record.items, here) : []),
  ];
};

/** A state with every part filled: orders with a refund and a cancellation, a pending refund, archive, counters. */
function sampleState() {
  const t0 = Date.UTC(2025, 0, 1);
  const state = emptyState();
  const policy = { ...DEFAULT_RETENTION, maxRetainedOrders: 3 };
  const fold = (
    orderId: string,
    day: number,
    type: 'order' | 'refund' | 'cancellation',
    amount: number,
    itemCount: number,
    originalOrderId: string | null,
  ) =>
    foldEvent(
      state,
      {
        customerId: 'c',
        orderId,
        eventTime: t0 + day * DAY_MS,
        type,
        amount,
        currency: 'GBP',
        itemCount,
        originalOrderId,
      },
      policy,
    );
  const outcomes = [
    fold('o1', 0, 'order', 12.5, 2, null),
    fold('o2', 10, 'order', 30, 1, null),
    fold('o2', 10, 'order', 30, 1, null),
    fold('r1', 12, 'refund', 5.25, 1, 'o2'),
    fold('o3', 20, 'order', 7.999, 3, null),
    fold('o4', 30, 'order', 100, 4, null),
    fold('c1', 31, 'cancellation', 100, 4, 'o4'),
    fold('r2', 32, 'refund', 1, 0, 'o-unknown'),
    fold('old', -400, 'order', 1, 1, null),
  ];
  expect(outcomes).toEqual([
    'applied',
    'applied',
    'duplicate',
    'applied',
    'applied',
    'applied',
    'applied',
    'refund_pending',
    'too_late',
  ]);
  return state;
}

// Written by the codec before the schema moved to schemas/: states in Redis look like this.
const SAMPLE_BYTES =
  '010000c04f3f4c794206046f3280d0c8aa8a65e0d403020204723180b0aecf8b658452020000046f3380b0c5e29065fe7c0600046f348090c29a9765c09a0c08020463318080f5ec9765c09a0c0801000002126f2d756e6b6e6f776e04723280f0a7bf9865d00f00000002a8c301040000c097f24179420000c097f241794202020002';
const EMPTY_BYTES = '01000000000000f87f0000000000000000000000f87f000000000000f87f00000000';

describe('customer state schema', () => {
  it('is the same in schemas/customer-state.avsc and in the codec', () => {
    expect(withoutDocs(file)).toEqual(CUSTOMER_STATE_SCHEMA);
    expect(avro.Type.forSchema(file).fingerprint('sha256').toString('hex')).toBe(
      avro.Type.forSchema(CUSTOMER_STATE_SCHEMA as unknown as avro.Schema)
        .fingerprint('sha256')
        .toString('hex'),
    );
  });

  it('documents every record and field in the file', () => {
    expect(undocumented(file, '')).toEqual([]);
  });

  it('writes the bytes states in Redis were written with, and reads them back', () => {
    const state = sampleState();
    expect(state.orders).toHaveLength(3);
    expect(state.pending).toHaveLength(1);
    expect(state.archive.orders).toBe(1);
    expect(encodeState(state).toString('hex')).toBe(SAMPLE_BYTES);
    expect(decodeState(Buffer.from(SAMPLE_BYTES, 'hex'))).toEqual(state);
    expect(encodeState(emptyState()).toString('hex')).toBe(EMPTY_BYTES);
    expect(decodeState(Buffer.from(EMPTY_BYTES, 'hex'))).toEqual(emptyState());
    // The file's schema writes the same record bytes (after the layout byte).
    expect(avro.Type.forSchema(file).toBuffer(state).toString('hex')).toBe(SAMPLE_BYTES.slice(2));
  });
});
