// Redis outages with traffic flowing, `churnstream run` as its own process.
//  - Redis stopped (`scripts/stack.sh down redis`): /metrics still answers 200 within 5 s
//    with the Kafka-side series (consumed, dead letters) and marks the Redis-backed ones
//    stale (churnstream_series_stale{source="redis"} 1); /customers/<id> answers 503 with
//    a JSON error within 2 s; after `up redis` no event is lost (stream equals core) and
//    /readyz is 200.
//  - Redis hung (SIGSTOP of redis-server for 8 s, longer than the client's 5 s command
//    timeout, then SIGCONT): /customers/<id> still answers 503 within 2 s (its read has a
//    1 s deadline, not the 5 s command timeout), and nothing is lost.
//  - SIGTERM while Redis is down and a unit waits for it: the process exits 0 within 20 s
//    (the unit is let go, its offsets not committed), and the next process loses nothing.
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { toOrderEventRecord } from '../../src/adapters/registry/order-event-codec.js';
import { CUSTOMER_READ_TIMEOUT_MS } from '../../src/app/http-routes.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { compareStreamWithCore, partitionOf } from '../helpers/scorer.js';
import { configOf, processEnv, waitForProgress } from '../helpers/scorer-process.js';
import {
  freePort,
  type HttpAnswer,
  httpGet,
  metricSamples,
  produceTracked,
  redisPid,
  type ScorerChild,
  sleep,
  spawnScorer,
  stack,
  waitFor,
  waitUntilReady,
} from '../helpers/stack-control.js';

const PARTITIONS = 3;
/** A customer request during an outage answers within its read deadline plus this much. */
const ANSWER_SLACK_MS = 1000;
const modelsDir = new URL('../../models/', import.meta.url).pathname;

/** One scorer process on its own topics, with a history to replay around a fault. */
function scenario(label: string, seed: number) {
  const env: Record<string, string> = {
    ...processEnv(label),
    CHURNSTREAM_PARTITIONS: String(PARTITIONS),
    CHURNSTREAM_MODELS_DIR: modelsDir,
  };
  const config = configOf(env);
  const history = generateDemoHistory({ seed, customers: 200, start: Date.UTC(2024, 0, 1), days: 360 });
  return { env, config, history, kafka: createKafka(config.kafka) };
}

type Scenario = ReturnType<typeof scenario>;

const toMessages = (provisioned: Provisioned, events: readonly OrderEvent[]) =>
  events.map((e) => ({
    key: e.customerId,
    value: provisioned.registry.encode(provisioned.schemas.orders, toOrderEventRecord(e)),
    partition: partitionOf(e.customerId, PARTITIONS),
  }));

/** Produces `events` as steady traffic: a small request every `everyMs`. */
async function trickle(
  kafka: Kafka,
  topic: string,
  provisioned: Provisioned,
  events: readonly OrderEvent[],
  everyMs = 250,
) {
  for (let i = 0; i < events.length; i += 25) {
    await produceTracked(kafka, topic, toMessages(provisioned, events.slice(i, i + 25)));
    await sleep(everyMs);
  }
}

async function compare(s: Scenario, provisioned: Provisioned) {
  const redis = new Redis(s.config.redisUrl);
  try {
    return await compareStreamWithCore({
      kafka: s.kafka,
      config: s.config,
      registry: provisioned.registry,
      riskSchema: provisioned.schemas.riskChanges,
      redis,
      history: s.history,
      models: new ModelRegistry(modelsDir).loadDefaults(),
      timeoutMs: 120_000,
    });
  } finally {
    await redis.quit();
  }
}

let hung: number | null = null;

/** A customer request during an outage: 503 with a JSON error naming Redis, within its deadline plus slack. */
function expectUnavailable(label: string, customerId: string, customer: HttpAnswer | Error) {
  expect(customer).not.toBeInstanceOf(Error);
  const answer = customer as HttpAnswer;
  console.log(`${label}: /customers/${customerId} ${answer.status} in ${Math.round(answer.ms)} ms: ${answer.text}`);
  expect(answer.status).toBe(503);
  expect(answer.contentType).toContain('application/json');
  const body = JSON.parse(answer.text) as { error?: unknown };
  expect(typeof body.error).toBe('string');
  expect(body.error).toMatch(/redis/i);
  expect(answer.ms).toBeLessThan(CUSTOMER_READ_TIMEOUT_MS + ANSWER_SLACK_MS);
}

afterAll(() => {
  // Whatever happened, Redis runs again and the whole stack is up for the next test.
  if (hung !== null) process.kill(hung, 'SIGCONT');
  stack('up');
});

describe('Redis stopped while traffic flows (`stack.sh down redis`, then `up redis`)', () => {
  const s = scenario('redis-down', 61);
  const first = Math.floor(s.history.length * 0.4);
  let provisioned: Provisioned;
  let scorer: ScorerChild;
  let traffic: Promise<void>;
  let baseline: HttpAnswer;
  let firstScrape: HttpAnswer | Error;
  let secondScrape: HttpAnswer | Error;
  let customer: HttpAnswer | Error;
  const customerId = s.history[0]?.customerId ?? '';

  beforeAll(async () => {
    s.env['CHURNSTREAM_HTTP_PORT'] = String(await freePort());
    provisioned = await provision(s.config);
    scorer = spawnScorer(s.env);
    expect(await waitUntilReady(scorer)).toBe(true);
    // History up to here, and one bad record, so the dead-letter series exists.
    await produceTracked(s.kafka, s.config.topics.orders, [
      ...toMessages(provisioned, s.history.slice(0, first)),
      { key: 'not-avro', value: Buffer.from('not avro'), partition: 0 },
    ]);
    expect(await waitForProgress(s.kafka, s.config, first + 1, 60_000)).toBe(first + 1);
    // Two scrapes with Redis up: every series is there and nothing is stale.
    await httpGet(scorer.port, '/metrics');
    baseline = await httpGet(scorer.port, '/metrics');
    expect((await httpGet(scorer.port, `/customers/${customerId}`)).status).toBe(200);

    traffic = trickle(s.kafka, s.config.topics.orders, provisioned, s.history.slice(first));
    await sleep(1000);
    stack('down', 'redis');
    firstScrape = await httpGet(scorer.port, '/metrics', 5000).catch((error: Error) => error);
    customer = await httpGet(scorer.port, `/customers/${customerId}`, 10_000).catch((error: Error) => error);
    await sleep(2000);
    secondScrape = await httpGet(scorer.port, '/metrics', 5000).catch((error: Error) => error);
    await sleep(2000);
    stack('up', 'redis');
    await traffic;
  }, 180_000);

  afterAll(async () => {
    await scorer?.stop();
  });

  it('answers /metrics with 200 within 5 s, still carrying the consumed and dead-letter series', () => {
    expect(metricSamples(baseline.text, 'churnstream_series_stale', { source: 'redis' })).toEqual([0]);
    expect(firstScrape).not.toBeInstanceOf(Error);
    const scrape = firstScrape as HttpAnswer;
    console.log(
      `redis down: first /metrics ${scrape.status} in ${Math.round(scrape.ms)} ms; second: ${secondScrape instanceof Error ? secondScrape.message : `${secondScrape.status} in ${Math.round(secondScrape.ms)} ms`}`,
    );
    expect(scrape.status).toBe(200);
    expect(scrape.ms).toBeLessThan(5000);
    expect(metricSamples(scrape.text, 'churnstream_events_consumed_total').length).toBeGreaterThan(0);
    expect(metricSamples(scrape.text, 'churnstream_dead_letters_total', { reason: 'bad_magic_byte' })).toEqual([1]);
  });

  it('marks the Redis-backed series stale on a scrape during the outage: churnstream_series_stale{source="redis"} 1', () => {
    const stale = (answer: HttpAnswer | Error) =>
      answer instanceof Error
        ? answer.message
        : metricSamples(answer.text, 'churnstream_series_stale', { source: 'redis' });
    console.log(
      `redis down: churnstream_series_stale{source="redis"} on the first scrape ${JSON.stringify(stale(firstScrape))}, on the second ${JSON.stringify(stale(secondScrape))}`,
    );
    // That scrape did leave the Redis-backed series out (the timer backlog was there before)...
    const backlog = (answer: HttpAnswer | Error) =>
      answer instanceof Error ? [] : metricSamples(answer.text, 'churnstream_timer_backlog');
    expect(backlog(baseline).length).toBeGreaterThan(0);
    expect(backlog(firstScrape)).toEqual([]);
    // ...so it must say so itself, not only the scrape after it.
    expect(stale(firstScrape)).toEqual([1]);
    expect(stale(secondScrape)).toEqual([1]);
  });

  it('answers /customers/<id> with 503 and a JSON error within 2 s while Redis is down', () => {
    expectUnavailable('redis down', customerId, customer);
  });

  it('loses no event across the outage (stream equals core) and /readyz is 200 again after `up redis`', async () => {
    const outcome = await compare(s, provisioned);
    console.log(
      `redis down/up: ${s.history.length} events, ${outcome.expectedRecords} risk changes, ${outcome.missing} missing, ${outcome.unexpected} unexpected, ${outcome.duplicates} duplicates, ${outcome.stateDifferences} state differences`,
    );
    expect(outcome).toMatchObject({ missing: 0, unexpected: 0, inconsistentDuplicates: 0, stateDifferences: 0 });
    let last: HttpAnswer | undefined;
    const ready = await waitFor(async () => {
      last = await httpGet(scorer.port, '/readyz', 3000);
      return last.status === 200;
    }, 30_000);
    if (ready !== true) console.log(`redis down/up: /readyz still ${last?.status}: ${last?.text}`);
    expect(ready).toBe(true);
    expect(scorer.exited()).toBe(false);
  }, 180_000);
});

describe('Redis hung (SIGSTOP of redis-server for 8 s, then SIGCONT)', () => {
  const s = scenario('redis-hang', 62);
  const first = Math.floor(s.history.length * 0.4);
  let provisioned: Provisioned;
  let scorer: ScorerChild;
  let duringHang: HttpAnswer | Error;
  let customerDuringHang: HttpAnswer | Error;
  const customerId = s.history[0]?.customerId ?? '';

  beforeAll(async () => {
    s.env['CHURNSTREAM_HTTP_PORT'] = String(await freePort());
    provisioned = await provision(s.config);
    scorer = spawnScorer(s.env);
    expect(await waitUntilReady(scorer)).toBe(true);
    await produceTracked(s.kafka, s.config.topics.orders, toMessages(provisioned, s.history.slice(0, first)));
    expect(await waitForProgress(s.kafka, s.config, first, 60_000)).toBe(first);
    const traffic = trickle(s.kafka, s.config.topics.orders, provisioned, s.history.slice(first));
    await sleep(1000);
    const pid = redisPid();
    process.kill(pid, 'SIGSTOP');
    hung = pid;
    const stoppedAt = Date.now();
    try {
      await sleep(3000);
      duringHang = await httpGet(scorer.port, '/metrics', 5000).catch((error: Error) => error);
      // Still well inside the hang: without its own deadline the read would wait 5 s.
      customerDuringHang = await httpGet(scorer.port, `/customers/${customerId}`, 10_000).catch(
        (error: Error) => error,
      );
      await sleep(Math.max(0, 8000 - (Date.now() - stoppedAt)));
    } finally {
      process.kill(pid, 'SIGCONT');
      hung = null;
    }
    await traffic;
  }, 180_000);

  afterAll(async () => {
    await scorer?.stop();
  });

  it('keeps /metrics answering 200 within 5 s while Redis hangs', () => {
    expect(duringHang).not.toBeInstanceOf(Error);
    expect((duringHang as HttpAnswer).status).toBe(200);
    expect((duringHang as HttpAnswer).ms).toBeLessThan(5000);
  });

  it('answers /customers/<id> with 503 and a JSON error within 2 s while Redis hangs', () => {
    expectUnavailable('redis hang', customerId, customerDuringHang);
  });

  it('loses nothing (stream equals core) once Redis continues', async () => {
    const outcome = await compare(s, provisioned);
    console.log(
      `redis hang: ${s.history.length} events, ${outcome.expectedRecords} risk changes, ${outcome.missing} missing, ${outcome.unexpected} unexpected, ${outcome.duplicates} duplicates, ${outcome.stateDifferences} state differences`,
    );
    expect(outcome).toMatchObject({ missing: 0, unexpected: 0, inconsistentDuplicates: 0, stateDifferences: 0 });
    expect(scorer.exited()).toBe(false);
  }, 180_000);
});

describe('SIGTERM while Redis is down and a unit waits for it', () => {
  const s = scenario('redis-down-stop', 63);
  const first = Math.floor(s.history.length * 0.4);

  it('exits 0 within 20 s (the waiting unit is let go, uncommitted), and a new process then loses nothing', async () => {
    s.env['CHURNSTREAM_HTTP_PORT'] = String(await freePort());
    const provisioned = await provision(s.config);
    const scorer = spawnScorer(s.env);
    let restarted: ScorerChild | null = null;
    try {
      expect(await waitUntilReady(scorer)).toBe(true);
      await produceTracked(s.kafka, s.config.topics.orders, toMessages(provisioned, s.history.slice(0, first)));
      expect(await waitForProgress(s.kafka, s.config, first, 60_000)).toBe(first);
      stack('down', 'redis');
      // Traffic arrives while Redis is gone: its unit waits for Redis, holding its partitions.
      await produceTracked(s.kafka, s.config.topics.orders, toMessages(provisioned, s.history.slice(first)));
      const waiting = await waitFor(async () => {
        const text = (await httpGet(scorer.port, '/metrics', 5000)).text;
        return metricSamples(text, 'churnstream_dependency_up', { dependency: 'redis' }).includes(0);
      }, 30_000);
      expect(waiting).toBe(true);
      const signalled = performance.now();
      scorer.proc.kill('SIGTERM');
      const exit = await Promise.race([scorer.exit, sleep(20_000).then(() => null)]);
      console.log(
        `SIGTERM while waiting for redis: ${exit === null ? 'still running after 20 s' : `exit ${exit.code} in ${Math.round(performance.now() - signalled)} ms`}`,
      );
      if (exit === null) console.log(scorer.stderr().slice(-6000));
      expect(exit?.code).toBe(0);
      stack('up', 'redis');
      // What was let go is redelivered to the next process: nothing is lost.
      restarted = spawnScorer(s.env);
      expect(await waitUntilReady(restarted)).toBe(true);
      expect(await waitForProgress(s.kafka, s.config, s.history.length, 90_000)).toBe(s.history.length);
      const outcome = await compare(s, provisioned);
      expect(outcome).toMatchObject({ missing: 0, unexpected: 0, inconsistentDuplicates: 0, stateDifferences: 0 });
    } finally {
      stack('up', 'redis');
      await scorer.stop();
      await restarted?.stop();
    }
  }, 240_000);
});
