// Start-up checks, all before the scorer joins its consumer group (after the HTTP port is
// bound, app/http-listeners.ts: a member that cannot serve must not take partitions): Kafka (with the group
// coordinator), the schema registry and Redis answer within CHURNSTREAM_STARTUP_TIMEOUT_MS.
// Each failure is one line naming the setting to look at (exit 2), not a stack trace.
import { KafkaCluster } from '../adapters/kafka/cluster.js';
import { RedisIsClusterNode } from '../adapters/redis/connect.js';
import { RedisConnection } from '../adapters/redis/connection.js';
import type { Config } from './config.js';
import { type Provisioned, provision } from './setup.js';
import { UserError } from './user-error.js';

export class StartupError extends UserError {
  override readonly name = 'StartupError';
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries `attempt` with backoff until it succeeds or `ms` have passed (services started
 * together come up in any order), then fails with one line: `what` and the last reason.
 */
export async function within<T>(ms: number, what: string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown = null;
  for (let wait = 200; ; wait = Math.min(wait * 2, 2000)) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(ms / 1000)} s`)), deadline - Date.now());
    });
    try {
      return await Promise.race([attempt(), late]);
    } catch (error) {
      // A setting to fix is not waited out.
      if (error instanceof UserError) throw error;
      last = error;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() + wait >= deadline) break;
    await sleep(wait);
  }
  // The first line only: some client errors carry their stack in the message.
  throw new StartupError(`${what}: ${message(last).split('\n')[0]}`);
}

/** A Redis that answers but is not what the setting says it is: exit 2 at once. */
const settingError = (error: unknown): never => {
  if (error instanceof RedisIsClusterNode) throw new StartupError(`REDIS_URL: ${error.message}`);
  throw error;
};

export interface Dependencies {
  readonly cluster: KafkaCluster;
  readonly provisioned: Provisioned;
  readonly redis: RedisConnection;
}

export async function connectDependencies(
  config: Config,
  onRegistryRequest: Parameters<typeof provision>[1],
): Promise<Dependencies> {
  const timeoutMs = config.startupTimeoutMs;
  const cluster = new KafkaCluster(config.kafka);
  const brokers = config.kafka.brokers.join(',');
  await within(timeoutMs + 1000, `cannot reach Kafka at ${brokers} (KAFKA_BROKERS) or its group coordinator`, () =>
    cluster.ready(config.groupId, timeoutMs),
  );
  const provisioned = await within(
    timeoutMs,
    `cannot create the topics or register the schemas (SCHEMA_REGISTRY_URL=${config.schemaRegistryUrl})`,
    () => provision(config, onRegistryRequest),
  );
  const { redisCluster } = config;
  const options = { waitReplicas: config.redisWaitReplicas };
  const redis =
    redisCluster === null
      ? await within(timeoutMs, 'cannot connect to Redis (REDIS_URL)', () =>
          RedisConnection.open(config.redisUrl, config.redisTlsCaFile, options).catch(settingError),
        )
      : await within(timeoutMs, 'cannot connect to Redis Cluster (REDIS_CLUSTER_NODES)', () =>
          RedisConnection.openCluster(redisCluster, config.redisTlsCaFile, options),
        );
  await checkReplicas(redis, config.redisWaitReplicas);
  return { cluster, provisioned, redis };
}

/** A WAIT for more replicas than a primary has can never succeed: every unit would wait for good. */
async function checkReplicas(redis: RedisConnection, wanted: number): Promise<void> {
  if (wanted === 0) return;
  const fewest = await redis.fewestReplicas().catch(() => null);
  if (fewest !== null && fewest.replicas < wanted) {
    await redis.close();
    throw new StartupError(
      `REDIS_WAIT_REPLICAS=${wanted}: primary ${fewest.primary} has ${fewest.replicas} replica(s) in the cluster, so no write could ever be acknowledged`,
    );
  }
}
