// A drift scenario on the real stack: customers who spend fifty times what the training
// data saw push the monetary features' and the score's PSI past the 0.25 alert level.
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { createLogger } from '../../src/app/logger.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import { produceEvents, scorerConfig } from '../helpers/scorer.js';

const config = scorerConfig('drift', { CHURNSTREAM_MODELS_DIR: new URL('../../models/', import.meta.url).pathname });
let kafka: Kafka;
let provisioned: Provisioned;
let service: Service;

const gauge = (metrics: string, pattern: string): number =>
  Number(new RegExp(`${pattern} ([\\d.e+-]+)`).exec(metrics)?.[1]);

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  service = await startService(config, createLogger('silent'));
}, 120_000);

afterAll(async () => {
  await service?.stop();
});

describe('drift scenario', () => {
  it('raises feature and score PSI past the alert threshold for a shifted population', async () => {
    const shifted = generateDemoHistory({ seed: 31, customers: 400, start: Date.UTC(2024, 0, 1), days: 300 }).map(
      (e) => ({
        ...e,
        amount: e.amount * 50,
        itemCount: e.itemCount * 40,
      }),
    );
    await produceEvents(kafka, config.topics.orders, provisioned.registry, provisioned.schemas.orders, shifted);
    const address = service.http.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    // Wait until the drift window holds (nearly) every event's scoring; fail if it never does.
    const wanted = shifted.length * 0.9;
    let metrics = '';
    let scorings = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      scorings = gauge(metrics, 'churnstream_drift_window_scorings');
      if (scorings >= wanted) break;
      if (Date.now() >= deadline)
        throw new Error(`drift window holds ${scorings} scorings after 60 s, wanted at least ${wanted}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const psi = {
      monetarySpend: gauge(metrics, 'churnstream_feature_psi\\{feature="monetary_spend"\\}'),
      avgBasketSize: gauge(metrics, 'churnstream_feature_psi\\{feature="avg_basket_size"\\}'),
      score: gauge(metrics, 'churnstream_score_psi'),
    };
    console.log(`drift: ${scorings} scorings in the window, PSI ${JSON.stringify(psi)}`);
    expect(psi.monetarySpend).toBeGreaterThan(0.25);
    expect(psi.avgBasketSize).toBeGreaterThan(0.25);
    expect(psi.score).toBeGreaterThan(0.25);
  }, 120_000);
});
