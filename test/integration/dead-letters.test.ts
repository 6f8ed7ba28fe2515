// Every kind of bad input, produced as real bytes, lands in the dead-letter topic with its
// reason and original bytes; the good events around it are processed; nothing stops.
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSchemaText } from '../../src/adapters/files/schemas.js';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { toOrderEventRecord } from '../../src/adapters/registry/order-event-codec.js';
import { writeWireFormat } from '../../src/adapters/registry/wire-format.js';
import { createLogger } from '../../src/app/logger.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { DAY_MS } from '../../src/core/time.js';
import { emptyModelsDir, produceRaw, readDeadLetters, scorerConfig } from '../helpers/scorer.js';

const config = scorerConfig('dlq', { CHURNSTREAM_MODELS_DIR: emptyModelsDir() });

let kafka: Kafka;
let provisioned: Provisioned;
let service: Service;

const t0 = Date.UTC(2025, 0, 1);
const good = (customerId: string, orderId: string, day: number): OrderEvent => ({
  customerId,
  orderId,
  eventTime: t0 + day * DAY_MS,
  type: 'order',
  amount: 25,
  currency: 'GBP',
  itemCount: 1,
  originalOrderId: null,
});

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  service = await startService(config, createLogger(process.env['TEST_LOG'] ?? 'silent'));
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

describe('dead letters (real bytes through the real stack)', () => {
  it('routes every bad record with its reason and original bytes, and processes the good ones', async () => {
    const { registry, schemas } = provisioned;
    const encode = (event: OrderEvent) => registry.encode(schemas.orders, toOrderEventRecord(event));
    const valid = encode(good('dlq-ok', 'o1', 0));
    // A schema the registry knows but that cannot be read as an order event.
    const foreign = await registry.registerValueSchema(`${config.topics.orders}.foreign`, readSchemaText('deadLetter'));
    const cases: { key: string; value: Buffer | null; errorClass: string }[] = [
      { key: 'k-magic', value: Buffer.from('{"customer_id":"x"}'), errorClass: 'bad_magic_byte' },
      { key: 'k-null', value: null, errorClass: 'empty_value' },
      { key: 'k-short', value: Buffer.from([0, 0, 1]), errorClass: 'truncated_header' },
      { key: 'k-unknown', value: writeWireFormat(987_654, valid.subarray(5)), errorClass: 'unknown_schema_id' },
      { key: 'k-truncated', value: valid.subarray(0, valid.length - 3), errorClass: 'undecodable_avro' },
      { key: 'k-foreign', value: writeWireFormat(foreign.id, valid.subarray(5)), errorClass: 'incompatible_schema' },
      { key: 'k-empty-id', value: encode({ ...good('', 'o', 0) }), errorClass: 'missing_customer_id' },
      { key: 'k-ctrl', value: encode(good('bad\u0007id', 'o', 0)), errorClass: 'invalid_customer_id' },
      { key: 'k-nan', value: encode({ ...good('dlq-a', 'o', 0), amount: Number.NaN }), errorClass: 'invalid_amount' },
      {
        key: 'k-inf',
        value: encode({ ...good('dlq-a', 'o', 0), amount: Number.POSITIVE_INFINITY }),
        errorClass: 'invalid_amount',
      },
      { key: 'k-neg', value: encode({ ...good('dlq-a', 'o', 0), amount: -5 }), errorClass: 'invalid_amount' },
      { key: 'k-items', value: encode({ ...good('dlq-a', 'o', 0), itemCount: -1 }), errorClass: 'invalid_item_count' },
      {
        key: 'k-future',
        value: encode({ ...good('dlq-a', 'o', 0), eventTime: Date.now() + 30 * DAY_MS }),
        errorClass: 'event_time_in_future',
      },
      {
        key: 'k-past',
        value: encode({ ...good('dlq-a', 'o', 0), eventTime: Date.UTC(1970, 0, 2) }),
        errorClass: 'event_time_before_floor',
      },
      {
        key: 'k-refund',
        value: encode({ ...good('dlq-a', 'r', 1), type: 'refund' }),
        errorClass: 'refund_without_order',
      },
      {
        key: 'k-currency',
        value: encode({ ...good('dlq-a', 'o', 0), currency: 'pounds' }),
        errorClass: 'invalid_currency',
      },
      // Much older than the customer's newest event (window + lateness): refused by the state.
      { key: 'dlq-ok', value: encode(good('dlq-ok', 'ancient', -400)), errorClass: 'event_too_late' },
    ];
    await produceRaw(kafka, config.topics.orders, [
      { key: 'dlq-ok', value: valid },
      { key: 'dlq-ok', value: encode(good('dlq-ok', 'o2', 10)) },
      ...cases.map((c) => ({ key: c.key, value: c.value })),
      { key: 'dlq-ok', value: encode(good('dlq-ok', 'o3', 20)) },
    ]);
    const letters = await readDeadLetters(kafka, provisioned, config.topics.deadLetters, cases.length);
    expect(letters.map((l) => l.error_class).sort()).toEqual(cases.map((c) => c.errorClass).sort());
    for (const c of cases) {
      const letter = letters.find((l) => l.error_class === c.errorClass && l.key?.toString() === c.key);
      expect(letter, c.errorClass).toBeDefined();
      expect(letter?.reason.length).toBeGreaterThan(10);
      expect(letter?.value === null ? null : Buffer.from(letter?.value ?? []).toString('hex')).toBe(
        c.value === null ? null : c.value.toString('hex'),
      );
    }
    // The good customer's three orders were applied around the bad records.
    const address = service.http.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const body = (await (await fetch(`http://127.0.0.1:${port}/customers/dlq-ok`)).json()) as {
      features: Record<string, number>;
    };
    expect(body.features['lifetime_orders']).toBe(3);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/churnstream_dead_letters_total\{reason="bad_magic_byte"\} 1/);
  }, 120_000);
});
