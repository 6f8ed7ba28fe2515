// The ioredis client behind the stores: one Redis endpoint or a Redis Cluster, both with
// the Lua scripts defined on them (scripts.ts). The stores send independent commands
// through `sendAll`, because a cluster pipeline must stay on one node: on a single Redis
// it is one explicit pipeline, on a cluster each command goes on its own and ioredis
// auto-pipelines them per node (the first argument, the key, routes each one).
import type { Cluster, Redis } from 'ioredis';

/** numKeys, then the keys, then six arguments per key (apply-state-n.lua). */
type ApplyStates = (numKeys: number, ...keysThenArgs: (string | number | Buffer)[]) => Promise<number[]>;

export interface ScriptedSingle extends Redis {
  applyStates: ApplyStates;
}

export interface ScriptedCluster extends Cluster {
  applyStates: ApplyStates;
}

/** Either client; `isCluster` tells them apart (ioredis sets it on both). */
export type ScriptedRedis = ScriptedSingle | ScriptedCluster;

/** Commands the stores send in batches; each takes its key first. */
type BatchMethod = 'hmgetBuffer' | 'zadd' | 'zrem' | 'hincrby' | 'hincrbyfloat' | 'lpush' | 'ltrim' | 'pfadd';
export type BatchCall = readonly [method: BatchMethod, key: string, ...args: (string | number | Buffer)[]];

/** Sends independent commands together; replies in order; fails with the first error. */
export async function sendAll(redis: ScriptedRedis, calls: readonly BatchCall[]): Promise<unknown[]> {
  if (calls.length === 0) return [];
  if (!redis.isCluster) {
    const replies = (await (redis as ScriptedSingle).pipeline(calls.map((call) => [...call])).exec()) ?? [];
    if (replies.length !== calls.length) throw new Error(`pipeline answered ${replies.length} of ${calls.length}`);
    return replies.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
  }
  const client = redis as unknown as Record<BatchMethod, (...args: unknown[]) => Promise<unknown>>;
  try {
    return await Promise.all(calls.map(([method, ...args]) => client[method].apply(redis, args)));
  } catch (error) {
    refreshSlotsOnRedirect(redis as ScriptedCluster, error);
    throw error;
  }
}

/**
 * ioredis follows a MOVED inside an auto-pipeline only when every command of it got the same
 * answer; after a failover the commands of many slots all come back MOVED and fail, and the
 * slot map is not refreshed, so the retry would hit the old node again. Refresh it here.
 */
function refreshSlotsOnRedirect(cluster: ScriptedCluster, error: unknown): void {
  const message = error instanceof Error ? error.message : '';
  if (/^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN)\b|WAIT cannot be used with replica/.test(message)) cluster.refreshSlotsCache();
}

/** How long WAIT waits for replicas before the write counts as failed (and is retried). */
const WAIT_TIMEOUT_MS = 2000;

/** Connections made per node object: ioredis emits `ready` on every (re)connection. */
const connections = new WeakMap<Redis, { count: number }>();

function connectionsOf(node: Redis): number {
  let seen = connections.get(node);
  if (seen === undefined) {
    const counter = { count: 0 };
    seen = counter;
    connections.set(node, counter);
    node.on('ready', () => {
      counter.count += 1;
    });
  }
  return seen.count;
}

const primariesOf = (redis: ScriptedRedis): Redis[] =>
  redis.isCluster ? (redis as ScriptedCluster).nodes('master') : [redis as ScriptedSingle];

/** What `replicationFence` found: the writes since it was taken are not known to be replicated. */
export class ReplicationUnknown extends Error {}

/**
 * Taken before a chunk's writes; `confirm()` after them returns once `replicas` replicas
 * acknowledged them (WAIT on each primary's connection) and fails otherwise, so the caller
 * retries before its input offsets are committed. WAIT only covers writes made on the same
 * connection: a primary that reconnected in between (killed, restarted, failed over) or a set
 * of primaries that changed would answer for nothing of ours, so that fails too (transient,
 * retried). 0 replicas: confirms at once (asynchronous replication, docs/OPERATIONS.md).
 */
export function replicationFence(redis: ScriptedRedis, replicas: number): { confirm(): Promise<void> } {
  if (replicas === 0) return { confirm: async () => undefined };
  const before = new Map(primariesOf(redis).map((node) => [node, connectionsOf(node)]));
  return {
    async confirm() {
      await waitForReplicas(redis, replicas);
      const now = primariesOf(redis);
      const replaced = now.length !== before.size || now.some((node) => before.get(node) !== connectionsOf(node));
      if (replaced)
        throw new ReplicationUnknown(
          "a primary's connection was replaced while the writes were made (reconnect or failover): their replication is unknown",
        );
    },
  };
}

async function waitForReplicas(redis: ScriptedRedis, replicas: number): Promise<void> {
  const primaries = primariesOf(redis);
  const acked = await Promise.all(primaries.map((primary) => primary.wait(replicas, WAIT_TIMEOUT_MS))).catch(
    (error: unknown) => {
      // A primary that was handed over answers as a replica until the slot map is refreshed.
      if (redis.isCluster) refreshSlotsOnRedirect(redis as ScriptedCluster, error);
      throw error;
    },
  );
  const short = acked.filter((count) => count < replicas).length;
  if (short > 0)
    throw new Error(
      `${short} primary(ies) had fewer than ${replicas} replica(s) acknowledge within ${WAIT_TIMEOUT_MS} ms`,
    );
}
