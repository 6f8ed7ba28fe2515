// The rollout every scorer process follows (champion, challenger, weight) and its log, in
// Redis. A change is written by one script that checks the revision it was computed from,
// so two operators changing it at once cannot lose one another's change; the log entry is
// written in the same script (no change without its who/when/why).
import type { Rollout, RolloutLogEntry } from '../../core/experiments/rollout.js';
import type { Serving } from '../../core/experiments/serving.js';
import { calling } from '../dependency-error.js';
import type { ScriptedRedis } from './client.js';
import type { RedisKeys } from './keys.js';

/** KEYS: rollout hash, log list. ARGV: expected revision, document, log entry. 1: written, 0: stale. */
const CHANGE = `
local current = tonumber(redis.call('HGET', KEYS[1], 'revision') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'revision', ARGV[4], 'document', ARGV[2])
redis.call('LPUSH', KEYS[2], ARGV[3])
return 1`;

export class RedisRolloutStore {
  private readonly redis: ScriptedRedis;
  private readonly keys: RedisKeys;

  constructor(redis: ScriptedRedis, keys: RedisKeys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** The rollout in force, or null when no `models` command ever wrote one. */
  read(): Promise<Rollout | null> {
    return calling('redis', async () => {
      const document = await this.redis.hget(this.keys.rollout(), 'document');
      return document === null ? null : (JSON.parse(document) as Rollout);
    });
  }

  /** Writes `entry.after` if the stored revision is still `entry.before.revision` (else false). */
  change(entry: RolloutLogEntry, expectedRevision: number): Promise<boolean> {
    return calling('redis', async () => {
      const written = await this.redis.eval(
        CHANGE,
        2,
        this.keys.rollout(),
        this.keys.rolloutLog(),
        String(expectedRevision),
        JSON.stringify(entry.after),
        JSON.stringify(entry),
        String(entry.after.revision),
      );
      return written === 1;
    });
  }

  /** The latest `limit` log entries, newest first. */
  log(limit = 100): Promise<RolloutLogEntry[]> {
    return calling('redis', async () => {
      const entries = await this.redis.lrange(this.keys.rolloutLog(), 0, limit - 1);
      return entries.map((entry) => JSON.parse(entry) as RolloutLogEntry);
    });
  }

  /** Records what this process serves (the `models` commands read it while no rollout is stored). */
  announce(serving: Serving): Promise<void> {
    return calling('redis', async () => {
      await this.redis.hset(this.keys.serving(), serving.process, JSON.stringify(serving));
    });
  }

  /** A stopping process takes its report back. */
  withdraw(process: string): Promise<void> {
    return calling('redis', async () => {
      await this.redis.hdel(this.keys.serving(), process);
    });
  }

  /** Every report, stale ones included (the reader judges their age; see core/experiments/serving.ts). */
  serving(): Promise<Serving[]> {
    return calling('redis', async () => {
      const all = await this.redis.hgetall(this.keys.serving());
      return Object.values(all).map((value) => JSON.parse(value) as Serving);
    });
  }
}
