// Exactly-once in effect across crashes: the scorer process is killed with SIGKILL at
// random points of a replay and restarted; at the end, Redis holds exactly the state a
// batch recomputation gives, every expected risk-change event was published, and any
// duplicate repeats an id with identical content.
import { type ChildProcess, spawn } from 'node:child_process';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { loadConfig } from '../../src/app/config.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import type { RiskChangeRecord } from '../../src/core/events/risk-change.js';
import { decodeState, encodeState } from '../../src/core/state/codec.js';
import { expectedOutput, produceEvents, readTopic } from '../helpers/scorer.js';
import { uniqueSuffix } from '../helpers/stack.js';

const modelsDir = new URL('../../models/', import.meta.url).pathname;
const suffix = uniqueSuffix();
const env = {
  CHURNSTREAM_ORDERS_TOPIC: `test.crash-${suffix}.orders`,
  CHURNSTREAM_RISK_TOPIC: `test.crash-${suffix}.risk-changes`,
  CHURNSTREAM_DEAD_LETTER_TOPIC: `test.crash-${suffix}.dead-letters`,
  CHURNSTREAM_GROUP_ID: `test.crash-${suffix}`,
  CHURNSTREAM_REDIS_NAMESPACE: `test-crash-${suffix}`,
  CHURNSTREAM_PARTITIONS: '3',
  CHURNSTREAM_CLOCK: 'watermark',
  CHURNSTREAM_TIMER_INTERVAL_MS: '50',
  CHURNSTREAM_HTTP_PORT: '0',
  CHURNSTREAM_LOG_LEVEL: process.env['TEST_LOG'] ?? 'warn',
  CHURNSTREAM_MODELS_DIR: modelsDir,
  CHURNSTREAM_SESSION_TIMEOUT_MS: '6000',
  CHURNSTREAM_MAX_BATCH_BYTES: '8192',
};
// The child processes read exactly this environment: the test uses the same config.
const config = loadConfig({ ...process.env, ...env });
const history = generateDemoHistory({ seed: 9, customers: 700, start: Date.UTC(2024, 0, 1), days: 500 });
const cli = new URL('../../src/app/cli/main.ts', import.meta.url).pathname;

let kafka: Kafka;
let provisioned: Provisioned;
let redis: Redis;
let child: ChildProcess | undefined;

const startScorer = (): ChildProcess =>
  spawn(process.execPath, ['--import', 'tsx', cli, 'run'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });

const killed = (proc: ChildProcess) =>
  new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : proc.once('exit', () => resolve())));

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
    const marks = [0.15, 0.35, 0.55, 0.75, 0.9];
    const delays = fc.sample(fc.integer({ min: 0, max: 400 }), { numRuns: marks.length, seed: 42 });
    const admin = kafka.admin();
    await admin.connect();
    const committed = async () =>
      (await admin.fetchOffsets({ groupId: config.groupId, topics: [config.topics.orders] }))[0]?.partitions.reduce(
        (sum, p) => sum + Math.max(Number(p.offset), 0),
        0,
      ) ?? 0;
    const killedAt: number[] = [];
    for (const [index, mark] of marks.entries()) {
      child = startScorer();
      const deadline = Date.now() + 90_000;
      while ((await committed()) < mark * history.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((resolve) => setTimeout(resolve, delays[index] ?? 0));
      killedAt.push(await committed());
      child.kill('SIGKILL');
      await killed(child);
    }
    await admin.disconnect();
    expect(killedAt.every((at) => at < history.length)).toBe(true);
    child = startScorer();
    const want = expectedOutput(
      history,
      new ModelRegistry(modelsDir).loadDefaults(),
      config.partitions,
      config.timers.maxStalenessMs,
    );
    const got = await readTopic<RiskChangeRecord>(
      kafka,
      config.topics.riskChanges,
      async (value) => {
        const decoded = await provisioned.registry.decode<RiskChangeRecord>(value, provisioned.schemas.riskChanges);
        if (!decoded.ok) throw new Error(decoded.reason);
        return decoded.value;
      },
      (items) => new Set(items.map((r) => r.event_id)).size >= want.records.length,
      150_000,
    );
    const byId = new Map(got.map((r) => [r.event_id, r]));
    for (const record of got) expect(record).toEqual(byId.get(record.event_id));
    const missing = want.records.filter((r) => !byId.has(r.event_id));
    const unexpected = [...byId.keys()].filter((id) => !want.records.some((r) => r.event_id === id));
    expect({ missing: missing.length, unexpected: unexpected.length }).toEqual({ missing: 0, unexpected: 0 });
    console.log(
      `crash test: ${history.length} events, ${want.records.length} risk changes, ${got.length - byId.size} duplicates after kills at committed offsets ${killedAt.join(', ')}`,
    );

    const keys = redisKeys(config.redisNamespace);
    let differences = 0;
    for (const [customerId, state] of want.states) {
      const stored = await redis.hgetBuffer(keys.customerState(customerId), 'state');
      if (stored === null || !encodeState(decodeState(stored)).equals(encodeState(state))) differences += 1;
    }
    expect(differences).toBe(0);
    child.kill('SIGTERM');
    await killed(child);
  }, 300_000);
});
