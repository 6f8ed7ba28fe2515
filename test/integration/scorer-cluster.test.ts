// The scorer on a real Redis Cluster (3 primaries + 3 replicas): three `churnstream run`
// processes share the group; mid-stream one primary is SIGKILLed (its replica is promoted
// after the node timeout, the old node rejoins as a replica) and later another primary
// hands over gracefully (CLUSTER FAILOVER). With REDIS_WAIT_REPLICAS=1 no acknowledged
// write can be lost, so at the end: state equal to the pure core's recomputation, every
// risk change published (duplicates only with identical ids), no dead letter.
import type { ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import {
  clusterClient,
  clusterNodes,
  clusterNodesEnv,
  ensureCluster,
  failoverTo,
  killPrimary,
  primaryOf,
} from '../helpers/redis-cluster.js';
import {
  compareStreamWithCore,
  expectedOutput,
  expectStreamEqualsCore,
  produceEvents,
  readDeadLetters,
} from '../helpers/scorer.js';
import { configOf, exited, processEnv, startScorer, waitForProgress } from '../helpers/scorer-process.js';

const env: Record<string, string> = {
  ...processEnv('cluster'),
  REDIS_URL: '',
  REDIS_CLUSTER_NODES: clusterNodesEnv,
  REDIS_WAIT_REPLICAS: '1',
};
const config = configOf(env);
const modelsDir = env['CHURNSTREAM_MODELS_DIR'] ?? '';
const history = generateDemoHistory({ seed: 21, customers: 800, start: Date.UTC(2024, 0, 1), days: 500 });

let kafka: Kafka;
let provisioned: Provisioned;
let verify: ReturnType<typeof clusterClient>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  ensureCluster();
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  verify = clusterClient();
  await produceEvents(kafka, config.topics.orders, provisioned.registry, provisioned.schemas.orders, history);
}, 120_000);

const API_PORT = 18291;

/** GET /customers/<id> on the cluster: each customer's last event and tier as the pure core has them. */
async function expectApiServesCoreState(dir: string): Promise<void> {
  const want = expectedOutput(
    history,
    new ModelRegistry(dir).loadDefaults(),
    config.partitions,
    config.timers.maxStalenessMs,
  );
  const lastTier = new Map(want.records.map((r) => [r.customer_id, r.risk_level]));
  const customers = [...new Set(history.map((e) => e.customerId))].slice(0, 40);
  for (const id of customers) {
    const response = await fetch(`http://127.0.0.1:${API_PORT}/customers/${encodeURIComponent(id)}`);
    expect(response.status, id).toBe(200);
    const body = (await response.json()) as { last_event_time: string; risk_tier: { level: string } | null };
    const last = Math.max(...history.filter((e) => e.customerId === id).map((e) => e.eventTime));
    expect(body.last_event_time, id).toBe(new Date(last).toISOString());
    expect(body.risk_tier?.level ?? null, id).toBe(lastTier.get(id) ?? null);
  }
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  verify?.disconnect();
  ensureCluster(); // whatever a failed run left down comes back
});

describe('scorer on Redis Cluster (three processes, failovers mid-stream)', () => {
  it('keeps state exact and loses no risk change across a killed primary and a handover', async () => {
    expect(config.redisCluster?.nodes).toHaveLength(6);
    // The first process serves the query API on a known port: it reads state through the cluster too.
    for (let i = 0; i < 3; i += 1)
      children.push(startScorer(i === 0 ? { ...env, CHURNSTREAM_HTTP_PORT: String(API_PORT) } : env));
    const progress: number[] = [];
    progress.push(await waitForProgress(kafka, config, 0.3 * history.length));
    const someKey = redisKeys(config.redisNamespace).customerState(history[0]?.customerId ?? '');
    const { killed, promoted } = await killPrimary(primaryOf(someKey));
    ensureCluster(); // the killed node restarts and rejoins as a replica of `promoted`
    progress.push(await waitForProgress(kafka, config, 0.65 * history.length));
    const other = clusterNodes().find((n) => n.primary && !n.failed && n.port !== promoted);
    if (other === undefined) throw new Error('no other primary');
    const handedTo = await failoverTo(other);
    expect(progress.every((p) => p < history.length)).toBe(true);

    const outcome = await compareStreamWithCore({
      kafka,
      config,
      registry: provisioned.registry,
      riskSchema: provisioned.schemas.riskChanges,
      // The helper reads each customer's hash (HGET): the cluster client routes it by slot.
      redis: verify as unknown as Redis,
      history,
      models: new ModelRegistry(modelsDir).loadDefaults(),
      timeoutMs: 180_000,
    });
    console.log(
      `cluster scorer test: ${history.length} events, ${outcome.expectedRecords} risk changes, ${outcome.duplicates} duplicates; killed ${killed} (promoted ${promoted}) at ${progress[0]}, handover ${other.port} -> ${handedTo} at ${progress[1]}`,
    );
    expectStreamEqualsCore(outcome);
    expect(outcome.expectedRecords).toBeGreaterThan(1000);
    expect(await readDeadLetters(kafka, provisioned, config.topics.deadLetters, 1, 3000)).toEqual([]);
    await expectApiServesCoreState(modelsDir);
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map(exited));
  }, 420_000);
});
