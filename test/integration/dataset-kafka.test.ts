// `churnstream dataset --source kafka`: the stream's own history, read from the real orders
// topic through the real registry, gives the same table and spec as the same history
// exported to CSV; records the scorer would dead-letter are skipped and counted under the
// scorer's reasons; a topic that does not exist is a user error (and is not created).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { buildDatasetFile, DatasetError } from '../../src/app/commands/dataset.js';
import { provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { produceEvents, produceRaw, scorerConfig } from '../helpers/scorer.js';

const config = scorerConfig('dataset-kafka');
const history = generateDemoHistory({ seed: 11, customers: 120, start: Date.UTC(2023, 0, 1), days: 480 });
const dir = mkdtempSync(join(tmpdir(), 'dataset-kafka-'));
const common = { specVersion: 'fitted-test', everyDays: 30, churnDays: 90, ltvDays: [90], progress: false };
const kafka = createKafka(config.kafka);

beforeAll(async () => {
  const { registry, schemas } = await provision(config);
  await produceEvents(kafka, config.topics.orders, registry, schemas.orders, history);
  await produceRaw(kafka, config.topics.orders, [
    { key: 'x', value: Buffer.from('not avro') },
    { key: 'y', value: null },
  ]);
}, 60_000);

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(config.topics) }).catch(() => {});
  await admin.disconnect();
});

describe('churnstream dataset --source kafka', () => {
  it('gives the table and spec the same history gives as a CSV; bad records skipped by reason', async () => {
    const reports: string[] = [];
    await buildDatasetFile(
      { ...common, source: 'kafka', config, out: join(dir, 'kafka.csv'), specOut: join(dir, 'kafka.json') },
      (line) => reports.push(line),
    );
    const csv = join(dir, 'orders.csv');
    const line = (e: OrderEvent) =>
      [e.customerId, e.orderId, e.eventTime, e.amount, e.type, e.originalOrderId ?? '', e.itemCount, e.currency].join(
        ',',
      );
    writeFileSync(
      csv,
      `customer_id,order_id,event_time,amount,type,original_order_id,item_count,currency\n${history.map(line).join('\n')}\n`,
    );
    await buildDatasetFile(
      { ...common, source: 'csv', input: csv, out: join(dir, 'csv.csv'), specOut: join(dir, 'csv.json') },
      () => {},
    );
    expect(readFileSync(join(dir, 'kafka.csv'), 'utf8')).toBe(readFileSync(join(dir, 'csv.csv'), 'utf8'));
    expect(readFileSync(join(dir, 'kafka.json'), 'utf8')).toBe(readFileSync(join(dir, 'csv.json'), 'utf8'));
    console.log(reports.join('\n'));
    expect(reports[0]).toContain(
      `kafka:${config.topics.orders}: ${history.length + 2} rows read, ${history.length} events; skipped: `,
    );
    expect(reports[0]).toContain('bad_magic_byte=1');
    expect(reports[0]).toContain('empty_value=1');
  }, 120_000);

  it('a topic that does not exist is a user error naming it, and is not created', async () => {
    const missing = scorerConfig('dataset-kafka-missing');
    const attempt = buildDatasetFile(
      { ...common, source: 'kafka', config: missing, out: join(dir, 'm.csv'), specOut: join(dir, 'm.json') },
      () => {},
    );
    await expect(attempt).rejects.toThrow(DatasetError);
    await expect(attempt).rejects.toThrow(`topic ${missing.topics.orders} does not exist (CHURNSTREAM_ORDERS_TOPIC)`);
    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).not.toContain(missing.topics.orders);
    await admin.disconnect();
  }, 60_000);
});
