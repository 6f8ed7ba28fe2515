// A schema registry outage is transient, never poison. `churnstream run` (its own process)
// has consumed events written with the orders schema; then a new compatible writer version
// of that schema is registered (one more optional field with a default), the registry is
// stopped (`scripts/stack.sh down schema-registry`), and good events written with the new
// version's id, which the scorer has never looked up, are produced. The scorer cannot
// resolve the id: it must pause and wait (readiness 503 naming the registry,
// churnstream_dependency_up{dependency="registry"} 0) and dead-letter nothing, even after
// its schema-id grace period; once the registry is back every event is applied exactly
// as the pure core applies it.
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSchemaText } from '../../src/adapters/files/schemas.js';
import { createKafka } from '../../src/adapters/kafka/client.js';
import type { RegisteredValueSchema } from '../../src/adapters/registry/avro-registry.js';
import { toOrderEventRecord } from '../../src/adapters/registry/order-event-codec.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { compareStreamWithCore, partitionOf } from '../helpers/scorer.js';
import { configOf, processEnv, waitForProgress } from '../helpers/scorer-process.js';
import { uniqueSuffix } from '../helpers/stack.js';
import {
  freePort,
  httpGet,
  metricSamples,
  produceTracked,
  type ScorerChild,
  sleep,
  spawnScorer,
  stack,
  topicEnd,
  waitFor,
  waitUntilReady,
} from '../helpers/stack-control.js';

const PARTITIONS = 3;
// Shorter than the outage: an unreachable registry must not count against an id's grace.
const GRACE_MS = 2000;
const OUTAGE_MS = 10_000;
const env: Record<string, string> = {
  ...processEnv('registry-outage'),
  CHURNSTREAM_PARTITIONS: String(PARTITIONS),
  CHURNSTREAM_SCHEMA_ID_GRACE_MS: String(GRACE_MS),
};
const config = configOf(env);
const modelsDir = env['CHURNSTREAM_MODELS_DIR'] ?? '';
const history = generateDemoHistory({ seed: 41, customers: 150, start: Date.UTC(2024, 0, 1), days: 300 });
const before = Math.floor(history.length / 2);
const extraField = `channel_${uniqueSuffix().replaceAll('-', '_')}`;

let kafka: Kafka;
let provisioned: Provisioned;
let redis: Redis | undefined;
let scorer: ScorerChild;
let v2: RegisteredValueSchema;
const during: {
  readyz?: { status: number; body: { waiting_for?: Record<string, string> } } | undefined;
  dependencyUp?: number[];
  deadLettersWhileDown?: number;
  waitedMs?: number;
} = {};

/** The orders schema with one more optional field: a BACKWARD-compatible new writer version. */
function orderSchemaV2(): string {
  const schema = JSON.parse(readSchemaText('orderEvent')) as { fields: unknown[] };
  schema.fields.push({ name: extraField, type: ['null', 'string'], default: null, doc: 'test-only field' });
  return JSON.stringify(schema);
}

const encodeV2 = (event: OrderEvent) => {
  const record = { ...toOrderEventRecord(event), [extraField]: 'web' };
  return provisioned.registry.encode(v2, record);
};

beforeAll(async () => {
  env['CHURNSTREAM_HTTP_PORT'] = String(await freePort());
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  scorer = spawnScorer(env);
  expect(await waitUntilReady(scorer)).toBe(true);
  const { registry, schemas } = provisioned;
  const message = (e: OrderEvent, value: Buffer) => ({
    key: e.customerId,
    value,
    partition: partitionOf(e.customerId, PARTITIONS),
  });
  // First half with the schema the scorer registered itself at start.
  await produceTracked(
    kafka,
    config.topics.orders,
    history.slice(0, before).map((e) => message(e, registry.encode(schemas.orders, toOrderEventRecord(e)))),
  );
  expect(await waitForProgress(kafka, config, before, 60_000)).toBe(before);

  // A new writer version, registered while the registry is up; the scorer has not seen its id.
  v2 = await registry.registerValueSchema(config.topics.orders, orderSchemaV2());
  expect(v2.id).not.toBe(schemas.orders.id);

  stack('down', 'schema-registry');
  const downAt = Date.now();
  await produceTracked(
    kafka,
    config.topics.orders,
    history.slice(before).map((e) => message(e, encodeV2(e))),
  );
  // The scorer notices: readiness names the registry.
  during.readyz = await waitFor(async () => {
    const answer = await httpGet(scorer.port, '/readyz', 3000);
    const body = JSON.parse(answer.text) as { waiting_for?: Record<string, string> };
    return answer.status === 503 && body.waiting_for?.['registry'] !== undefined
      ? { status: answer.status, body }
      : undefined;
  }, 30_000);
  during.dependencyUp = metricSamples((await httpGet(scorer.port, '/metrics')).text, 'churnstream_dependency_up', {
    dependency: 'registry',
  });
  // Keep it down well past the schema-id grace period.
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
  during.deadLettersWhileDown = await topicEnd(kafka, config.topics.deadLetters);
  during.waitedMs = Date.now() - downAt;
  stack('up', 'schema-registry');
  redis = new Redis(config.redisUrl);
}, 180_000);

afterAll(async () => {
  stack('up');
  await scorer?.stop();
  await redis?.quit();
});

describe('schema registry outage with a writer schema id the scorer has never seen (scorer process)', () => {
  it('reports readiness 503 waiting for the registry and churnstream_dependency_up{dependency="registry"} 0 while it is down', () => {
    expect(during.readyz?.status).toBe(503);
    expect(Object.keys(during.readyz?.body.waiting_for ?? {})).toContain('registry');
    expect(during.dependencyUp).toEqual([0]);
  });

  it('dead-letters nothing while the registry is down, even past the schema-id grace period', () => {
    expect(during.waitedMs ?? 0).toBeGreaterThan(GRACE_MS * 3);
    expect(during.deadLettersWhileDown).toBe(0);
    expect(scorer.exited()).toBe(false);
  });

  it('applies every event once the registry is back (stream equals core) with 0 dead letters', async () => {
    const outcome = await compareStreamWithCore({
      kafka,
      config,
      registry: provisioned.registry,
      riskSchema: provisioned.schemas.riskChanges,
      redis: redis as Redis,
      history,
      models: new ModelRegistry(modelsDir).loadDefaults(),
      timeoutMs: 90_000,
    });
    expect(await waitForProgress(kafka, config, history.length, 30_000)).toBe(history.length);
    const deadLetters = await topicEnd(kafka, config.topics.deadLetters);
    console.log(
      `registry outage: ${history.length - before} events with new schema id ${v2.id} produced during a ${during.waitedMs} ms outage; ${outcome.expectedRecords} risk changes, ${outcome.missing} missing, ${outcome.unexpected} unexpected, ${outcome.stateDifferences} state differences, ${deadLetters} dead letters`,
    );
    expect(outcome).toMatchObject({ missing: 0, unexpected: 0, inconsistentDuplicates: 0, stateDifferences: 0 });
    expect(deadLetters).toBe(0);
  }, 150_000);

  it('is ready again afterwards: /readyz 200 and churnstream_dependency_up{dependency="registry"} 1', async () => {
    const ready = await waitFor(async () => (await httpGet(scorer.port, '/readyz', 3000)).status === 200, 30_000);
    expect(ready).toBe(true);
    const metrics = (await httpGet(scorer.port, '/metrics')).text;
    expect(metricSamples(metrics, 'churnstream_dependency_up', { dependency: 'registry' })).toEqual([1]);
  }, 60_000);
});
