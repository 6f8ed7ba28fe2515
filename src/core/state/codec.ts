// Compact binary form of a customer state (it lives in Redis, one value per
// customer): Avro binary with zig-zag varints, so small numbers take few bytes. The
// first byte is a layout version; a reader refuses versions it does not know.
import avro from 'avsc';
import type { CustomerState } from './customer-state.js';

export const STATE_LAYOUT_VERSION = 1;

/**
 * The state's Avro schema: schemas/customer-state.avsc (documented there) without its
 * docs. Kept here so the core does no I/O; test/unit/core/state-schema.test.ts checks the
 * two are identical and pins the bytes, since every stored customer is written with it.
 */
export const CUSTOMER_STATE_SCHEMA = {
  type: 'record',
  name: 'CustomerState',
  namespace: 'io.churnstream.state',
  fields: [
    { name: 'maxEventTime', type: 'double' },
    {
      name: 'orders',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Order',
          fields: [
            { name: 'id', type: 'string' },
            { name: 'time', type: 'long' },
            { name: 'amountMills', type: 'long' },
            { name: 'items', type: 'long' },
            {
              name: 'refunds',
              type: {
                type: 'array',
                items: {
                  type: 'record',
                  name: 'Refund',
                  fields: [
                    { name: 'id', type: 'string' },
                    { name: 'time', type: 'long' },
                    { name: 'amountMills', type: 'long' },
                    { name: 'items', type: 'long' },
                    { name: 'cancel', type: 'boolean' },
                  ],
                },
              },
            },
          ],
        },
      },
    },
    {
      name: 'pending',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Pending',
          fields: [
            { name: 'orderId', type: 'string' },
            { name: 'refund', type: 'Refund' },
          ],
        },
      },
    },
    {
      name: 'archive',
      type: {
        type: 'record',
        name: 'Archive',
        fields: [
          { name: 'orders', type: 'long' },
          { name: 'spendMills', type: 'long' },
          { name: 'items', type: 'long' },
          { name: 'firstOrderTime', type: 'double' },
          { name: 'lastOrderTime', type: 'double' },
        ],
      },
    },
    {
      name: 'counters',
      type: {
        type: 'record',
        name: 'Counters',
        fields: [
          { name: 'duplicates', type: 'long' },
          { name: 'tooLate', type: 'long' },
          { name: 'orphanRefunds', type: 'long' },
          { name: 'truncated', type: 'long' },
        ],
      },
    },
  ],
} as const;

const stateType = avro.Type.forSchema(CUSTOMER_STATE_SCHEMA as unknown as avro.Schema);

export function encodeState(state: CustomerState): Buffer {
  return Buffer.concat([Buffer.of(STATE_LAYOUT_VERSION), stateType.toBuffer(state)]);
}

export function decodeState(bytes: Buffer): CustomerState {
  const version = bytes[0];
  if (version !== STATE_LAYOUT_VERSION) {
    throw new Error(`customer state layout version ${version} is not supported (expected ${STATE_LAYOUT_VERSION})`);
  }
  return stateType.fromBuffer(bytes.subarray(1)) as CustomerState;
}
