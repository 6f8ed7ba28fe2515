// A member busy with a unit (here: waiting out a dependency, heartbeating) when another
// member joins: the heartbeat's rebalance answer must end the unit at once (isActive false,
// the unit let go and not committed), so the group rebalances in seconds, and the let-go
// records reach whoever owns their partition next. Before this, the waiting unit kept its
// partitions' batch, the rebalance stalled and the member retried without end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdempotentProducer, createKafka, ensureTopics } from '../../src/adapters/kafka/client.js';
import { KafkaConnection } from '../../src/adapters/kafka/connection.js';
import { generationOver, type RunningConsumer } from '../../src/adapters/kafka/consumer.js';
import { testConfig } from '../helpers/stack.js';

const config = testConfig('generation');
const topic = config.topics.orders;
const RECORDS = 60;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const running: RunningConsumer[] = [];

beforeAll(async () => {
  const kafka = createKafka(config.kafka);
  await ensureTopics(kafka, [{ topic, partitions: 2 }]);
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
  });
  await producer.disconnect();
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((consumer) => consumer.stop().catch(() => undefined)));
});

describe('consumer group generation (real broker)', () => {
  it('lets a waiting unit go as soon as a rebalance starts, commits none of it, and redelivers it', async () => {
    const connection = new KafkaConnection(config.kafka);
    const applied: string[] = [];
    let held: { partition: number; values: string[] } | null = null;
    let letGoAt: number | null = null;
    let gotFirst = (): void => undefined;
    const firstBatch = new Promise<void>((resolve) => {
      gotFirst = resolve;
    });
    const base = { groupId: config.groupId, topic, fromBeginning: true, sessionTimeoutMs: 10_000, commitIntervalMs: 0 };

    running.push(
      await connection.consume({
        ...base,
        handle: async (batch, control) => {
          if (held === null) {
            held = { partition: batch.partition, values: batch.records.map((r) => String(r.value)) };
            gotFirst();
            // A dependency that does not come back: wait and heartbeat until the consumer lets go.
            while (control.isActive()) {
              await sleep(200);
              await control.heartbeat().catch(() => undefined);
            }
            letGoAt = Date.now();
            return 'let_go';
          }
          applied.push(...batch.records.map((r) => String(r.value)));
          return 'applied';
        },
      }),
    );
    await firstBatch;
    const joinedAt = Date.now();
    running.push(
      await connection.consume({
        ...base,
        handle: async (batch) => {
          applied.push(...batch.records.map((r) => String(r.value)));
          return 'applied';
        },
      }),
    );
    // The rebalance needed the waiting member: it completed because the unit was let go.
    expect(letGoAt).not.toBeNull();
    expect((letGoAt ?? Number.POSITIVE_INFINITY) - joinedAt).toBeLessThan(10_000);

    const deadline = Date.now() + 60_000;
    while (new Set(applied).size < RECORDS && Date.now() < deadline) await sleep(200);
    const expected = Array.from({ length: RECORDS }, (_, i) => `v${i}`);
    expect([...new Set(applied)].sort()).toEqual(expected.sort());
    // The let-go batch was not committed by the member that let it go: its records were applied afterwards.
    const heldValues = (held as { values: string[] } | null)?.values ?? [];
    expect(heldValues.length).toBeGreaterThan(0);
    for (const value of heldValues) expect(applied).toContain(value);
  }, 120_000);
});

describe('generationOver', () => {
  it('names the heartbeat answers that end a generation, and nothing else', () => {
    for (const type of ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID'])
      expect(generationOver({ type })).toBe(true);
    for (const error of [new Error('REBALANCE_IN_PROGRESS'), { type: 'REQUEST_TIMED_OUT' }, null, 'x', undefined])
      expect(generationOver(error)).toBe(false);
  });
});
