// Exactly-once in effect across crashes: the scorer process is killed with SIGKILL at
// random points of a replay and restarted; at the end, Redis holds exactly the state a
// batch recomputation gives, every expected risk-change event was published, and any
// duplicate repeats an id with identical content.
import type { ChildProcess } from 'node:child_process';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import { compareStreamWithCore, expectStreamEqualsCore, produceEvents } from '../helpers/scorer.js';
import {
  committedOffsets,
  configOf,
  exited,
  processEnv,
  startScorer,
  waitForProgress,
} from '../helpers/scorer-process.js';

const env: Record<string, string> = { ...processEnv('crash'), CHURNSTREAM_PARTITIONS: '3' };
// The child processes read exactly this environment: the test uses the same config.
const config = configOf(env);
const modelsDir = env['CHURNSTREAM_MODELS_DIR'] ?? '';
const history = generateDemoHistory({ seed: 9, customers: 700, start: Date.UTC(2024, 0, 1), days: 500 });

let kafka: Kafka;
let provisioned: Provisioned;
let redis: Redis;
let child: ChildProcess | undefined;

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  redis = new Redis(config.redisUrl);
  await produceEvents(kafka, config.topics.orders, provisioned.registry, provisioned.schemas.orders, history);
}, 120_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  await redis?.quit();
});

describe('crash recovery (SIGKILL mid-stream)', () => {
  it('ends with exact state and every risk-change event after repeated kill -9 and restart', async () => {
    // Kill when the group's committed progress passes each mark, plus a random delay, so
    // kills land inside batches: after publishing, before or after the state write.
    const marks = [0.15, 0.3, 0.45, 0.6, 0.75];
    const delays = fc.sample(fc.integer({ min: 0, max: 100 }), { numRuns: marks.length, seed: 42 });
    const killedAt: number[] = [];
    for (const [index, mark] of marks.entries()) {
      child = startScorer(env);
      await waitForProgress(kafka, config, mark * history.length);
      await new Promise((resolve) => setTimeout(resolve, delays[index] ?? 0));
      killedAt.push(await committedOffsets(kafka, config));
      child.kill('SIGKILL');
      await exited(child);
    }
    expect(killedAt.every((at) => at < history.length)).toBe(true);
    child = startScorer(env);
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
      `crash test: ${history.length} events, ${outcome.expectedRecords} risk changes, ${outcome.duplicates} duplicates; after kills at committed offsets ${killedAt.join(', ')}`,
    );
    expectStreamEqualsCore(outcome);
    expect(outcome.expectedRecords).toBeGreaterThan(1000);
    child.kill('SIGTERM');
    await exited(child);
  }, 300_000);
});
