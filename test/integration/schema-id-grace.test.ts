// CHURNSTREAM_SCHEMA_ID_GRACE_MS: a writer schema id the registry does not serve yet is
// waited for (transient) within the grace period, and is poison after it.
//  - grace 20 s: events carrying an id that the registry gets a few seconds later (the id
//    is reserved ahead: registered in IMPORT mode under a throw-away subject, the
//    Confluent way of registering a schema with a given id) are applied, not dead-lettered.
//  - grace 1 s: a record with an id that is never registered is dead-lettered as
//    unknown_schema_id about one grace period after it was produced, and the events
//    after it are applied.
// The scorer runs in-process (startService); everything else is the real stack.

import avro from 'avsc';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSchemaText } from '../../src/adapters/files/schemas.js';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { toOrderEventRecord } from '../../src/adapters/registry/order-event-codec.js';
import { writeWireFormat } from '../../src/adapters/registry/wire-format.js';
import { createLogger } from '../../src/app/logger.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { DAY_MS } from '../../src/core/time.js';
import { compareStreamWithCore, partitionOf, scorerConfig } from '../helpers/scorer.js';
import { uniqueSuffix } from '../helpers/stack.js';
import {
  type FullDeadLetter,
  httpGet,
  millis,
  produceTracked,
  readFullDeadLetters,
  registryCall,
  sleep,
  topicEnd,
  waitFor,
} from '../helpers/stack-control.js';

const PARTITIONS = 3;
const modelsDir = new URL('../../models/', import.meta.url).pathname;
const models = () => new ModelRegistry(modelsDir).loadDefaults();
const portOf = (service: Service) => {
  const address = service.http.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
};

/** The order-event schema with one more optional field named uniquely, so its id is a new one. */
function orderSchemaVariant(): { text: string; type: avro.Type; field: string } {
  const field = `promo_${uniqueSuffix().replaceAll('-', '_')}`;
  const schema = JSON.parse(readSchemaText('orderEvent')) as { fields: unknown[] };
  schema.fields.push({ name: field, type: ['null', 'string'], default: null });
  const text = JSON.stringify(schema);
  return { text, type: avro.Type.forSchema(JSON.parse(text) as avro.Schema), field };
}

const message = (key: string, value: Buffer) => ({ key, value, partition: partitionOf(key, PARTITIONS) });

describe('an id registered within the grace period (CHURNSTREAM_SCHEMA_ID_GRACE_MS=20000)', () => {
  const GRACE_MS = 20_000;
  const REGISTER_AFTER_MS = 5000;
  const config = scorerConfig('grace-wait', {
    CHURNSTREAM_SCHEMA_ID_GRACE_MS: String(GRACE_MS),
    CHURNSTREAM_MODELS_DIR: modelsDir,
    CHURNSTREAM_PARTITIONS: String(PARTITIONS),
  });
  const history = generateDemoHistory({ seed: 52, customers: 120, start: Date.UTC(2024, 0, 1), days: 300 });
  const [a, b] = [Math.floor(history.length / 3), Math.floor((2 * history.length) / 3)];
  let kafka: Kafka;
  let provisioned: Provisioned;
  let service: Service;
  let redis: Redis;
  let futureId = 0;
  let waitedFor: { waiting_for?: Record<string, string> } | undefined;
  let registeredAfterMs = 0;

  beforeAll(async () => {
    kafka = createKafka(config.kafka);
    provisioned = await provision(config);
    redis = new Redis(config.redisUrl);
    service = await startService(config, createLogger(process.env['TEST_LOG'] ?? 'silent'));
    const url = config.schemaRegistryUrl;
    const suffix = `${config.topics.orders}.${uniqueSuffix()}`;
    // The newest id now; the id registered later is a little above it, unused until then.
    const probe = orderSchemaVariant();
    const { id: newest } = await registryCall<{ id: number }>(
      url,
      `/subjects/${encodeURIComponent(`${suffix}.probe-value`)}/versions`,
      'POST',
      { schema: probe.text },
    );
    futureId = newest + 20;
    await expect(registryCall(url, `/schemas/ids/${futureId}`, 'GET')).rejects.toThrow(/404/);

    const variant = orderSchemaVariant();
    const { registry, schemas } = provisioned;
    const ours = (e: OrderEvent) => message(e.customerId, registry.encode(schemas.orders, toOrderEventRecord(e)));
    const future = (e: OrderEvent) =>
      message(
        e.customerId,
        writeWireFormat(futureId, variant.type.toBuffer({ ...toOrderEventRecord(e), [variant.field]: 'spring' })),
      );
    await produceTracked(kafka, config.topics.orders, history.slice(0, a).map(ours));
    const producedAt = Date.now();
    await produceTracked(kafka, config.topics.orders, [
      ...history.slice(a, b).map(future),
      ...history.slice(b).map(ours),
    ]);
    // The scorer meets the id and waits for it.
    waitedFor = await waitFor(async () => {
      const answer = await httpGet(portOf(service), '/readyz', 3000);
      const body = JSON.parse(answer.text) as { waiting_for?: Record<string, string> };
      return body.waiting_for?.['registry'] !== undefined ? body : undefined;
    }, 10_000);
    await sleep(Math.max(0, REGISTER_AFTER_MS - (Date.now() - producedAt)));
    const subject = encodeURIComponent(`${suffix}.future-value`);
    await registryCall(url, `/mode/${subject}`, 'PUT', { mode: 'IMPORT' });
    const registered = await registryCall<{ id: number }>(url, `/subjects/${subject}/versions`, 'POST', {
      schema: variant.text,
      schemaType: 'AVRO',
      id: futureId,
    });
    expect(registered.id).toBe(futureId);
    registeredAfterMs = Date.now() - producedAt;
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await redis?.quit();
  });

  it('waits for the id (readiness names the registry) instead of dead-lettering', () => {
    expect(waitedFor?.waiting_for?.['registry']).toBeDefined();
    expect(registeredAfterMs).toBeGreaterThanOrEqual(REGISTER_AFTER_MS);
    expect(registeredAfterMs).toBeLessThan(GRACE_MS - 5000);
  });

  it('applies the events once the id is registered (stream equals core), with no dead letter', async () => {
    const outcome = await compareStreamWithCore({
      kafka,
      config,
      registry: provisioned.registry,
      riskSchema: provisioned.schemas.riskChanges,
      redis,
      history,
      models: models(),
      timeoutMs: 60_000,
    });
    const deadLetters = await topicEnd(kafka, config.topics.deadLetters);
    console.log(
      `schema-id grace: ${b - a} events with id ${futureId}, registered ${registeredAfterMs} ms after they were produced; ${outcome.expectedRecords} risk changes, ${outcome.missing} missing, ${outcome.unexpected} unexpected, ${outcome.stateDifferences} state differences; ${deadLetters} dead letters`,
    );
    expect(outcome).toMatchObject({ missing: 0, unexpected: 0, inconsistentDuplicates: 0, stateDifferences: 0 });
    expect(deadLetters).toBe(0);
  }, 90_000);
});

describe('an id never registered (CHURNSTREAM_SCHEMA_ID_GRACE_MS=1000)', () => {
  const GRACE_MS = 1000;
  const config = scorerConfig('grace-expire', {
    CHURNSTREAM_SCHEMA_ID_GRACE_MS: String(GRACE_MS),
    CHURNSTREAM_MODELS_DIR: modelsDir,
    CHURNSTREAM_PARTITIONS: String(PARTITIONS),
  });
  const history = generateDemoHistory({ seed: 53, customers: 120, start: Date.UTC(2024, 0, 1), days: 300 });
  const half = Math.floor(history.length / 2);
  // Far above any id the registry hands out, and outside the ranges other tests use as unknown.
  const neverId = 1_900_000_000 + Math.floor(Math.random() * 100_000_000);
  const orphan: OrderEvent = {
    customerId: 'grace-orphan',
    orderId: 'grace-orphan-1',
    eventTime: Date.UTC(2024, 5, 1) + DAY_MS,
    type: 'order',
    amount: 10,
    currency: 'GBP',
    itemCount: 1,
    originalOrderId: null,
  };
  let kafka: Kafka;
  let provisioned: Provisioned;
  let service: Service;
  let redis: Redis;
  let orphanAt: { partition: number; offset: number } | undefined;
  let letters: FullDeadLetter[] = [];

  beforeAll(async () => {
    kafka = createKafka(config.kafka);
    provisioned = await provision(config);
    redis = new Redis(config.redisUrl);
    service = await startService(config, createLogger(process.env['TEST_LOG'] ?? 'silent'));
    await expect(registryCall(config.schemaRegistryUrl, `/schemas/ids/${neverId}`, 'GET')).rejects.toThrow(/404/);
    const { registry, schemas } = provisioned;
    const ours = (e: OrderEvent) => message(e.customerId, registry.encode(schemas.orders, toOrderEventRecord(e)));
    const bad = message(
      orphan.customerId,
      writeWireFormat(neverId, schemas.orders.type.toBuffer(toOrderEventRecord(orphan))),
    );
    const placed = await produceTracked(kafka, config.topics.orders, [
      ...history.slice(0, half).map(ours),
      bad,
      ...history.slice(half).map(ours),
    ]);
    orphanAt = placed[half];
    letters = await readFullDeadLetters(kafka, provisioned, config.topics.deadLetters, 1, 30_000);
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await redis?.quit();
  });

  it('dead-letters the record as unknown_schema_id about one grace period after it was produced', () => {
    expect(letters).toHaveLength(1);
    const letter = letters[0] as FullDeadLetter;
    expect(letter.error_class).toBe('unknown_schema_id');
    expect(letter.reason).toContain(String(neverId));
    expect(letter.dead_letter_id).toBe(`${config.topics.orders}/${orphanAt?.partition}/${orphanAt?.offset}`);
    // failed_at - the record's timestamp: at least the grace (the wait starts when the scorer
    // first meets the id, after it was produced), and not much more (backoff, fetch).
    const after = millis(letter.failed_at) - millis(letter.source_timestamp);
    console.log(`schema-id grace ${GRACE_MS} ms: id ${neverId} dead-lettered ${after} ms after it was produced`);
    expect(after).toBeGreaterThanOrEqual(GRACE_MS);
    expect(after).toBeLessThan(GRACE_MS + 5000);
  });

  it('continues: the events after it are applied (stream equals core) and nothing else is dead-lettered', async () => {
    const outcome = await compareStreamWithCore({
      kafka,
      config,
      registry: provisioned.registry,
      riskSchema: provisioned.schemas.riskChanges,
      redis,
      history,
      models: models(),
      timeoutMs: 60_000,
    });
    expect(outcome).toMatchObject({ missing: 0, unexpected: 0, inconsistentDuplicates: 0, stateDifferences: 0 });
    expect(await topicEnd(kafka, config.topics.deadLetters)).toBe(1);
    expect((await httpGet(portOf(service), '/healthz')).status).toBe(200);
  }, 90_000);
});
