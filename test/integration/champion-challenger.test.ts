// Champion and challenger on the real stack, on an event-time replay: a deliberately weaker
// challenger (the shipped churn model with its leaf values permuted, test/fixtures/challenger)
// runs in shadow. After the labels resolve, its AUC is lower on the same labels, `models
// compare` says so with its interval, and the risk-change topic carries exactly what the
// champion alone decides (the pure core's output without a challenger).
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { RedisConnection } from '../../src/adapters/redis/connection.js';
import { compareModels } from '../../src/app/commands/models-compare.js';
import { createLogger } from '../../src/app/logger.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import { compareStreamWithCore, expectStreamEqualsCore, produceEvents, scorerConfig } from '../helpers/scorer.js';

const modelsDir = new URL('../fixtures/challenger/', import.meta.url).pathname;
const env = {
  CHURNSTREAM_MODELS_DIR: modelsDir,
  CHURNSTREAM_CHURN_MODEL_VERSION: 'v1',
  CHURNSTREAM_LTV_MODEL_VERSION: 'v1',
  CHURNSTREAM_CHALLENGER_CHURN_MODEL: 'v1-shuffled',
};
const config = scorerConfig('shadow', env);
const history = generateDemoHistory({ seed: 19, customers: 1500, start: Date.UTC(2024, 0, 1), days: 540 });

let kafka: Kafka;
let provisioned: Provisioned;
let service: Service;
let redis: Redis;
let connection: RedisConnection;

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  service = await startService(config, createLogger('silent'));
  redis = new Redis(config.redisUrl);
  connection = await RedisConnection.open(config.redisUrl, null);
  await produceEvents(kafka, config.topics.orders, provisioned.registry, provisioned.schemas.orders, history);
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await redis?.quit();
  await connection?.close();
});

describe('a weaker challenger in shadow', () => {
  it('leaves the risk-change topic to the champion alone', async () => {
    // The expected output is the pure core's with the champion only: no challenger decision.
    const champion = new ModelRegistry(modelsDir).loadDefaults({ churn: 'v1', ltv: 'v1' });
    const outcome = await compareStreamWithCore({
      kafka,
      config,
      registry: provisioned.registry,
      riskSchema: provisioned.schemas.riskChanges,
      redis,
      history,
      models: champion,
      timeoutMs: 120_000,
    });
    expectStreamEqualsCore(outcome);
  }, 180_000);

  it('ends with a lower AUC on the same labels, and `models compare` says so with its interval', async () => {
    const stores = connection.stores(config.redisNamespace, config.stateTtlSeconds);
    // The stream's output is complete (previous test): the labels it resolved are all stored.
    const report = await compareModels(stores, 'v1', 'v1-shuffled');
    console.log(
      `shadow: ${report.paired.positives + report.paired.negatives} paired labels, AUC champion ${report.paired.championAuc.toFixed(4)} challenger ${report.paired.challengerAuc.toFixed(4)}, difference ${report.paired.difference.toFixed(4)} [${report.paired.low.toFixed(4)}, ${report.paired.high.toFixed(4)}]`,
    );
    expect(report.champion.labels).toBe(report.challenger.labels);
    expect(report.paired.positives + report.paired.negatives).toBe(report.champion.labels);
    expect(report.champion.labels).toBeGreaterThan(1000);
    expect(report.paired.high).toBeLessThan(0);
    expect(report.verdict).toBe('champion_better');
    // The command line prints the same figures from the same statistics.
    const cli = execFileSync(
      'npx',
      ['tsx', new URL('../../src/app/cli/main.ts', import.meta.url).pathname, 'models', 'compare'],
      { env: { ...process.env, ...env, CHURNSTREAM_REDIS_NAMESPACE: config.redisNamespace }, encoding: 'utf8' },
    );
    expect(cli).toContain('the champion ranks better: sufficient evidence');
    expect(cli).toContain(`95% CI [${report.paired.low.toFixed(4)}`);
  }, 120_000);

  it("shows the challenger's score on /customers/{id}/challenger and only the champion's on /customers/{id}", async () => {
    const { port } = service.http.address() as AddressInfo;
    const customers = [...new Set(history.map((e) => e.customerId))].slice(0, 40);
    let differing = 0;
    type Churn = { churn_probability: number; model_version: string };
    type View = {
      variant: string | null;
      as_of: string;
      last_event_time: string;
      churn: Churn;
      challenger?: { churn: Churn; ltv: unknown } | null;
    };
    const stores = connection.stores(config.redisNamespace, config.stateTtlSeconds);
    for (const id of customers) {
      const plain = await fetch(`http://127.0.0.1:${port}/customers/${encodeURIComponent(id)}`);
      const withChallenger = await fetch(`http://127.0.0.1:${port}/customers/${encodeURIComponent(id)}/challenger`);
      expect([plain.status, withChallenger.status], id).toEqual([200, 200]);
      const a = (await plain.json()) as View;
      const b = (await withChallenger.json()) as View;
      expect(a).not.toHaveProperty('challenger');
      expect(a.variant).toBeNull(); // shadow: no experiment
      expect(a.churn.model_version).toBe('v1');
      expect(b.churn).toEqual(a.churn);
      expect(b.challenger?.churn.model_version).toBe('v1-shuffled');
      // A replay: the customer is scored at its own partition's watermark, as the stream's timers are.
      const partition = (await stores.state.read([{ customerId: id, partition: null }])).get(id)?.partition ?? null;
      expect(partition, id).not.toBeNull();
      const mark = (await stores.watermarks.load([partition ?? -1])).get(partition ?? -1);
      expect(Date.parse(a.as_of), id).toBe(Math.max(mark ?? Number.NaN, Date.parse(a.last_event_time)));
      if (b.challenger?.churn.churn_probability !== a.churn.churn_probability) differing += 1;
    }
    // The challenger's leaves are permuted: its scores differ for (nearly) everyone.
    expect(differing).toBeGreaterThan(customers.length / 2);
    const unknown = await fetch(`http://127.0.0.1:${port}/customers/nobody-${Date.now()}/challenger`);
    expect(unknown.status).toBe(404);
  }, 60_000);
});
