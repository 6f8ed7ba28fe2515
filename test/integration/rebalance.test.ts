// Scale-out and rebalances: a second and a third scorer process join the group mid-
// stream and one leaves; partitions move between them (state and timers follow through
// Redis). At the end: exact state, every expected risk-change event, duplicates only
// with identical ids.
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import { compareStreamWithCore, expectStreamEqualsCore, produceEvents } from '../helpers/scorer.js';
import { configOf, exited, processEnv, startScorer, waitForProgress } from '../helpers/scorer-process.js';

const env = processEnv('rebalance');
const config = configOf(env);
const modelsDir = env['CHURNSTREAM_MODELS_DIR'] ?? '';
const history = generateDemoHistory({ seed: 13, customers: 800, start: Date.UTC(2024, 0, 1), days: 500 });

let kafka: Kafka;
let provisioned: Provisioned;
let redis: Redis;
const children: ChildProcess[] = [];

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  redis = new Redis(config.redisUrl);
  await produceEvents(kafka, config.topics.orders, provisioned.registry, provisioned.schemas.orders, history);
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await redis?.quit();
});

describe('rebalances (processes joining and leaving mid-stream)', () => {
  it('keeps state exact and loses no risk-change event', async () => {
    const a = startScorer(env);
    children.push(a);
    const progress: number[] = [];
    progress.push(await waitForProgress(kafka, config, 0.25 * history.length));
    const b = startScorer(env);
    children.push(b);
    progress.push(await waitForProgress(kafka, config, 0.5 * history.length));
    const c = startScorer(env);
    children.push(c);
    progress.push(await waitForProgress(kafka, config, 0.7 * history.length));
    b.kill('SIGTERM'); // graceful leave: finishes its batch, commits, leaves the group
    await exited(b);
    expect(progress.every((p) => p < history.length)).toBe(true);

    const outcome = await compareStreamWithCore({
      kafka,
      config,
      registry: provisioned.registry,
      riskSchema: provisioned.schemas.riskChanges,
      redis,
      history,
      models: new ModelRegistry(modelsDir).loadDefaults(),
      timeoutMs: 150_000,
    });
    console.log(
      `rebalance test: ${history.length} events, ${outcome.expectedRecords} risk changes, ${outcome.duplicates} duplicates; joins at ${progress.join(', ')}`,
    );
    expectStreamEqualsCore(outcome);
    expect(outcome.expectedRecords).toBeGreaterThan(1000);
    for (const child of [a, c]) child.kill('SIGTERM');
    await Promise.all([exited(a), exited(c)]);
  }, 300_000);
});
