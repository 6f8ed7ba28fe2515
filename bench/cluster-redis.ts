// The Redis side of the cluster benchmark (bench/cluster.ts): a dedicated single Redis (so
// the baseline sees no other client's commands), the stack's Redis Cluster, and what is
// read from them: INFO commandstats calls and used_memory summed over the primaries, and
// the run's keys deleted afterwards.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import { KEY_LAYOUT_VERSION } from '../src/adapters/redis/keys.js';

const root = new URL('../', import.meta.url).pathname;
const host = '127.0.0.1';

export interface RedisSide {
  readonly env: Record<string, string>;
  /** Calls per command (scripts' inner calls included) and used_memory, summed over primaries. */
  sample(): Promise<{ calls: Map<string, number>; memory: number }>;
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
  return {
    env: { REDIS_URL: `redis://${host}:${port}`, REDIS_CLUSTER_NODES: '' },
    sample: () => sampleNodes([redis]),
    drop: (namespace) => dropOn(redis, namespace),
    close: async () => {
      redis.disconnect();
      if (server.exitCode === null) {
        const gone = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The stack's Redis Cluster (started if need be), seen through its primaries. */
export async function stackCluster(
  ports: readonly number[],
  extraEnv: Record<string, string> = {},
): Promise<RedisSide> {
  execFileSync('bash', [`${root}scripts/stack.sh`, 'up', 'redis-cluster'], { stdio: 'ignore' });
  const cluster = new Cluster(ports.map((port) => ({ host, port })));
  await cluster.ping();
  return {
    env: { REDIS_URL: '', REDIS_CLUSTER_NODES: ports.map((p) => `${host}:${p}`).join(','), ...extraEnv },
    sample: () => sampleNodes(cluster.nodes('master')),
    drop: async (namespace) => {
      for (const node of cluster.nodes('master')) await dropOn(node, namespace);
    },
    close: async () => {
      cluster.disconnect();
    },
  };
}
