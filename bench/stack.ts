// What the benchmarks do to the stack itself: clean up after an isolated run and read Redis's
// memory. Kept apart from machine.ts so the benchmarks that touch no stack (model runtime,
// features) do not load ioredis and kafkajs: under tsx, loading CommonJS dependencies detaches
// an ArrayBuffer, and V8 then checks every typed-array access of the process, which would slow
// the code those benchmarks measure.
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { KEY_LAYOUT_VERSION } from '../src/adapters/redis/keys.js';
import type { Config } from '../src/app/config.js';

/**
 * Deletes what an isolated run left behind: its Redis namespace and its topics. Without
 * this every run leaves its customers in Redis, the next runs measure a larger Redis (its
 * append-only-file rewrites fork a bigger process: stalls of 100+ ms mid-run), and the
 * order of scenarios changes their results.
 */
export async function dropRun(config: Config, kafka: Kafka): Promise<void> {
  const redis = new Redis(config.redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `cs:${KEY_LAYOUT_VERSION}:${config.redisNamespace}:*`,
      'COUNT',
      5000,
    );
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  await redis.quit();
  const admin = kafka.admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  const topics = [config.topics.orders, config.topics.riskChanges, config.topics.deadLetters].filter((t) =>
    existing.has(t),
  );
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
}

/** Redis's used_memory in bytes (INFO memory). */
export async function usedMemory(redis: Redis): Promise<number> {
  return Number((await redis.info('memory')).match(/used_memory:(\d+)/)?.[1] ?? 0);
}
