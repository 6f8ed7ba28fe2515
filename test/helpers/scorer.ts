// Shared pieces of the streaming-scorer integration tests: producing histories, reading
// the output topics back, and the expected result computed with the pure core.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { type Kafka, Partitioners } from 'kafkajs';
import { createIdempotentProducer } from '../../src/adapters/kafka/client.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import type { AvroRegistry, RegisteredValueSchema } from '../../src/adapters/registry/avro-registry.js';
import { toOrderEventRecord } from '../../src/adapters/registry/order-event-codec.js';
import type { Config } from '../../src/app/config.js';
import { type ActiveModels, activeSpec } from '../../src/app/model-registry.js';
import type { Provisioned } from '../../src/app/setup.js';
import { DEFAULT_HYSTERESIS } from '../../src/core/decisions/hysteresis.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import type { RiskChangeRecord } from '../../src/core/events/risk-change.js';
import { decodeState, encodeState } from '../../src/core/state/codec.js';
import type { CustomerState } from '../../src/core/state/customer-state.js';
import { processEvents, processTimers, scoringContextFor } from '../../src/core/step/customer-step.js';
import { testConfig } from './stack.js';

export function scorerConfig(label: string, overrides: Record<string, string> = {}): Config {
  return testConfig(label, {
    ...process.env,
    CHURNSTREAM_CLOCK: 'watermark',
    CHURNSTREAM_TIMER_INTERVAL_MS: '50',
    CHURNSTREAM_HTTP_PORT: '0',
    CHURNSTREAM_LOG_LEVEL: 'warn',
    // Unknown schema ids in these tests are garbage: wait one second for them, not ten.
    CHURNSTREAM_SCHEMA_ID_GRACE_MS: '1000',
    ...overrides,
  });
}

export const emptyModelsDir = (): string => mkdtempSync(join(tmpdir(), 'no-models-'));

export async function produceEvents(
  kafka: Kafka,
  topic: string,
  registry: AvroRegistry,
  schema: RegisteredValueSchema,
  events: readonly OrderEvent[],
) {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  for (let i = 0; i < events.length; i += 500) {
    await producer.send({
      topic,
      acks: -1,
      messages: events
        .slice(i, i + 500)
        .map((e) => ({ key: e.customerId, value: registry.encode(schema, toOrderEventRecord(e)) })),
    });
  }
  await producer.disconnect();
}

export async function produceRaw(
  kafka: Kafka,
  topic: string,
  messages: { key: string | Buffer | null; value: Buffer | null }[],
) {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

/** Reads a topic from the beginning until `done` says so (or the timeout), decoding values. */
export async function readTopic<T>(
  kafka: Kafka,
  topic: string,
  decode: (value: Buffer | null) => Promise<T>,
  done: (items: readonly T[]) => boolean,
  timeoutMs = 60_000,
): Promise<T[]> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}-${Math.random()}` });
  const items: T[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let resolveDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  await consumer.run({
    eachMessage: async ({ message }) => {
      items.push(await decode(message.value));
      if (done(items)) resolveDone();
    },
  });
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs));
  // A last settling pause catches duplicates that trail the expected count.
  await Promise.race([finished, deadline]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await consumer.disconnect();
  return items;
}

/** Partition of a key as Kafka's default (murmur2) partitioner assigns it. */
export function partitionOf(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: 't',
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      offlineReplicas: [],
      partitionErrorCode: 0,
    })),
    message: { key, value: null },
  });
}

export interface Expected {
  readonly records: RiskChangeRecord[];
  readonly states: Map<string, CustomerState>;
}

/** What the stream must produce: the pure core over each customer's events, then timers up to its partition's watermark. */
export function expectedOutput(
  events: readonly OrderEvent[],
  models: ActiveModels,
  partitions: number,
  maxStalenessMs: number,
): Expected {
  const ctx = scoringContextFor(models.churn, models.ltv, activeSpec(models), {
    hysteresis: DEFAULT_HYSTERESIS,
    maxStalenessMs,
    modelAwareTimers: true,
  });
  const byCustomer = new Map<string, OrderEvent[]>();
  const watermark = new Map<number, number>();
  for (const event of events) {
    byCustomer.set(event.customerId, [...(byCustomer.get(event.customerId) ?? []), event]);
    const p = partitionOf(event.customerId, partitions);
    watermark.set(p, Math.max(watermark.get(p) ?? 0, event.eventTime));
  }
  const records: RiskChangeRecord[] = [];
  const states = new Map<string, CustomerState>();
  for (const [customerId, list] of byCustomer) {
    const step = processEvents(
      customerId,
      null,
      list.map((event, i) => ({ event, offset: String(i) })),
      ctx,
    );
    // The stream fires timers due strictly before its partition's watermark.
    const timed = processTimers(customerId, step, (watermark.get(partitionOf(customerId, partitions)) ?? 0) - 1, ctx);
    records.push(...step.riskChanges, ...timed.riskChanges);
    states.set(customerId, timed.state);
  }
  return { records, states };
}

/** Reads the risk-change topic until `count` distinct ids arrived (or the timeout). */
export function readRiskChanges(
  kafka: Kafka,
  topic: string,
  registry: AvroRegistry,
  schema: RegisteredValueSchema,
  count: number,
  timeoutMs: number,
) {
  // Distinct ids counted as they arrive (the check runs per message: a Set rebuilt from
  // all items each time made long reads quadratic).
  const ids = new Set<string>();
  return readTopic<RiskChangeRecord>(
    kafka,
    topic,
    async (value) => {
      const decoded = await registry.decode<RiskChangeRecord>(value, schema);
      if (!decoded.ok) throw new Error(decoded.reason);
      ids.add(decoded.value.event_id);
      return decoded.value;
    },
    () => ids.size >= count,
    timeoutMs,
  );
}

/** How the published records compare with the expected ones. */
export function compareRecords(got: readonly RiskChangeRecord[], want: readonly RiskChangeRecord[]) {
  const byId = new Map(got.map((r) => [r.event_id, r]));
  const wanted = new Set(want.map((r) => r.event_id));
  return {
    byId,
    missing: want.filter((r) => !byId.has(r.event_id)).length,
    unexpected: [...byId.keys()].filter((id) => !wanted.has(id)).length,
    duplicates: got.length - byId.size,
    /** Duplicates whose content differs from the first record with that id (must be 0). */
    inconsistentDuplicates: got.filter((r) => JSON.stringify(r) !== JSON.stringify(byId.get(r.event_id))).length,
  };
}

/** Customers whose state in Redis differs from the expected state (or is absent). */
export async function stateDifferences(
  redis: Redis,
  namespace: string,
  states: ReadonlyMap<string, CustomerState>,
): Promise<number> {
  const keys = redisKeys(namespace);
  let differences = 0;
  for (const [customerId, state] of states) {
    const stored = await redis.hgetBuffer(keys.customerState(customerId), 'state');
    if (stored === null || !encodeState(decodeState(stored)).equals(encodeState(state))) differences += 1;
  }
  return differences;
}

export interface StreamOutcome {
  readonly expectedRecords: number;
  readonly missing: number;
  readonly unexpected: number;
  readonly inconsistentDuplicates: number;
  readonly duplicates: number;
  readonly stateDifferences: number;
}

/**
 * Waits for the stream's output and compares it with the pure core's result for the
 * same history: risk-change ids (missing, unexpected, duplicates and whether they are
 * identical) and every customer's state in Redis.
 */
export async function compareStreamWithCore(options: {
  readonly kafka: Kafka;
  readonly config: Config;
  readonly registry: AvroRegistry;
  readonly riskSchema: RegisteredValueSchema;
  readonly redis: Redis;
  readonly history: readonly OrderEvent[];
  readonly models: ActiveModels;
  readonly timeoutMs: number;
}): Promise<StreamOutcome> {
  const { kafka, config, registry, riskSchema, redis, history, models, timeoutMs } = options;
  const want = expectedOutput(history, models, config.partitions, config.timers.maxStalenessMs);
  const got = await readRiskChanges(
    kafka,
    config.topics.riskChanges,
    registry,
    riskSchema,
    want.records.length,
    timeoutMs,
  );
  const result = compareRecords(got, want.records);
  return {
    expectedRecords: want.records.length,
    missing: result.missing,
    unexpected: result.unexpected,
    inconsistentDuplicates: result.inconsistentDuplicates,
    duplicates: result.duplicates,
    stateDifferences: await stateDifferences(redis, config.redisNamespace, want.states),
  };
}

/**
 * The invariant "the stream equals the pure core": no expected risk change missing, none
 * unexpected, every duplicate identical to the first, every customer's state exact, and
 * something to compare (a history that gives no risk change would pass vacuously).
 * node:assert rather than vitest's expect, so the fault suite's helpers still load in
 * bench/faults.ts, outside vitest.
 */
export function expectStreamEqualsCore(outcome: StreamOutcome): void {
  const { missing, unexpected, inconsistentDuplicates, stateDifferences } = outcome;
  assert.deepEqual(
    { missing, unexpected, inconsistentDuplicates, stateDifferences },
    { missing: 0, unexpected: 0, inconsistentDuplicates: 0, stateDifferences: 0 },
    `the stream differs from the pure core: ${JSON.stringify(outcome)}`,
  );
  assert.ok(outcome.expectedRecords > 0, 'the pure core expects no risk change: nothing was compared');
}

export interface DeadLetterRecord {
  dead_letter_id: string;
  source_offset: number;
  key: Buffer | null;
  value: Buffer | null;
  error_class: string;
  reason: string;
  truncated: boolean;
}

/** The dead-letter topic, decoded, once it holds at least `count` records (or the timeout). */
export function readDeadLetters(
  kafka: Kafka,
  provisioned: Provisioned,
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<DeadLetterRecord[]> {
  const { registry, schemas } = provisioned;
  return readTopic<DeadLetterRecord>(
    kafka,
    topic,
    async (value) => {
      const decoded = await registry.decode<DeadLetterRecord>(value, schemas.deadLetters);
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.value;
    },
    (items) => items.length >= count,
    timeoutMs,
  );
}
