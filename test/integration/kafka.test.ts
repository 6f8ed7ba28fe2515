// The real broker: Avro order events produced keyed by customer, consumed by a
// consumer group that commits, stops, and resumes from its committed offsets.
import type { Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdempotentProducer, createKafka } from '../../src/adapters/kafka/client.js';
import { groupLag } from '../../src/adapters/kafka/group-lag.js';
import { Publisher } from '../../src/adapters/kafka/publisher.js';
import {
  fromOrderEventRecord,
  type OrderEventRecord,
  toOrderEventRecord,
} from '../../src/adapters/registry/order-event-codec.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { testConfig } from '../helpers/stack.js';

const config = testConfig('kafka');
const history = generateDemoHistory({ seed: 11, customers: 40, start: Date.UTC(2024, 0, 1), days: 200 });
const firstHalf = history.slice(0, Math.floor(history.length / 2));
const secondHalf = history.slice(firstHalf.length);

let kafka: Kafka;
let provisioned: Provisioned;

async function produce(events: readonly OrderEvent[]): Promise<void> {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  await producer.send({
    topic: config.topics.orders,
    acks: -1,
    messages: events.map((event) => ({
      key: event.customerId,
      value: provisioned.registry.encode(provisioned.schemas.orders, toOrderEventRecord(event)),
    })),
  });
  await producer.disconnect();
}

/** Runs a group member until `count` records arrived, commits, and leaves the group. */
async function consume(count: number): Promise<{ events: OrderEvent[]; partitionsOf: Map<string, Set<number>> }> {
  const consumer: Consumer = kafka.consumer({
    groupId: config.groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  const events: OrderEvent[] = [];
  const partitionsOf = new Map<string, Set<number>>();
  await consumer.connect();
  await consumer.subscribe({ topic: config.topics.orders, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          for (const message of batch.messages) {
            if (events.length >= count) break;
            const decoded = await provisioned.registry.decode<OrderEventRecord>(
              message.value,
              provisioned.schemas.orders,
            );
            if (!decoded.ok) throw new Error(decoded.reason);
            const event = fromOrderEventRecord(decoded.value);
            expect(message.key?.toString()).toBe(event.customerId);
            events.push(event);
            partitionsOf.set(event.customerId, (partitionsOf.get(event.customerId) ?? new Set()).add(batch.partition));
            resolveOffset(message.offset);
            await consumer.commitOffsets([
              { topic: batch.topic, partition: batch.partition, offset: String(BigInt(message.offset) + 1n) },
            ]);
          }
          if (events.length >= count) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { events, partitionsOf };
}

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
});

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(config.topics) }).catch(() => undefined);
  await admin.disconnect();
});

describe('kafka (real broker)', () => {
  it('creates the topics with the configured partitions', () => {
    expect(provisioned.partitions.get(config.topics.orders)).toBe(3);
    expect(provisioned.partitions.get(config.topics.deadLetters)).toBe(1);
  });

  it('consumes Avro events through a group and resumes from committed offsets after a restart', async () => {
    await produce(firstHalf);
    const first = await consume(firstHalf.length);
    const key = (event: OrderEvent) => `${event.customerId}/${event.orderId}`;
    expect(first.events.map(key).sort()).toEqual(firstHalf.map(key).sort());
    // Keyed by customer: one customer's events all live in one partition, in order.
    for (const partitions of first.partitionsOf.values()) expect(partitions.size).toBe(1);

    await produce(secondHalf);
    const second = await consume(secondHalf.length);
    // The restarted member sees only what was produced after the commit: nothing twice.
    expect(second.events.map(key).sort()).toEqual(secondHalf.map(key).sort());

    const admin = kafka.admin();
    await admin.connect();
    // Everything committed: no lag on any partition; an unknown group lags by everything.
    const lag = await groupLag(admin, config.groupId, config.topics.orders);
    expect(lag.size).toBe(provisioned.partitions.get(config.topics.orders));
    expect([...lag.values()].every((v) => v === 0)).toBe(true);
    const idle = await groupLag(admin, `${config.groupId}.never-consumed`, config.topics.orders);
    expect([...idle.values()].reduce((a, b) => a + b, 0)).toBe(history.length);
    const committed = await admin.fetchOffsets({ groupId: config.groupId, topics: [config.topics.orders] });
    const ends = await admin.fetchTopicOffsets(config.topics.orders);
    await admin.disconnect();
    const committedTotal = committed[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    const endTotal = ends.reduce((sum, p) => sum + Number(p.high), 0);
    expect(committedTotal).toBe(history.length);
    expect(endTotal).toBe(history.length);
  });

  it('publishes more than the broker takes in one request, in bounded requests, in order', async () => {
    const publisher = new Publisher(kafka);
    await publisher.connect();
    const value = Buffer.alloc(2048, 7);
    // 3,000 x 2 KiB = 6 MiB to one partition: six times the broker's default message.max.bytes.
    const records = Array.from({ length: 3000 }, (_, i) => ({
      topic: config.topics.riskChanges,
      key: 'same-key',
      value,
      headers: { n: String(i) },
    }));
    await publisher.publish(records);
    await publisher.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(config.topics.riskChanges);
    await admin.disconnect();
    expect(ends.reduce((sum, p) => sum + Number(p.high), 0)).toBe(3000);
  });
});
