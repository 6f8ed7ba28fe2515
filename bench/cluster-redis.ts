// The Redis side of the benchmarks: which Redis a run's scorers use (the stack's single Redis,
// or its Redis Cluster with --redis-cluster or when REDIS_CLUSTER_NODES is set), a dedicated
// single Redis (bench/cluster.ts: a baseline that sees no other client's commands), and what is
// read from them: INFO commandstats calls and used_memory summed over the primaries, key counts,
// key-routed commands, and the run's keys deleted afterwards.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import { KEY_LAYOUT_VERSION } from '../src/adapters/redis/keys.js';
import type { Config } from '../src/app/config.js';
import { stackEnv } from '../test/helpers/stack.js';

const root = new URL('../', import.meta.url).pathname;
const host = '127.0.0.1';
const stackClusterPorts = (stackEnv['REDIS_CLUSTER_PORTS'] ?? '').split(' ').map(Number);

export interface RedisSide {
  readonly env: Record<string, string>;
  /** For commands that name a key: routed by slot on a cluster. */
  readonly client: Redis | Cluster;
  /** Calls per command (scripts' inner calls included) and used_memory, summed over primaries. */
  sample(): Promise<{ calls: Map<string, number>; memory: number }>;
  /** used_memory summed over the primaries (each replica holds as much again). */
  memory(): Promise<number>;
  /** Keys summed over the primaries. */
  keys(): Promise<number>;
  drop(namespace: string): Promise<void>;
  close(): Promise<void>;
}

function parseCalls(info: string, into: Map<string, number>): void {
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) into.set(match[1] as string, (into.get(match[1] as string) ?? 0) + Number(match[2]));
  }
}

const usedMemory = (info: string) => Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);

async function sampleNodes(nodes: readonly Redis[]) {
  const calls = new Map<string, number>();
  let memory = 0;
  for (const node of nodes) {
    parseCalls(await node.info('commandstats'), calls);
    memory += usedMemory(await node.info('memory'));
  }
  return { calls, memory };
}

async function dropOn(node: Redis, namespace: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', `cs:${KEY_LAYOUT_VERSION}:${namespace}:*`, 'COUNT', 5000);
    cursor = next;
    // One key per UNLINK: on a cluster node the keys of one page sit in many slots.
    const pipeline = node.pipeline();
    for (const key of keys) pipeline.unlink(key);
    await pipeline.exec();
  } while (cursor !== '0');
}

/** A side over `nodes()` (the primaries, asked at each call: a failover changes them). */
function sideOf(client: Redis | Cluster, nodes: () => Redis[], env: Record<string, string>): RedisSide {
  const sum = async (each: (node: Redis) => Promise<number>) =>
    (await Promise.all(nodes().map(each))).reduce((a, b) => a + b, 0);
  return {
    env,
    client,
    sample: () => sampleNodes(nodes()),
    memory: () => sum(async (node) => usedMemory(await node.info('memory'))),
    keys: () => sum((node) => node.dbsize()),
    drop: async (namespace) => {
      for (const node of nodes()) await dropOn(node, namespace);
    },
    close: async () => {
      client.disconnect();
    },
  };
}

/** A redis-server of its own on `port`, configured as the stack's (AOF, fsync every second). */
export async function dedicatedRedis(port: number): Promise<RedisSide> {
  const dir = `${root}.stack/bench-redis-${port}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const args = ['--bind', host, '--port', String(port), '--dir', dir, '--appendonly', 'yes'];
  const answers = () => {
    try {
      execFileSync('redis-cli', ['-h', host, '-p', String(port), 'ping'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (answers()) throw new Error(`port ${port} is taken: stop that redis-server first`);
  const server: ChildProcess = spawn('redis-server', [...args, '--appendfsync', 'everysec', '--save', ''], {
    stdio: 'ignore',
  });
  for (let tries = 0; !answers(); tries += 1) {
    if (tries > 100 || server.exitCode !== null) throw new Error(`redis-server on ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const redis = new Redis({ host, port });
  const side = sideOf(redis, () => [redis], { REDIS_URL: `redis://${host}:${port}`, REDIS_CLUSTER_NODES: '' });
  return {
    ...side,
    close: async () => {
      await side.close();
      if (server.exitCode === null) {
        const gone = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function clusterSide(
  nodes: readonly { host: string; port: number }[],
  env: Record<string, string>,
  credentials: { username?: string; password?: string } = {},
): Promise<RedisSide> {
  const cluster = new Cluster([...nodes], {
    scaleReads: 'master',
    retryDelayOnClusterDown: 300,
    redisOptions: credentials,
  });
  await cluster.ping();
  return sideOf(cluster, () => cluster.nodes('master'), env);
}

/** The stack's Redis Cluster (started if need be), seen through its primaries. */
export async function stackCluster(
  ports: readonly number[] = stackClusterPorts,
  extraEnv: Record<string, string> = {},
): Promise<RedisSide> {
  execFileSync('bash', [`${root}scripts/stack.sh`, 'up', 'redis-cluster'], { stdio: 'ignore' });
  const seeds = ports.map((port) => ({ host, port }));
  const env = { REDIS_URL: '', REDIS_CLUSTER_NODES: seeds.map((n) => `${n.host}:${n.port}`).join(','), ...extraEnv };
  return clusterSide(seeds, env);
}

/**
 * Settings that point a benchmark's scorers at the Redis it should measure: with `--redis-cluster`
 * the stack's Redis Cluster (started if need be); REDIS_CLUSTER_NODES already in the environment
 * is used as it is (another cluster); otherwise nothing changes (REDIS_URL, the stack's single Redis).
 */
export function redisTarget(cluster: boolean): Record<string, string> {
  if ((process.env['REDIS_CLUSTER_NODES'] ?? '') !== '') return { REDIS_URL: '' };
  if (!cluster) return {};
  execFileSync('bash', [`${root}scripts/stack.sh`, 'up', 'redis-cluster'], { stdio: 'ignore' });
  return { REDIS_URL: '', REDIS_CLUSTER_NODES: stackClusterPorts.map((port) => `${host}:${port}`).join(',') };
}

/** One line for a report: which Redis the run used. */
export const describeRedis = (config: Config): string =>
  config.redisCluster === null
    ? 'a single Redis (REDIS_URL)'
    : `Redis Cluster (REDIS_CLUSTER_NODES=${config.redisCluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')}${config.redisWaitReplicas > 0 ? `, REDIS_WAIT_REPLICAS=${config.redisWaitReplicas}` : ''}; memory and keys summed over the primaries)`;

/** The Redis a run's config points at (single or cluster), for memory, keys and clean-up. */
export async function sideFor(config: Config): Promise<RedisSide> {
  if (config.redisCluster === null) {
    const redis = new Redis(config.redisUrl);
    return sideOf(redis, () => [redis], {});
  }
  const { nodes, username, password } = config.redisCluster;
  return clusterSide(
    nodes,
    {},
    {
      ...(username === null ? {} : { username }),
      ...(password === null ? {} : { password }),
    },
  );
}
