// `churnstream demo`: the end-to-end path that exists today. Provisions topics and
// schemas, produces a seeded synthetic order history as Avro (Confluent wire format,
// keyed by customer), consumes it back through the consumer group, decodes every
// record through the registry, and keeps a fenced per-customer tally in Redis with
// the apply-state script. The full scorer replaces the tally as it lands.
import cliProgress from 'cli-progress';
import { Redis } from 'ioredis';
import type { EachBatchPayload } from 'kafkajs';
import { createIdempotentProducer, createKafka } from '../adapters/kafka/client.js';
import { redisKeys } from '../adapters/redis/keys.js';

const customerStateKey = redisKeys('demo-tally').customerState;

import { defineScripts, toApplyStateOutcome } from '../adapters/redis/scripts.js';
import {
  fromOrderEventRecord,
  type OrderEventRecord,
  toOrderEventRecord,
} from '../adapters/registry/order-event-codec.js';
import { generateDemoHistory } from '../core/demo/generator.js';
import type { OrderEvent } from '../core/events/order-event.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { provision } from './setup.js';

export interface DemoRunOptions {
  readonly customers: number;
  readonly days: number;
  readonly seed: number;
  readonly progress: boolean;
}

export interface DemoSummary {
  readonly produced: number;
  readonly consumed: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly undecodable: number;
  readonly customers: number;
  readonly stateWrites: number;
  readonly produceSeconds: number;
  readonly consumeSeconds: number;
}

interface Tally {
  readonly orders: number;
  readonly refunds: number;
  readonly spend: number;
}

const emptyTally = (): Tally => ({ orders: 0, refunds: 0, spend: 0 });

function foldTally(tally: Tally, events: readonly OrderEvent[]): Tally {
  let { orders, refunds, spend } = tally;
  for (const event of events) {
    if (event.type === 'order') {
      orders += 1;
      spend += event.amount;
    } else {
      refunds += 1;
    }
  }
  return { orders, refunds, spend };
}

export async function runDemo(config: Config, options: DemoRunOptions, log: Logger): Promise<DemoSummary> {
  const { registry, schemas } = await provision(config);
  log.info(
    { orders: schemas.orders.id, riskChanges: schemas.riskChanges.id, deadLetters: schemas.deadLetters.id },
    'schemas registered',
  );

  const history = generateDemoHistory({
    seed: options.seed,
    customers: options.customers,
    start: Date.UTC(2024, 0, 1),
    days: options.days,
  });

  const kafka = createKafka(config.kafka, {}, (level, message, fields) => log[level](fields, message));
  const bar = options.progress
    ? new cliProgress.SingleBar(
        { format: '{phase} [{bar}] {value}/{total} events | {rate} ev/s', hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;

  // ---- produce
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const produceStart = performance.now();
  bar?.start(history.length, 0, { phase: 'produce', rate: 0 });
  for (let i = 0; i < history.length; i += 1000) {
    const chunk = history.slice(i, i + 1000);
    await producer.send({
      topic: config.topics.orders,
      acks: -1,
      messages: chunk.map((event) => ({
        key: event.customerId,
        value: registry.encode(schemas.orders, toOrderEventRecord(event)),
        timestamp: String(event.eventTime),
      })),
    });
    const done = i + chunk.length;
    bar?.update(done, { phase: 'produce', rate: Math.round(done / ((performance.now() - produceStart) / 1000)) });
  }
  const produceSeconds = (performance.now() - produceStart) / 1000;
  await producer.disconnect();

  // ---- consume until the group has caught up with the end offsets seen now
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(config.topics.orders)).map((p) => [p.partition, BigInt(p.high)]));
  await admin.disconnect();

  const redis = defineScripts(new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 }));
  await redis.connect();
  const tallies = new Map<string, Tally>();
  const byType: Record<string, number> = {};
  let consumed = 0;
  let undecodable = 0;
  let stateWrites = 0;
  const positions = new Map<number, bigint>();
  const caughtUp = () => [...ends].every(([partition, end]) => (positions.get(partition) ?? 0n) >= end);

  const consumer = kafka.consumer({
    groupId: `${config.groupId}-demo`,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: config.topics.orders, fromBeginning: true });
  const consumeStart = performance.now();
  bar?.start(history.length, 0, { phase: 'consume', rate: 0 });

  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }: EachBatchPayload) => {
      const perCustomer = new Map<string, { events: OrderEvent[]; offset: string }>();
      for (const message of batch.messages) {
        const decoded = await registry.decode<OrderEventRecord>(message.value, schemas.orders);
        consumed += 1;
        if (!decoded.ok) {
          undecodable += 1;
          log.warn(
            { partition: batch.partition, offset: message.offset, errorClass: decoded.errorClass },
            decoded.reason,
          );
          continue;
        }
        const event = fromOrderEventRecord(decoded.value);
        byType[event.type] = (byType[event.type] ?? 0) + 1;
        const entry = perCustomer.get(event.customerId) ?? { events: [], offset: message.offset };
        entry.events.push(event);
        entry.offset = message.offset;
        perCustomer.set(event.customerId, entry);
      }
      // Read every touched customer's state in one pipeline, fold the batch in, then
      // write each with one fenced compare-and-set; a conflict re-reads and retries.
      let pending = [...perCustomer.keys()];
      while (pending.length > 0) {
        const reads = redis.pipeline();
        for (const customerId of pending) reads.hmget(customerStateKey(customerId), 'ver', 'state');
        const stored = (await reads.exec()) ?? [];
        const outcomes = await Promise.all(
          pending.map((customerId, index) => {
            const [version, state] = (stored[index]?.[1] as [string | null, string | null] | undefined) ?? [null, null];
            const tally = foldTally(
              state === null ? emptyTally() : (JSON.parse(state) as Tally),
              perCustomer.get(customerId)?.events ?? [],
            );
            tallies.set(customerId, tally);
            const source = perCustomer.get(customerId);
            return redis
              .applyState(
                customerStateKey(customerId),
                Number(version ?? 0),
                batch.partition,
                source?.offset ?? '0',
                JSON.stringify(tally),
                '',
                0,
              )
              .then(toApplyStateOutcome);
          }),
        );
        stateWrites += outcomes.filter((outcome) => outcome.kind === 'applied').length;
        pending = pending.filter((_, index) => outcomes[index]?.kind === 'version_conflict');
      }
      const last = batch.messages.at(-1);
      if (last !== undefined) {
        resolveOffset(last.offset);
        positions.set(batch.partition, BigInt(last.offset) + 1n);
      }
      await commitOffsetsIfNecessary();
      await heartbeat();
      bar?.update(consumed, {
        phase: 'consume',
        rate: Math.round(consumed / ((performance.now() - consumeStart) / 1000)),
      });
      if (caughtUp()) finish();
    },
  });
  if (!caughtUp()) await finished;
  const consumeSeconds = (performance.now() - consumeStart) / 1000;
  bar?.stop();
  await consumer.commitOffsets(
    [...positions].map(([partition, offset]) => ({ topic: config.topics.orders, partition, offset: String(offset) })),
  );
  await consumer.disconnect();
  await redis.quit();

  return {
    produced: history.length,
    consumed,
    byType,
    undecodable,
    customers: tallies.size,
    stateWrites,
    produceSeconds,
    consumeSeconds,
  };
}
