// Due times of customers' next rescoring, one sorted set per input partition (member =
// customer id, score = due time in ms), so timers follow partition ownership.
import { calling } from '../dependency-error.js';
import { type BatchCall, replicationFence, type ScriptedRedis, sendAll } from './client.js';
import type { RedisKeys } from './keys.js';

export interface TimerEntry {
  readonly customerId: string;
  readonly partition: number;
  /** Next due time (ms); NaN: no timer. */
  readonly due: number;
}

export class RedisTimerIndex {
  private readonly redis: ScriptedRedis;
  private readonly keys: RedisKeys;
  /** Replicas that must hold a timer update before it returns (REDIS_WAIT_REPLICAS; 0: none). */
  private readonly replicas: number;

  constructor(redis: ScriptedRedis, keys: RedisKeys, replicas = 0) {
    this.redis = redis;
    this.keys = keys;
    this.replicas = replicas;
  }

  /** One ZADD (and at most one ZREM) per shard, not a command per customer. */
  schedule(entries: readonly TimerEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const shards = new Map<number, { due: (string | number)[]; none: string[] }>();
    for (const { partition, customerId, due } of entries) {
      let shard = shards.get(partition);
      if (shard === undefined) {
        shard = { due: [], none: [] };
        shards.set(partition, shard);
      }
      if (Number.isNaN(due)) shard.none.push(customerId);
      else shard.due.push(due, customerId);
    }
    const calls: BatchCall[] = [];
    for (const [partition, { due, none }] of shards) {
      if (due.length > 0) calls.push(['zadd', this.keys.timers(partition), ...due]);
      if (none.length > 0) calls.push(['zrem', this.keys.timers(partition), ...none]);
    }
    return calling('redis', async () => {
      const fence = replicationFence(this.redis, this.replicas);
      await sendAll(this.redis, calls);
      await fence.confirm();
    });
  }

  /** Customers of a partition due at or before `until`, earliest first. */
  due(partition: number, until: number, limit: number): Promise<string[]> {
    return calling('redis', () =>
      this.redis.zrangebyscore(this.keys.timers(partition), '-inf', until, 'LIMIT', 0, limit),
    );
  }

  /** Every customer with a timer in a partition's shard, a page at a time (cursor-based). */
  page(partition: number, cursor: string, count: number): Promise<{ cursor: string; customers: string[] }> {
    return calling('redis', async () => {
      const [next, flat] = await this.redis.zscan(this.keys.timers(partition), cursor, 'COUNT', count);
      return { cursor: next, customers: flat.filter((_, i) => i % 2 === 0) };
    });
  }

  backlog(partition: number, until: number): Promise<number> {
    return calling('redis', () => this.redis.zcount(this.keys.timers(partition), '-inf', until));
  }
}
