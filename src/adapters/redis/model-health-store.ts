// Model-health statistics per model version, shared by every scorer process: churn label
// bin counts and sums in a hash (mergeable by HINCRBY; probability bins for calibration,
// ranking-score bins for AUC), the latest resolved LTV labels in a
// bounded list. The binning is the core's (core/monitoring/calibration.ts); this module
// only stores its numbers.
import {
  CALIBRATION_BINS,
  emptyLabelStats,
  type LabelStats,
  labelStatsByVersion,
  RANK_BINS,
} from '../../core/monitoring/calibration.js';
import type { LtvPair } from '../../core/monitoring/ltv-calibration.js';
import type { ResolvedLabel, ResolvedLtvLabel } from '../../core/state/stored-customer.js';
import { calling } from '../dependency-error.js';
import { type BatchCall, type ScriptedRedis, sendAll } from './client.js';
import type { RedisKeys } from './keys.js';

export const LTV_LABELS_KEPT = 10_000;

export class RedisModelHealthStore {
  private readonly redis: ScriptedRedis;
  private readonly keys: RedisKeys;

  constructor(redis: ScriptedRedis, keys: RedisKeys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** Adds labels to their version's statistics: one increment per field touched. */
  addLabels(labels: readonly ResolvedLabel[]): Promise<void> {
    if (labels.length === 0) return Promise.resolve();
    const calls: BatchCall[] = [];
    for (const [version, stats] of labelStatsByVersion(labels)) {
      const key = this.keys.labels(version);
      for (let bin = 0; bin < CALIBRATION_BINS; bin += 1) {
        const pos = stats.positives[bin] ?? 0;
        const neg = stats.negatives[bin] ?? 0;
        if (pos > 0) calls.push(['hincrby', key, `pos:${bin}`, pos]);
        if (neg > 0) calls.push(['hincrby', key, `neg:${bin}`, neg]);
        if (pos + neg > 0) calls.push(['hincrbyfloat', key, `psum:${bin}`, stats.predictedSum[bin] ?? 0]);
      }
      for (let bin = 0; bin < RANK_BINS; bin += 1) {
        const pos = stats.rankPositives[bin] ?? 0;
        const neg = stats.rankNegatives[bin] ?? 0;
        if (pos > 0) calls.push(['hincrby', key, `rpos:${bin}`, pos]);
        if (neg > 0) calls.push(['hincrby', key, `rneg:${bin}`, neg]);
      }
      calls.push(['hincrbyfloat', key, 'brier', stats.brierSum]);
    }
    return calling('redis', async () => {
      await sendAll(this.redis, calls);
    });
  }

  /** Keeps the latest LTV_LABELS_KEPT resolved LTV labels per version: one push and one trim each. */
  addLtvLabels(labels: readonly ResolvedLtvLabel[]): Promise<void> {
    if (labels.length === 0) return Promise.resolve();
    const byKey = new Map<string, string[]>();
    for (const label of labels) {
      const key = this.keys.ltvLabels(label.modelVersion);
      const entry = JSON.stringify([label.predicted, label.realised, label.low, label.high]);
      const list = byKey.get(key);
      if (list === undefined) byKey.set(key, [entry]);
      else list.push(entry);
    }
    const calls: BatchCall[] = [];
    for (const [key, entries] of byKey) {
      // LPUSH puts its last argument at the head, as pushing one at a time did.
      calls.push(['lpush', key, ...entries.slice(-LTV_LABELS_KEPT)]);
      calls.push(['ltrim', key, 0, LTV_LABELS_KEPT - 1]);
    }
    return calling('redis', async () => {
      await sendAll(this.redis, calls);
    });
  }

  labelStats(modelVersion: string): Promise<LabelStats> {
    return calling('redis', async () => {
      const fields = await this.redis.hgetall(this.keys.labels(modelVersion));
      const stats = emptyLabelStats();
      for (let bin = 0; bin < CALIBRATION_BINS; bin += 1) {
        stats.positives[bin] = Number(fields[`pos:${bin}`] ?? 0);
        stats.negatives[bin] = Number(fields[`neg:${bin}`] ?? 0);
        stats.predictedSum[bin] = Number(fields[`psum:${bin}`] ?? 0);
      }
      for (let bin = 0; bin < RANK_BINS; bin += 1) {
        stats.rankPositives[bin] = Number(fields[`rpos:${bin}`] ?? 0);
        stats.rankNegatives[bin] = Number(fields[`rneg:${bin}`] ?? 0);
      }
      stats.brierSum = Number(fields['brier'] ?? 0);
      return stats;
    });
  }

  ltvLabels(modelVersion: string): Promise<LtvPair[]> {
    return calling('redis', async () => {
      const entries = await this.redis.lrange(this.keys.ltvLabels(modelVersion), 0, -1);
      return entries.map((entry) => {
        const [predicted = Number.NaN, realised = Number.NaN, low = Number.NaN, high = Number.NaN] = JSON.parse(
          entry,
        ) as number[];
        return { predicted, realised, low, high };
      });
    });
  }
}
