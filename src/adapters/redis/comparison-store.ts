// Labels resolved with both a champion's and a challenger's score, kept as a joint
// histogram per (champion, challenger) pair of versions: a hash of cell counts, summed per
// chunk and added with HINCRBY, so it is mergeable across processes and survives restarts
// like the label statistics. The customers behind them go to a HyperLogLog beside it
// (PFADD: idempotent, 12 KB at most, ~1% error), for the comparison's design effect. The binning and the comparison are the core's
// (core/monitoring/comparison.ts); this module only stores the numbers.
import {
  bothRoles,
  emptyPairStats,
  type PairStats,
  pairStatsByVersions,
  type ResolvedPair,
} from '../../core/monitoring/comparison.js';
import { calling } from '../dependency-error.js';
import { type BatchCall, type ScriptedRedis, sendAll } from './client.js';
import type { RedisKeys } from './keys.js';

export class RedisComparisonStore {
  private readonly redis: ScriptedRedis;
  private readonly keys: RedisKeys;

  constructor(redis: ScriptedRedis, keys: RedisKeys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** Adds the pairs to their versions' histograms (one increment per cell touched) and their customers. */
  addPairs(pairs: readonly ResolvedPair[]): Promise<void> {
    if (pairs.length === 0) return Promise.resolve();
    const calls: BatchCall[] = [];
    for (const { champion, challenger, stats, customerIds } of pairStatsByVersions(pairs).values()) {
      calls.push(['pfadd', this.keys.pairCustomers(champion, challenger), ...customerIds]);
      const key = this.keys.pairs(champion, challenger);
      stats.positives.forEach((count, cell) => {
        if (count > 0) calls.push(['hincrby', key, `p:${cell}`, count]);
      });
      stats.negatives.forEach((count, cell) => {
        if (count > 0) calls.push(['hincrby', key, `n:${cell}`, count]);
      });
    }
    return calling('redis', async () => {
      await sendAll(this.redis, calls);
    });
  }

  /** The two versions' paired labels from both roles (core/monitoring/comparison.ts, bothRoles). */
  pairStats(champion: string, challenger: string): Promise<PairStats> {
    return calling('redis', async () => {
      const [asChampion, asChallenger] = await Promise.all([
        this.oriented(champion, challenger),
        this.oriented(challenger, champion),
      ]);
      return bothRoles(asChampion, asChallenger);
    });
  }

  private async oriented(champion: string, challenger: string): Promise<PairStats> {
    const [fields, customers] = await Promise.all([
      this.redis.hgetall(this.keys.pairs(champion, challenger)),
      this.redis.pfcount(this.keys.pairCustomers(champion, challenger)),
    ]);
    const stats = emptyPairStats();
    for (const [field, value] of Object.entries(fields)) {
      const cell = Number(field.slice(2));
      const target = field.startsWith('p:') ? stats.positives : stats.negatives;
      if (Number.isInteger(cell) && cell >= 0 && cell < target.length) target[cell] = Number(value);
    }
    return { ...stats, customers };
  }
}
