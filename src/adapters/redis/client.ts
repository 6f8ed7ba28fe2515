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
type BatchMethod = 'hmgetBuffer' | 'zadd' | 'zrem' | 'hincrby' | 'hincrbyfloat' | 'lpush' | 'ltrim';
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
  return Promise.all(calls.map(([method, ...args]) => client[method].apply(redis, args)));
}
