// A Redis connection as the app sees it: the ioredis client (with the Lua scripts defined
// on it) is kept here, and the app gets the stores it needs, a ping and a close. So no
// ioredis type reaches the app layer. One Redis endpoint or a Redis Cluster: the stores are
// the same (they group by slot where a cluster needs it, client.ts and scripts.ts).
import type { Cluster, Redis } from 'ioredis';
import type { ScriptedCluster } from './client.js';
import { RedisComparisonStore } from './comparison-store.js';
import { openRedis } from './connect.js';
import { type ClusterTarget, openCluster } from './connect-cluster.js';
import { RedisDecidedByStore } from './decided-by-store.js';
import { redisKeys } from './keys.js';
import { RedisModelHealthStore } from './model-health-store.js';
import { RedisRolloutStore } from './rollout-store.js';
import { defineScripts, type ScriptedRedis } from './scripts.js';
import { RedisStateStore } from './state-store.js';
import { RedisTimerIndex } from './timer-index.js';
import { RedisWatermarkStore } from './watermark-store.js';

export interface ConnectionOptions {
  /**
   * State and timer writes return only once this many replicas hold them (WAIT), so a
   * failover cannot lose a write whose input offsets were committed. 0: asynchronous.
   */
  readonly waitReplicas?: number;
}

export class RedisConnection {
  private readonly redis: ScriptedRedis;
  private readonly replicas: number;

  private constructor(redis: Redis | Cluster, options: ConnectionOptions) {
    this.redis = defineScripts(redis);
    this.replicas = options.waitReplicas ?? 0;
  }

  /** Connects, or fails with the server's reason (see connect.ts). */
  static async open(url: string, tlsCaFile: string | null, options: ConnectionOptions = {}): Promise<RedisConnection> {
    return new RedisConnection(await openRedis(url, tlsCaFile), options);
  }

  /** Connects to a Redis Cluster (slots loaded), or fails with a node's reason (connect-cluster.ts). */
  static async openCluster(
    target: ClusterTarget,
    tlsCaFile: string | null,
    options: ConnectionOptions = {},
  ): Promise<RedisConnection> {
    return new RedisConnection(await openCluster(target, tlsCaFile), options);
  }

  /** The scorer's stores under one key namespace. */
  stores(namespace: string, stateTtlSeconds: number) {
    const keys = redisKeys(namespace);
    return {
      state: new RedisStateStore(this.redis, keys, stateTtlSeconds, this.replicas),
      timers: new RedisTimerIndex(this.redis, keys, this.replicas),
      health: new RedisModelHealthStore(this.redis, keys),
      watermarks: new RedisWatermarkStore(this.redis, keys),
      comparisons: new RedisComparisonStore(this.redis, keys),
      rollout: new RedisRolloutStore(this.redis, keys),
      decidedBy: new RedisDecidedByStore(this.redis, keys),
    };
  }

  /** Connection errors between commands (ioredis reconnects by itself). */
  onError(listener: (error: Error) => void): void {
    this.redis.on('error', listener);
    // A cluster reports each node's connection errors apart (a failed-over primary).
    if (this.redis.isCluster) this.redis.on('node error', listener);
  }

  /**
   * The fewest replicas any primary of a cluster is configured with (CLUSTER NODES: failed
   * replicas count, they come back), with that primary's address; null for one endpoint.
   */
  async fewestReplicas(): Promise<{ primary: string; replicas: number } | null> {
    if (!this.redis.isCluster) return null;
    const [node] = (this.redis as ScriptedCluster).nodes('master');
    if (node === undefined) return null;
    const text = String(await node.call('CLUSTER', 'NODES'));
    const lines = text
      .split('\n')
      .map((line) => line.trim().split(' '))
      .filter((f) => f.length >= 8);
    const primaries = lines.filter((f) => f[2]?.split(',').includes('master') && (f[8] ?? '') !== '');
    const replicasOf = (id: string) => lines.filter((f) => f[3] === id).length;
    let fewest: { primary: string; replicas: number } | null = null;
    for (const f of primaries) {
      const replicas = replicasOf(f[0] as string);
      if (fewest === null || replicas < fewest.replicas)
        fewest = { primary: (f[1] ?? '').split('@')[0] as string, replicas };
    }
    return fewest;
  }

  /** Answers within 500 ms (a health probe must not wait out a hanging Redis). */
  ping(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 500);
    });
    const answer = this.redis.ping().then(
      () => true,
      () => false,
    );
    return Promise.race([answer, late]).finally(() => clearTimeout(timer));
  }

  /** QUIT when Redis answers; otherwise drop the connection (QUIT would wait for Redis to return). */
  async close(): Promise<void> {
    if (this.redis.status !== 'ready') {
      this.redis.disconnect();
      return;
    }
    const quit = this.redis.quit().then(() => undefined);
    const late = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
    await Promise.race([quit.catch(() => undefined), late]);
    this.redis.disconnect();
  }
}
