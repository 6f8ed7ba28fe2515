// Hostile input: 10,000 seeded bad payloads (random bytes, wrong magic, truncated or
// padded Avro, unknown schema ids, huge and control-character ids, NaN/inf/negative
// amounts, absurd dates, ...) mixed into real customer traffic, through the real stack.
// The scorer keeps running; every bad payload is in the dead-letter topic with its
// expected error class, a reason and its original bytes; the good events give exactly
// the state and risk changes the pure core computes from them alone.

import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { toOrderEventRecord } from '../../src/adapters/registry/order-event-codec.js';
import { createLogger } from '../../src/app/logger.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { type HostilePayload, hostilePayloads } from '../helpers/hostile.js';
import {
  compareStreamWithCore,
  expectStreamEqualsCore,
  produceRaw,
  readDeadLetters,
  scorerConfig,
} from '../helpers/scorer.js';

const HOSTILE = Number(process.env['HOSTILE_PAYLOADS'] ?? 10_000);
const modelsDir = new URL('../../models/', import.meta.url).pathname;
const config = scorerConfig('hostile', { CHURNSTREAM_MODELS_DIR: modelsDir });
const history = generateDemoHistory({ seed: 33, customers: 300, start: Date.UTC(2024, 0, 1), days: 400 });

let kafka: Kafka;
let provisioned: Provisioned;
let service: Service;
let redis: Redis;
let hostile: HostilePayload[];

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  redis = new Redis(config.redisUrl);
  const { registry, schemas } = provisioned;
  const encode = (event: OrderEvent) => registry.encode(schemas.orders, toOrderEventRecord(event));
  hostile = hostilePayloads(HOSTILE, 2026, encode, 5_000_000);
  // Interleave: good events keep their order; a hostile payload after every few of them.
  const good = history.map((event) => ({ key: event.customerId, value: encode(event) }));
  const mixed: { key: string; value: Buffer | null }[] = [];
  const ratio = Math.max(1, Math.ceil(hostile.length / good.length));
  let h = 0;
  for (const message of good) {
    mixed.push(message);
    for (let k = 0; k < ratio && h < hostile.length; k += 1, h += 1) {
      const payload = hostile[h] as HostilePayload;
      mixed.push({ key: payload.key, value: payload.value });
    }
  }
  for (; h < hostile.length; h += 1) mixed.push(hostile[h] as HostilePayload);
  service = await startService(config, createLogger('silent'));
  for (let i = 0; i < mixed.length; i += 1000) await produceRaw(kafka, config.topics.orders, mixed.slice(i, i + 1000));
}, 180_000);

afterAll(async () => {
  await service?.stop();
  await redis?.quit();
});

describe(`hostile input (${HOSTILE} bad payloads mixed with real traffic)`, () => {
  it('dead-letters every bad payload with its error class, reason and bytes, and processes every good event exactly', async () => {
    const { registry, schemas } = provisioned;
    const letters = await readDeadLetters(kafka, provisioned, config.topics.deadLetters, hostile.length, 150_000);
    const byKey = new Map(letters.map((l) => [l.key?.toString() ?? '', l]));
    let wrongClass = 0;
    let wrongBytes = 0;
    let missing = 0;
    const classes = new Map<string, number>();
    for (const payload of hostile) {
      const letter = byKey.get(payload.key);
      if (letter === undefined) {
        missing += 1;
        continue;
      }
      classes.set(letter.error_class, (classes.get(letter.error_class) ?? 0) + 1);
      if (letter.error_class !== payload.expected || letter.reason.length < 10) wrongClass += 1;
      const got = letter.value === null ? null : Buffer.from(letter.value);
      if (!(got === null ? payload.value === null : payload.value !== null && got.equals(payload.value)))
        wrongBytes += 1;
    }
    const outcome = await compareStreamWithCore({
      kafka,
      config,
      registry,
      riskSchema: schemas.riskChanges,
      redis,
      history,
      models: new ModelRegistry(modelsDir).loadDefaults(),
      timeoutMs: 120_000,
    });
    console.log(
      `hostile input: ${hostile.length} bad payloads in ${classes.size} classes, ${letters.length} dead letters (${missing} missing, ${wrongClass} wrong class, ${wrongBytes} wrong bytes); ${history.length} good events, ${outcome.expectedRecords} risk changes (${outcome.missing} missing, ${outcome.unexpected} unexpected), ${outcome.stateDifferences} state differences`,
    );
    expect({ missing, wrongClass, wrongBytes, deadLetters: letters.length }).toEqual({
      missing: 0,
      wrongClass: 0,
      wrongBytes: 0,
      deadLetters: hostile.length,
    });
    expect(classes.size).toBeGreaterThanOrEqual(15);
    expectStreamEqualsCore(outcome);
    // Still alive and serving.
    const address = service.http.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 300_000);
});
