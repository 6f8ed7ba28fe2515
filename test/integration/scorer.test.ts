// The streaming scorer end to end on the real stack: Avro order events in, risk-change
// events and Redis state out, exactly as the pure core computes them; silent customers
// rescored by timers; the query API.

import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { createLogger } from '../../src/app/logger.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import type { RiskChangeRecord } from '../../src/core/events/risk-change.js';
import {
  compareRecords,
  expectedOutput,
  produceEvents,
  readRiskChanges,
  readTopic,
  scorerConfig,
  stateDifferences,
} from '../helpers/scorer.js';

// The shipped models, plus the small fixture models as version t1 to switch to.
const modelsDir = mkdtempSync(join(tmpdir(), 'models-'));
cpSync(new URL('../../models/', import.meta.url).pathname, modelsDir, { recursive: true });
for (const kind of ['churn', 'ltv']) {
  cpSync(new URL(`../fixtures/models/${kind}/t1`, import.meta.url).pathname, join(modelsDir, kind, 't1'), {
    recursive: true,
  });
}
const config = scorerConfig('scorer', {
  CHURNSTREAM_MODELS_DIR: modelsDir,
  CHURNSTREAM_CHURN_MODEL_VERSION: 'v1',
  CHURNSTREAM_LTV_MODEL_VERSION: 'v1',
});
const history = generateDemoHistory({ seed: 5, customers: 80, start: Date.UTC(2024, 0, 1), days: 400 });

let kafka: Kafka;
let provisioned: Provisioned;
let service: Service;
let redis: Redis;

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  service = await startService(config, createLogger('silent'));
  redis = new Redis(config.redisUrl);
  await produceEvents(kafka, config.topics.orders, provisioned.registry, provisioned.schemas.orders, history);
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await redis?.quit();
});

describe('streaming scorer (real Kafka, registry, Redis)', () => {
  const expected = () =>
    expectedOutput(
      history,
      new ModelRegistry(modelsDir).loadDefaults(),
      config.partitions,
      config.timers.maxStalenessMs,
    );

  it('publishes exactly the expected risk-change events, with reasons, keyed by customer', async () => {
    const want = expected();
    const got = await readRiskChanges(
      kafka,
      config.topics.riskChanges,
      provisioned.registry,
      provisioned.schemas.riskChanges,
      want.records.length,
      90_000,
    );
    const { byId, missing, unexpected, inconsistentDuplicates } = compareRecords(got, want.records);
    expect({ missing, unexpected, inconsistentDuplicates }).toEqual({
      missing: 0,
      unexpected: 0,
      inconsistentDuplicates: 0,
    });
    expect(want.records.length).toBeGreaterThan(80);
    expect([...byId.keys()].sort()).toEqual(want.records.map((r) => r.event_id).sort());
    for (const record of want.records) {
      const published = byId.get(record.event_id);
      expect(published?.risk_level).toBe(record.risk_level);
      expect(published?.trigger).toBe(record.trigger);
      expect(published?.as_of).toBe(record.as_of);
      expect(published?.churn_probability).toBe(record.churn_probability);
      expect(published?.reasons.length).toBeGreaterThan(0);
    }
    expect(want.records.some((r) => r.trigger === 'timer')).toBe(true);
  }, 120_000);

  it('holds exactly the expected state per customer in Redis', async () => {
    expect(await stateDifferences(redis, config.redisNamespace, expected().states)).toBe(0);
  });

  it('answers the query API with the customer result', async () => {
    const address = service.http.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const customer = history[0]?.customerId ?? '';
    const response = await fetch(`http://127.0.0.1:${port}/customers/${encodeURIComponent(customer)}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      state_updated_at: string;
      churn: { churn_probability: number; model_version: string };
      ltv: { predicted_ltv: number };
      features: Record<string, number | null>;
    };
    expect(body.churn.model_version).toBe('v1');
    expect(Date.parse(body.state_updated_at)).toBeGreaterThan(Date.now() - 300_000);
    expect(body.churn.churn_probability).toBeGreaterThan(0);
    expect(Object.keys(body.features)).toHaveLength(56);
    expect((await fetch(`http://127.0.0.1:${port}/customers/nobody-${Date.now()}`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/customers/%01bad`)).status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/churnstream_risk_changes_total\{/);
    // Drift against the shipped model's training reference, over the recent scorings.
    expect(metrics).toMatch(/churnstream_feature_psi\{feature="recency_days"\} \d/);
    expect(metrics).toMatch(/churnstream_score_psi \d/);
    expect(metrics).toMatch(/churnstream_churn_probability_bucket\{le="0.5"\} \d/);
    // Model health from labels the stream resolved itself over the replayed months.
    const auc = Number(/churnstream_model_auc\{model_version="v1"\} ([\d.]+)/.exec(metrics)?.[1]);
    expect(auc).toBeGreaterThan(0.5);
    expect(auc).toBeLessThan(1);
    expect(metrics).toMatch(/churnstream_labels_resolved_total\{model_version="v1",label="churned"\} \d/);
    expect(metrics).toMatch(/churnstream_model_calibration_error\{model_version="v1"\} \d/);
  });

  it('rescores every customer with trigger model_change when the models are swapped', async () => {
    const before = await metricValue('churnstream_risk_changes_total');
    // The pass rescores every customer with a timer in the owned partitions (all of them
    // here): count them in the timer index first. The stream has settled (the first test
    // read every expected record), so no timer is due and the index does not move.
    const keys = redisKeys(config.redisNamespace);
    let timed = 0;
    for (let partition = 0; partition < config.partitions; partition += 1)
      timed += await redis.zcard(keys.timers(partition));
    const customers = new Set(history.map((e) => e.customerId)).size;
    expect(timed).toBeGreaterThan(0);
    expect(timed).toBeLessThanOrEqual(customers);
    const result = await service.reloadModels({ churn: 't1', ltv: 't1' });
    expect(result).toEqual({ changed: true, rescored: timed });
    const changes = await readTopic<RiskChangeRecord>(
      kafka,
      config.topics.riskChanges,
      async (value) => {
        const decoded = await provisioned.registry.decode<RiskChangeRecord>(value, provisioned.schemas.riskChanges);
        if (!decoded.ok) throw new Error(decoded.reason);
        return decoded.value;
      },
      (items) => items.some((r) => r.trigger === 'model_change'),
      30_000,
    );
    const modelChanges = changes.filter((r) => r.trigger === 'model_change');
    expect(modelChanges.length).toBeGreaterThan(0);
    expect(modelChanges.every((r) => r.churn_model_version === 't1' && r.feature_spec_version === 'default-1')).toBe(
      true,
    );
    expect(await metricValue('churnstream_risk_changes_total')).toBeGreaterThan(before);
    // A broken version is refused and the active one stays.
    await expect(service.reloadModels({ churn: 'does-not-exist' })).rejects.toThrow(/no model artifact/);
    expect(service.models.current.churn?.config.version).toBe('t1');
  }, 60_000);
});

async function metricValue(name: string): Promise<number> {
  const metric = service.metrics.registry.getSingleMetric(name);
  return metric === undefined ? 0 : (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}
