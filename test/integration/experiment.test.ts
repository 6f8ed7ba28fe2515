// A/B on the real stack: 10,000 customers assigned by salted hash to champion (70%) or
// challenger (30%). Two scorer processes share the partitions (a rebalance when the second
// joins and when one leaves), and one is restarted between the two halves of the traffic.
// Every risk-change event carries the variant the hash gives, the split passes a chi-square
// test against the weights, a customer keeps its variant across the restart and the
// rebalances, and raising the weight rescores (trigger model_change) only customers it moved.
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { RedisConnection } from '../../src/adapters/redis/connection.js';
import { changeRollout, currentRollout } from '../../src/app/commands/models-rollout.js';
import { createLogger } from '../../src/app/logger.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import type { RiskChangeRecord } from '../../src/core/events/risk-change.js';
import { variantMoved, variantOf } from '../../src/core/experiments/assignment.js';
import { withWeight } from '../../src/core/experiments/rollout.js';
import { DAY_MS } from '../../src/core/time.js';
import { produceEvents, readTopic, scorerConfig } from '../helpers/scorer.js';
import { uniqueSuffix } from '../helpers/stack.js';

const salt = `salt-${uniqueSuffix()}`;
const config = scorerConfig('experiment', {
  CHURNSTREAM_MODELS_DIR: new URL('../fixtures/challenger/', import.meta.url).pathname,
  CHURNSTREAM_CHURN_MODEL_VERSION: 'v1',
  CHURNSTREAM_LTV_MODEL_VERSION: 'v1',
  CHURNSTREAM_CHALLENGER_CHURN_MODEL: 'v1-shuffled',
  CHURNSTREAM_EXPERIMENT: `ab19:${salt}`,
  CHURNSTREAM_EXPERIMENT_WEIGHT: '0.3',
  CHURNSTREAM_ROLLOUT_CHECK_INTERVAL_MS: '200',
  CHURNSTREAM_SESSION_TIMEOUT_MS: '10000',
});
const experiment = (challengerWeight: number) => ({ name: 'ab19', salt, challengerWeight });
const N = 10_000;
const T = Date.UTC(2025, 0, 1);
const ids = Array.from({ length: N }, (_, i) => `AB${String(i).padStart(5, '0')}`);
// One first order each: every customer's first assessment is published (null -> tier).
const orders = (from: number, to: number): OrderEvent[] =>
  ids.slice(from, to).map((customerId, i) => ({
    customerId,
    orderId: `${customerId}-1`,
    eventTime: T + Math.floor(((from + i) / N) * 20) * DAY_MS,
    type: 'order',
    amount: 10 + ((from + i) % 90),
    currency: 'GBP',
    itemCount: 1,
    originalOrderId: null,
  }));

let kafka: Kafka;
let provisioned: Provisioned;
const services: Service[] = [];
let connection: RedisConnection;
const log = createLogger('silent');
const start = async () => {
  const service = await startService(config, log);
  services.push(service);
  return service;
};
const stop = async (service: Service) => {
  await service.stop();
  services.splice(services.indexOf(service), 1);
};

/** Risk changes until `done` says enough (decoded with the registry). */
const riskChanges = (done: (records: RiskChangeRecord[]) => boolean) => {
  const seen: RiskChangeRecord[] = [];
  return readTopic<RiskChangeRecord>(
    kafka,
    config.topics.riskChanges,
    async (value) => {
      const decoded = await provisioned.registry.decode<RiskChangeRecord>(value, provisioned.schemas.riskChanges);
      if (!decoded.ok) throw new Error(decoded.reason);
      seen.push(decoded.value);
      return decoded.value;
    },
    () => done(seen),
    180_000,
  );
};
const firsts = (records: readonly RiskChangeRecord[]) =>
  new Map(records.filter((r) => r.previous_risk_level === null).map((r) => [r.customer_id, r]));

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  connection = await RedisConnection.open(config.redisUrl, null);
}, 120_000);

afterAll(async () => {
  for (const service of [...services]) await service.stop();
  await connection?.close();
});

describe('A/B experiment', () => {
  it('assigns sticky, weight-proportional variants across a restart and rebalances; a weight change moves only the moved', async () => {
    const a = await start();
    await start(); // joins: rebalance
    await produceEvents(
      kafka,
      config.topics.orders,
      provisioned.registry,
      provisioned.schemas.orders,
      orders(0, N / 2),
    );
    await riskChanges((r) => firsts(r).size >= N / 2);
    await stop(a); // leaves: rebalance; then a restart
    const restarted = await start();
    await produceEvents(
      kafka,
      config.topics.orders,
      provisioned.registry,
      provisioned.schemas.orders,
      orders(N / 2, N),
    );
    const all = await riskChanges((r) => firsts(r).size >= N);

    const first = firsts(all);
    expect(first.size).toBe(N);
    // Every event names the experiment and the variant the salted hash gives.
    for (const r of all) {
      expect(r.experiment).toBe('ab19');
      expect(r.variant).toBe(variantOf(experiment(0.3), r.customer_id));
      expect(r.churn_model_version).toBe(r.variant === 'challenger' ? 'v1-shuffled' : 'v1');
    }
    // Weight-proportional: chi-square with 1 degree of freedom below its 99.9% quantile.
    const challengers = [...first.values()].filter((r) => r.variant === 'challenger').length;
    const chi2 = (challengers - 0.3 * N) ** 2 / (0.3 * N) + (N - challengers - 0.7 * N) ** 2 / (0.7 * N);
    console.log(`A/B: ${challengers} of ${N} customers on the challenger (weight 0.3), chi-square ${chi2.toFixed(2)}`);
    expect(chi2).toBeLessThan(10.828);
    // Sticky across the restart and rebalances: the restarted process shows the first half's variants.
    const port = (restarted.http.address() as { port: number }).port;
    // 60 of them, spread over the first half (the API allows 100 requests per second per client).
    for (const id of ids.slice(0, N / 2).filter((_, i) => i % 80 === 0)) {
      const view = (await (await fetch(`http://127.0.0.1:${port}/customers/${id}`)).json()) as { variant: string };
      expect(view.variant).toBe(first.get(id)?.variant);
    }

    // Raise the weight to 0.5 through the rollout: only moved customers are rescored.
    const stores = connection.stores(config.redisNamespace, config.stateTtlSeconds);
    const current = await currentRollout(config, stores);
    await changeRollout(
      stores,
      current,
      withWeight(current, 0.5),
      {
        action: 'weight',
        by: 'test',
        why: 'A/B test: raise the challenger',
        at: new Date(),
      },
      config,
    );
    const moved = new Set(ids.filter((id) => variantMoved(experiment(0.3), experiment(0.5), id)));
    const after = await riskChanges((r) => r.filter((x) => x.trigger === 'model_change').length >= moved.size * 0.2);
    const changes = after.filter((r) => r.trigger === 'model_change');
    console.log(`weight 0.3 -> 0.5: ${moved.size} customers moved, ${changes.length} tier changes published`);
    for (const r of changes) {
      expect(moved.has(r.customer_id)).toBe(true);
      expect(r.variant).toBe('challenger');
    }
  }, 600_000);
});
