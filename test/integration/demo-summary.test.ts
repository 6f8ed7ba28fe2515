// The main job's summary (`churnstream demo --exit`) is printed once the scorer has caught up:
// the risk changes it counts by tier are all the risk changes on the topic, none still to come.
// (An outside tester found it printed while timer passes were still publishing.)
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { runDemo } from '../../src/app/demo.js';
import { createLogger } from '../../src/app/logger.js';
import type { Service } from '../../src/app/service.js';
import { provision } from '../../src/app/setup.js';
import { readRiskChanges, scorerConfig } from '../helpers/scorer.js';

// Timer passes 3 s apart: a summary taken between two passes misses what the next one publishes.
const config = scorerConfig('demo-summary', { CHURNSTREAM_CLOCK: 'watermark', CHURNSTREAM_TIMER_INTERVAL_MS: '3000' });
let service: Service | undefined;

afterAll(async () => {
  await service?.stop();
});

describe('demo summary', () => {
  it('counts every risk change the topic holds, with the scorer caught up', async () => {
    const run = await runDemo(config, { customers: 400, days: 400, seed: 7, progress: false }, createLogger('silent'));
    service = run.service;
    const counted = Object.values(run.summary.riskChangesByTier).reduce((s, n) => s + n, 0);
    expect(counted).toBeGreaterThan(400);
    const { registry, schemas } = await provision(config);
    // Read past the count: anything published after the summary would show up as more.
    const onTopic = await readRiskChanges(
      createKafka(config.kafka),
      config.topics.riskChanges,
      registry,
      schemas.riskChanges,
      counted + 1,
      8000,
    );
    expect(onTopic.length).toBe(counted);
  }, 240_000);

  it('stamps the order records with the time of the replay: retention cannot delete the history at once', async () => {
    const kafka = createKafka(config.kafka);
    const consumer = kafka.consumer({ groupId: `demo-timestamps-${Date.now()}` });
    const stamps: number[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: config.topics.orders, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        stamps.push(Number(message.timestamp));
      },
    });
    const deadline = Date.now() + 20_000;
    while (stamps.length < 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    await consumer.disconnect();
    expect(stamps.length).toBeGreaterThanOrEqual(100);
    // The history spans 400 days; the records were produced in the last few minutes.
    for (const stamp of stamps) expect(Date.now() - stamp).toBeLessThan(30 * 60_000);
  }, 60_000);
});
