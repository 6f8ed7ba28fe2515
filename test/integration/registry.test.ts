// The real schema registry (scripts/stack.sh) through @kafkajs/confluent-schema-registry
// and our cached decoder. Fails, not skips, when the registry is down.
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { beforeAll, describe, expect, it } from 'vitest';
import { DependencyError } from '../../src/adapters/dependency-error.js';
import { readSchemaText } from '../../src/adapters/files/schemas.js';
import { AvroRegistry, type RegisteredValueSchema, valueSubject } from '../../src/adapters/registry/avro-registry.js';
import { type OrderEventRecord, toOrderEventRecord } from '../../src/adapters/registry/order-event-codec.js';
import { writeWireFormat } from '../../src/adapters/registry/wire-format.js';
import { testConfig } from '../helpers/stack.js';

const config = testConfig('registry');
const registry = new AvroRegistry({ url: config.schemaRegistryUrl });
const sample: OrderEventRecord = toOrderEventRecord({
  customerId: 'C-1',
  orderId: 'O-1',
  eventTime: Date.UTC(2025, 2, 1, 12),
  type: 'order',
  amount: 42.5,
  currency: 'GBP',
  itemCount: 3,
  originalOrderId: null,
});

let orders: RegisteredValueSchema;

beforeAll(async () => {
  orders = await registry.registerValueSchema(config.topics.orders, readSchemaText('orderEvent'));
});

describe('schema registry (real)', () => {
  it('registers under the TopicNameStrategy subject, idempotently', async () => {
    expect(orders.subject).toBe(`${config.topics.orders}-value`);
    const again = await registry.registerValueSchema(config.topics.orders, readSchemaText('orderEvent'));
    expect(again.id).toBe(orders.id);
    expect(await registry.latestId(valueSubject(config.topics.orders))).toBe(orders.id);
  });

  it('round-trips an order event, readable by the Confluent-compatible library too', async () => {
    const bytes = registry.encode(orders, sample);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(orders.id);
    const decoded = await registry.decode<OrderEventRecord>(bytes, orders);
    expect(decoded).toEqual({ ok: true, value: sample, schemaId: orders.id });
    // The writer schema was fetched once, timed; cached lookups make no request.
    const requests: string[] = [];
    const timed = new AvroRegistry({
      url: config.schemaRegistryUrl,
      onRequest: (op, s, ok) => requests.push(`${op}:${ok}:${s >= 0}`),
    });
    await timed.decode(bytes, orders);
    await timed.decode(bytes, orders);
    expect(requests).toEqual(['get_schema:true:true']);
    const unknown = Buffer.from(bytes);
    unknown.writeUInt32BE(999_999, 1);
    expect(await timed.decode(unknown, orders)).toMatchObject({ ok: false, errorClass: 'unknown_schema_id' });
    expect(requests).toEqual(['get_schema:true:true', 'get_schema:true:true']);
    // A second, independent client fetches the writer schema from the registry by id.
    const library = new SchemaRegistry({ host: config.schemaRegistryUrl });
    expect(await library.decode(bytes)).toEqual(sample);
    const encodedByLibrary = await library.encode(orders.id, sample);
    expect(Buffer.compare(encodedByLibrary, bytes)).toBe(0);
  });

  it('resolves an older writer schema into the current reader schema', async () => {
    const topic = `${config.topics.orders}.evolve`;
    const v1 = {
      type: 'record',
      name: 'OrderEvent',
      namespace: 'io.churnstream.events',
      fields: [
        { name: 'customer_id', type: 'string' },
        { name: 'order_id', type: 'string' },
        { name: 'event_time', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'type', type: { type: 'enum', name: 'OrderEventType', symbols: ['order', 'refund', 'cancellation'] } },
        { name: 'amount', type: 'double' },
        { name: 'currency', type: 'string' },
        { name: 'item_count', type: 'int' },
      ],
    };
    const writer = await registry.registerValueSchema(topic, JSON.stringify(v1));
    const reader = await registry.registerValueSchema(topic, readSchemaText('orderEvent'));
    expect(reader.id).not.toBe(writer.id);
    const { original_order_id: _dropped, ...v1Record } = sample;
    const decoded = await registry.decode<OrderEventRecord>(registry.encode(writer, v1Record), reader);
    expect(decoded).toEqual({ ok: true, value: { ...v1Record, original_order_id: null }, schemaId: writer.id });
  });

  it('classifies bad bytes instead of throwing', async () => {
    const good = registry.encode(orders, sample);
    expect(await registry.decode(null, orders)).toMatchObject({ ok: false, errorClass: 'empty_value' });
    expect(await registry.decode(Buffer.from('{"customer_id":"x"}'), orders)).toMatchObject({
      ok: false,
      errorClass: 'bad_magic_byte',
    });
    expect(await registry.decode(good.subarray(0, 3), orders)).toMatchObject({
      ok: false,
      errorClass: 'truncated_header',
    });
    expect(await registry.decode(good.subarray(0, good.length - 4), orders)).toMatchObject({
      ok: false,
      errorClass: 'undecodable_avro',
    });
    expect(await registry.decode(Buffer.concat([good, Buffer.from([1, 2])]), orders)).toMatchObject({
      ok: false,
      errorClass: 'undecodable_avro',
    });
    const unknownId = writeWireFormat(987_654, good.subarray(5));
    expect(await registry.decode(unknownId, orders)).toMatchObject({ ok: false, errorClass: 'unknown_schema_id' });
  });

  it('an unreachable registry is a DependencyError naming the registry, never a verdict on the record', async () => {
    const nowhere = new AvroRegistry({ url: 'http://127.0.0.1:9' });
    const attempt = nowhere.decode(registry.encode(orders, sample), orders);
    await expect(attempt).rejects.toBeInstanceOf(DependencyError);
    await expect(attempt).rejects.toMatchObject({ dependency: 'registry' });
  });
});
