// What decided each partition's tiers (core/experiments/decided-by.ts), one small key per
// partition on the partition's own slot, written when a rescoring of the partition finishes.
import type { DecidedBy } from '../../core/experiments/decided-by.js';
import { calling } from '../dependency-error.js';
import type { RedisKeys } from './keys.js';
import type { ScriptedRedis } from './scripts.js';

export class RedisDecidedByStore {
  private readonly redis: ScriptedRedis;
  private readonly keys: RedisKeys;

  constructor(redis: ScriptedRedis, keys: RedisKeys) {
    this.redis = redis;
    this.keys = keys;
  }

  save(partition: number, decidedBy: DecidedBy): Promise<void> {
    return calling('redis', async () => {
      await this.redis.set(this.keys.decidedBy(partition), JSON.stringify(decidedBy));
    });
  }

  /** null: never marked (a new partition, or state written by a release before this one). */
  read(partition: number): Promise<DecidedBy | null> {
    return calling('redis', async () => {
      const value = await this.redis.get(this.keys.decidedBy(partition));
      return value === null ? null : (JSON.parse(value) as DecidedBy);
    });
  }
}
