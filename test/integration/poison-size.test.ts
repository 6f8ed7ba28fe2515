// Oversized poison: a record of 0x09 + ~1 MiB random bytes and one with a valid-looking
// wire header (our orders schema id) and ~1 MiB of random body, in the middle of real
// traffic, consumed by `churnstream run` as its own process. The orders topic takes
// records up to 4 MiB, the dead-letter topic keeps the broker default (~1 MiB), so
// neither dead letter fits whole: each is cut to fit and marked truncated, with the
// original's size, SHA-256 and source offset. The scorer stays up and applies the good
// events produced after them exactly as the pure core does.
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { toOrderEventRecord } from '../../src/adapters/registry/order-event-codec.js';
import { writeWireFormat } from '../../src/adapters/registry/wire-format.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import { compareStreamWithCore, partitionOf } from '../helpers/scorer.js';
import { configOf, processEnv, waitForProgress } from '../helpers/scorer-process.js';
import {
  createTopic,
  type FullDeadLetter,
  freePort,
  httpGet,
  millis,
  produceTracked,
  readFullDeadLetters,
  type ScorerChild,
  spawnScorer,
  topicEnd,
  waitUntilReady,
} from '../helpers/stack-control.js';

const PARTITIONS = 3;
const BODY_BYTES = 1_100_000; // past the dead-letter topic's ~1 MiB limit
const env: Record<string, string> = { ...processEnv('poison-size'), CHURNSTREAM_PARTITIONS: String(PARTITIONS) };
const config = configOf(env);
const modelsDir = env['CHURNSTREAM_MODELS_DIR'] ?? '';
const history = generateDemoHistory({ seed: 77, customers: 150, start: Date.UTC(2024, 0, 1), days: 300 });
const half = Math.floor(history.length / 2);

let kafka: Kafka;
let provisioned: Provisioned;
let redis: Redis;
let scorer: ScorerChild;
const poison: { key: string; value: Buffer; partition: number; offset: number; expectedClass: string }[] = [];

beforeAll(async () => {
  env['CHURNSTREAM_HTTP_PORT'] = String(await freePort());
  kafka = createKafka(config.kafka);
  // The orders topic accepts records of up to 4 MiB; the dead-letter topic keeps Kafka's default.
  await createTopic(kafka, config.topics.orders, PARTITIONS, { 'max.message.bytes': String(4 * 1024 * 1024) });
  provisioned = await provision(config);
  redis = new Redis(config.redisUrl);
  scorer = spawnScorer(env);
  expect(await waitUntilReady(scorer)).toBe(true);

  const { registry, schemas } = provisioned;
  const good = (from: number, to: number) =>
    history.slice(from, to).map((e) => ({
      key: e.customerId,
      value: registry.encode(schemas.orders, toOrderEventRecord(e)),
      partition: partitionOf(e.customerId, PARTITIONS),
    }));
  const wrongMagic = Buffer.concat([Buffer.from([0x09]), randomBytes(BODY_BYTES)]);
  const validHeader = writeWireFormat(schemas.orders.id, randomBytes(BODY_BYTES));
  const bad = [
    { key: 'poison-magic', value: wrongMagic, expectedClass: 'bad_magic_byte' },
    { key: 'poison-avro', value: validHeader, expectedClass: 'undecodable_avro' },
  ].map((p) => ({ ...p, partition: partitionOf(p.key, PARTITIONS) }));
  await produceTracked(kafka, config.topics.orders, good(0, half));
  const placed = await produceTracked(kafka, config.topics.orders, bad, 1);
  for (const [i, p] of bad.entries()) poison.push({ ...p, offset: placed[i]?.offset ?? -1 });
  await produceTracked(kafka, config.topics.orders, good(half, history.length));
}, 120_000);

afterAll(async () => {
  await scorer?.stop();
  await redis?.quit();
});

describe('poison records larger than the dead-letter topic allows (scorer process)', () => {
  it('keeps the scorer running: the process is alive and /healthz answers 200', async () => {
    // Everything produced has been consumed and committed (the poison did not stall a partition).
    const committed = await waitForProgress(kafka, config, history.length + poison.length, 90_000);
    expect(committed).toBe(history.length + poison.length);
    expect(scorer.exited()).toBe(false);
    expect((await httpGet(scorer.port, '/healthz')).status).toBe(200);
  }, 120_000);

  it('dead-letters both records, truncated to fit, with the original size, SHA-256 and source offset', async () => {
    const letters = await readFullDeadLetters(kafka, provisioned, config.topics.deadLetters, poison.length, 60_000);
    const byId = new Map<string, FullDeadLetter>(letters.map((l) => [l.dead_letter_id, l]));
    // Exactly these two records were dead-lettered (repeats of one id would be redeliveries).
    expect([...byId.keys()].sort()).toEqual(
      poison.map((p) => `${config.topics.orders}/${p.partition}/${p.offset}`).sort(),
    );
    const end = await topicEnd(kafka, config.topics.deadLetters);
    for (const p of poison) {
      const letter = byId.get(`${config.topics.orders}/${p.partition}/${p.offset}`) as FullDeadLetter;
      expect(letter.error_class, p.key).toBe(p.expectedClass);
      expect(letter.truncated, p.key).toBe(true);
      expect(letter.original_value_size, p.key).toBe(p.value.length);
      expect(letter.original_value_sha256, p.key).toBe(createHash('sha256').update(p.value).digest('hex'));
      expect(letter.source_topic).toBe(config.topics.orders);
      expect(letter.source_partition).toBe(p.partition);
      expect(letter.source_offset).toBe(p.offset);
      expect(letter.key?.toString()).toBe(p.key);
      // What is kept is a prefix of the original, and the whole letter fits the topic's default limit.
      const kept = Buffer.from(letter.value ?? []);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThan(p.value.length);
      expect(kept.equals(p.value.subarray(0, kept.length))).toBe(true);
      expect(letter.storedBytes).toBeLessThanOrEqual(1_048_588);
      expect(letter.reason.length).toBeGreaterThan(10);
      expect(millis(letter.failed_at)).toBeGreaterThan(0);
    }
    console.log(
      `poison-size: dead letters ${letters.length} (topic end ${end}); kept ${letters.map((l) => `${l.error_class}=${l.value?.length ?? 0}/${l.original_value_size} bytes`).join(', ')}`,
    );
    expect(end).toBe(poison.length);
  }, 90_000);

  it('applies the good events produced before and after them exactly as the pure core does', async () => {
    const outcome = await compareStreamWithCore({
      kafka,
      config,
      registry: provisioned.registry,
      riskSchema: provisioned.schemas.riskChanges,
      redis,
      history,
      models: new ModelRegistry(modelsDir).loadDefaults(),
      timeoutMs: 90_000,
    });
    console.log(
      `poison-size: ${history.length} good events, ${outcome.expectedRecords} risk changes, ${outcome.missing} missing, ${outcome.unexpected} unexpected, ${outcome.stateDifferences} state differences`,
    );
    expect(outcome.expectedRecords).toBeGreaterThan(50);
    expect(outcome).toMatchObject({ missing: 0, unexpected: 0, inconsistentDuplicates: 0, stateDifferences: 0 });
    expect(scorer.exited()).toBe(false);
  }, 120_000);
});

// Dead letters that each fit the dead-letter topic's limit but not together: three records
// of ~30 KB each in one batch, with a 64 KiB dead-letter topic. Each dead letter must be
// published (whole, since each fits), and the partition must move on.
describe('several dead letters that each fit a 64 KiB dead-letter topic, but not together (scorer process)', () => {
  const LIMIT = 64 * 1024;
  const env2: Record<string, string> = { ...processEnv('poison-together'), CHURNSTREAM_PARTITIONS: String(PARTITIONS) };
  const config2 = configOf(env2);
  const events = generateDemoHistory({ seed: 78, customers: 60, start: Date.UTC(2024, 0, 1), days: 200 });
  const mid = Math.floor(events.length / 2);
  const kafka2 = createKafka(config2.kafka);
  let provisioned2: Provisioned;
  let scorer2: ScorerChild;
  let redis2: Redis;
  const bad = Array.from({ length: 3 }, (_, i) => ({
    key: `poison-together-${i}`,
    value: Buffer.concat([Buffer.from([0x09]), randomBytes(30_000)]),
    partition: 0,
  }));
  let badOffsets: number[] = [];

  beforeAll(async () => {
    env2['CHURNSTREAM_HTTP_PORT'] = String(await freePort());
    await createTopic(kafka2, config2.topics.deadLetters, 1, {
      'max.message.bytes': String(LIMIT),
      'retention.ms': '-1',
    });
    provisioned2 = await provision(config2);
    redis2 = new Redis(config2.redisUrl);
    scorer2 = spawnScorer(env2);
    expect(await waitUntilReady(scorer2)).toBe(true);
    const { registry, schemas } = provisioned2;
    const good = (from: number, to: number) =>
      events.slice(from, to).map((e) => ({
        key: e.customerId,
        value: registry.encode(schemas.orders, toOrderEventRecord(e)),
        partition: partitionOf(e.customerId, PARTITIONS),
      }));
    await produceTracked(kafka2, config2.topics.orders, good(0, mid));
    // One request: the three records are one record batch of partition 0, so one unit.
    badOffsets = (await produceTracked(kafka2, config2.topics.orders, bad)).map((p) => p.offset);
    await produceTracked(kafka2, config2.topics.orders, good(mid, events.length));
  }, 120_000);

  afterAll(async () => {
    await scorer2?.stop();
    await redis2?.quit();
  });

  it('dead-letters all three, whole, and consumes everything after them', async () => {
    const committed = await waitForProgress(kafka2, config2, events.length + bad.length, 45_000);
    const letters = await readFullDeadLetters(kafka2, provisioned2, config2.topics.deadLetters, bad.length, 10_000);
    const answer = await httpGet(scorer2.port, '/readyz');
    console.log(
      `poison-together: committed ${committed} of ${events.length + bad.length}, ${letters.length} dead letters; /readyz ${answer.status} ${answer.text}`,
    );
    expect(scorer2.exited()).toBe(false);
    expect(letters.map((l) => l.dead_letter_id).sort()).toEqual(
      badOffsets.map((offset) => `${config2.topics.orders}/0/${offset}`).sort(),
    );
    for (const letter of letters) {
      expect(letter.truncated).toBe(false);
      expect(letter.error_class).toBe('bad_magic_byte');
    }
    expect(committed).toBe(events.length + bad.length);
  }, 90_000);

  it('applies the good events around them exactly as the pure core does', async () => {
    const outcome = await compareStreamWithCore({
      kafka: kafka2,
      config: config2,
      registry: provisioned2.registry,
      riskSchema: provisioned2.schemas.riskChanges,
      redis: redis2,
      history: events,
      models: new ModelRegistry(modelsDir).loadDefaults(),
      timeoutMs: 30_000,
    });
    expect(outcome).toMatchObject({ missing: 0, unexpected: 0, inconsistentDuplicates: 0, stateDifferences: 0 });
  }, 60_000);
});
