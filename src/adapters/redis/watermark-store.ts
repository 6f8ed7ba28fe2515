// Event-time watermark per input partition (a string of ms), so a replay resumes its
// clock where the partition's last owner left it.
import { calling } from '../dependency-error.js';
import type { RedisKeys } from './keys.js';
import type { ScriptedRedis } from './scripts.js';

export class RedisWatermarkStore {
  private readonly redis: ScriptedRedis;
  private readonly keys: RedisKeys;

  constructor(redis: ScriptedRedis, keys: RedisKeys) {
    this.redis = redis;
    this.keys = keys;
  }

  save(partition: number, eventTime: number): Promise<void> {
    return calling('redis', async () => {
      await this.redis.set(this.keys.watermark(partition), String(eventTime));
    });
  }

  load(partitions: readonly number[]): Promise<Map<number, number>> {
    if (partitions.length === 0) return Promise.resolve(new Map());
    return calling('redis', async () => {
      // One GET per partition, not MGET: each watermark is in its own cluster slot.
      const values = await Promise.all(partitions.map((p) => this.redis.get(this.keys.watermark(p))));
      const marks = new Map<number, number>();
      partitions.forEach((p, i) => {
        const value = values[i];
        if (value != null) marks.set(p, Number(value));
      });
      return marks;
    });
  }
}
