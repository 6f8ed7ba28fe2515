// What the benchmarks do to the stack itself: clean up after an isolated run. Kept apart from
// machine.ts so the benchmarks that touch no stack (model runtime, features) do not load ioredis
// and kafkajs: under tsx, loading CommonJS dependencies detaches an ArrayBuffer, and V8 then
// checks every typed-array access of the process, which would slow the code those benchmarks
// measure. Which Redis a run uses, and what is read from it: cluster-redis.ts.
import type { Kafka } from 'kafkajs';
import type { Config } from '../src/app/config.js';
import { sideFor } from './cluster-redis.js';

/**
 * Deletes what an isolated run left behind: its Redis namespace (on the single Redis or on
 * every primary of the cluster its config names) and its topics. Without this every run leaves
 * its customers in Redis, the next runs measure a larger Redis (its append-only-file rewrites
 * fork a bigger process: stalls of 100+ ms mid-run), and the order of scenarios changes their results.
 */
export async function dropRun(config: Config, kafka: Kafka): Promise<void> {
  const redis = await sideFor(config);
  await redis.drop(config.redisNamespace);
  await redis.close();
  const admin = kafka.admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  const topics = [config.topics.orders, config.topics.riskChanges, config.topics.deadLetters].filter((t) =>
    existing.has(t),
  );
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
}
