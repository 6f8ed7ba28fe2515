// Per-customer state in Redis: reads in one pipeline, fenced compare-and-set writes
// (apply-state-n.lua, a chunk of customers per call) and the partition-sharded timers.
// The layout is documented in docs/REDIS_LAYOUT.md; keys come from keys.ts only.
import type { TierState } from '../../core/decisions/hysteresis.js';
import { CALIBRATION_BINS, emptyLabelStats, type LabelStats } from '../../core/monitoring/calibration.js';
import type { LtvPair } from '../../core/monitoring/ltv-calibration.js';
import type {
  OpenLtvPrediction,
  OpenPrediction,
  ResolvedLabel,
  ResolvedLtvLabel,
  StoredCustomer,
} from '../../core/pipeline/process.js';
import { decodeState, encodeState } from '../../core/state/codec.js';
import type { RedisKeys } from './keys.js';
import { type ApplyStateOutcome, applyStates, type ScriptedRedis } from './scripts.js';

export interface LoadedCustomer {
  readonly stored: StoredCustomer | null;
  /** Wall-clock time the state was last written (ms), or null. */
  readonly updatedAt: number | null;
  /** Version read (0 when absent): the compare-and-set's expectation. */
  readonly version: number;
  /** Last applied offset of the given partition, or null. */
  readonly lastOffset: bigint | null;
}

export interface CustomerRead {
  readonly customerId: string;
  /** Partition whose last applied offset to return, or null. */
  readonly partition: number | null;
}

export interface CustomerWrite {
  readonly customerId: string;
  readonly expectedVersion: number;
  /** Source partition and offset of the last event folded in; null for timer writes. */
  readonly source: { readonly partition: number; readonly offset: string } | null;
  readonly next: StoredCustomer;
  /** Partition whose timer shard holds this customer. */
  readonly timerPartition: number;
}

interface Meta {
  readonly tier: TierState | null;
  readonly nextDue: number | null;
  readonly prediction?: OpenPrediction | null;
  readonly ltvPrediction?: OpenLtvPrediction | null;
  /** Wall-clock time of the write (ms). */
  readonly updatedAt?: number;
}

export const LTV_LABELS_KEPT = 10_000;

export class CustomerStore {
  private readonly redis: ScriptedRedis;
  private readonly keys: RedisKeys;
  private readonly ttlSeconds: number;

  constructor(redis: ScriptedRedis, keys: RedisKeys, ttlSeconds: number) {
    this.redis = redis;
    this.keys = keys;
    this.ttlSeconds = ttlSeconds;
  }

  /** Each customer's state, with its last applied offset of the given partition (null: none wanted). */
  async read(requests: readonly CustomerRead[]): Promise<Map<string, LoadedCustomer>> {
    const pipeline = this.redis.pipeline();
    for (const { customerId, partition } of requests) {
      pipeline.hmgetBuffer(this.keys.customerState(customerId), 'ver', 'state', 'meta', `o:${partition ?? 'none'}`);
    }
    const replies = (await pipeline.exec()) ?? [];
    const loaded = new Map<string, LoadedCustomer>();
    requests.forEach(({ customerId: id }, index) => {
      const [error, value] = replies[index] ?? [new Error('no reply'), null];
      if (error) throw error;
      const [ver, state, meta, offset] = value as (Buffer | null)[];
      const version = ver === null || ver === undefined ? 0 : Number(ver.toString());
      let stored: StoredCustomer | null = null;
      let updatedAt: number | null = null;
      if (state !== null && state !== undefined) {
        const parsed: Meta = meta ? (JSON.parse(meta.toString()) as Meta) : { tier: null, nextDue: null };
        updatedAt = parsed.updatedAt ?? null;
        stored = {
          state: decodeState(state),
          tier: parsed.tier,
          nextDue: parsed.nextDue ?? Number.NaN,
          prediction: parsed.prediction ?? null,
          ltvPrediction: parsed.ltvPrediction ?? null,
        };
      }
      loaded.set(id, { stored, updatedAt, version, lastOffset: offset ? BigInt(offset.toString()) : null });
    });
    return loaded;
  }

  /** Writes each customer atomically; timers follow only successful writes. */
  async write(writes: readonly CustomerWrite[]): Promise<ApplyStateOutcome[]> {
    const updatedAt = Date.now();
    const outcomes = await applyStates(
      this.redis,
      writes.map((w) => {
        const meta: Meta = {
          tier: w.next.tier,
          nextDue: Number.isNaN(w.next.nextDue) ? null : w.next.nextDue,
          prediction: w.next.prediction ?? null,
          ltvPrediction: w.next.ltvPrediction ?? null,
          updatedAt,
        };
        return {
          key: this.keys.customerState(w.customerId),
          expected: w.expectedVersion,
          partition: w.source?.partition ?? '',
          offset: w.source?.offset ?? '',
          state: encodeState(w.next.state),
          meta: JSON.stringify(meta),
          ttlSeconds: this.ttlSeconds,
        };
      }),
    );
    await this.setTimers(writes.filter((_, index) => outcomes[index]?.kind === 'applied'));
    return outcomes;
  }

  /** Re-registers timers of customers whose state is already written (after a redelivery). */
  async refreshTimers(entries: readonly CustomerWrite[]): Promise<void> {
    await this.setTimers(entries);
  }

  /**
   * Each customer's timer entry in its partition's shard: one ZADD (and at most one ZREM)
   * per shard, not a command per customer. A customer appears once per call.
   */
  private async setTimers(entries: readonly CustomerWrite[]): Promise<void> {
    if (entries.length === 0) return;
    const shards = new Map<number, { due: (string | number)[]; none: string[] }>();
    for (const { timerPartition, customerId, next } of entries) {
      let shard = shards.get(timerPartition);
      if (shard === undefined) {
        shard = { due: [], none: [] };
        shards.set(timerPartition, shard);
      }
      if (Number.isNaN(next.nextDue)) shard.none.push(customerId);
      else shard.due.push(next.nextDue, customerId);
    }
    const timers = this.redis.pipeline();
    for (const [partition, { due, none }] of shards) {
      if (due.length > 0) timers.zadd(this.keys.timers(partition), ...due);
      if (none.length > 0) timers.zrem(this.keys.timers(partition), ...none);
    }
    const replies = (await timers.exec()) ?? [];
    for (const [error] of replies) if (error) throw error;
  }

  /** Customers of a partition due at or before `now`, earliest first. */
  async due(partition: number, now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.timers(partition), '-inf', now, 'LIMIT', 0, limit);
  }

  /** Every customer with a timer in a partition's shard, a page at a time (cursor-based). */
  async customersOf(
    partition: number,
    cursor: string,
    count: number,
  ): Promise<{ cursor: string; customers: string[] }> {
    const [next, flat] = await this.redis.zscan(this.keys.timers(partition), cursor, 'COUNT', count);
    return { cursor: next, customers: flat.filter((_, i) => i % 2 === 0) };
  }

  /**
   * Adds resolved labels to their model version's statistics (bin counts and sums, so
   * processes and restarts add up). Written after the state, at most once per label.
   * Summed here first: one increment per field touched, not three commands per label.
   */
  async addLabels(labels: readonly ResolvedLabel[]): Promise<void> {
    if (labels.length === 0) return;
    const counts = new Map<string, Map<string, number>>();
    const sums = new Map<string, Map<string, number>>();
    const add = (into: Map<string, Map<string, number>>, key: string, field: string, amount: number) => {
      let fields = into.get(key);
      if (fields === undefined) {
        fields = new Map();
        into.set(key, fields);
      }
      fields.set(field, (fields.get(field) ?? 0) + amount);
    };
    for (const label of labels) {
      const key = this.keys.labels(label.modelVersion);
      const bin = Math.min(CALIBRATION_BINS - 1, Math.max(0, Math.floor(label.probability * CALIBRATION_BINS)));
      add(counts, key, `${label.churned ? 'pos' : 'neg'}:${bin}`, 1);
      add(sums, key, `psum:${bin}`, label.probability);
      add(sums, key, 'brier', (label.probability - (label.churned ? 1 : 0)) ** 2);
    }
    const pipeline = this.redis.pipeline();
    for (const [key, fields] of counts) for (const [field, n] of fields) pipeline.hincrby(key, field, n);
    for (const [key, fields] of sums) for (const [field, sum] of fields) pipeline.hincrbyfloat(key, field, sum);
    await pipeline.exec();
  }

  /**
   * Keeps the latest LTV_LABELS_KEPT resolved LTV labels per model version: deciles of
   * predicted value need the pairs themselves, and a bounded recent window is what a
   * health gauge should describe anyway. One push and one trim per version.
   */
  async addLtvLabels(labels: readonly ResolvedLtvLabel[]): Promise<void> {
    if (labels.length === 0) return;
    const byKey = new Map<string, string[]>();
    for (const label of labels) {
      const key = this.keys.ltvLabels(label.modelVersion);
      const entry = JSON.stringify([label.predicted, label.realised, label.low, label.high]);
      const list = byKey.get(key);
      if (list === undefined) byKey.set(key, [entry]);
      else list.push(entry);
    }
    const pipeline = this.redis.pipeline();
    for (const [key, entries] of byKey) {
      // LPUSH puts its last argument at the head, as pushing one at a time did.
      pipeline.lpush(key, ...entries.slice(-LTV_LABELS_KEPT));
      pipeline.ltrim(key, 0, LTV_LABELS_KEPT - 1);
    }
    await pipeline.exec();
  }

  async ltvLabels(modelVersion: string): Promise<LtvPair[]> {
    const entries = await this.redis.lrange(this.keys.ltvLabels(modelVersion), 0, -1);
    return entries.map((entry) => {
      const [predicted = Number.NaN, realised = Number.NaN, low = Number.NaN, high = Number.NaN] = JSON.parse(
        entry,
      ) as number[];
      return { predicted, realised, low, high };
    });
  }

  async labelStats(modelVersion: string): Promise<LabelStats> {
    const fields = await this.redis.hgetall(this.keys.labels(modelVersion));
    const stats = emptyLabelStats();
    for (let bin = 0; bin < CALIBRATION_BINS; bin += 1) {
      stats.positives[bin] = Number(fields[`pos:${bin}`] ?? 0);
      stats.negatives[bin] = Number(fields[`neg:${bin}`] ?? 0);
      stats.predictedSum[bin] = Number(fields[`psum:${bin}`] ?? 0);
    }
    stats.brierSum = Number(fields['brier'] ?? 0);
    return stats;
  }

  async saveWatermark(partition: number, eventTime: number): Promise<void> {
    await this.redis.set(this.keys.watermark(partition), String(eventTime));
  }

  async watermarks(partitions: readonly number[]): Promise<Map<number, number>> {
    if (partitions.length === 0) return new Map();
    const values = await Promise.all(partitions.map((p) => this.redis.get(this.keys.watermark(p))));
    return new Map(
      partitions.flatMap((p, i) => (values[i] == null ? [] : [[p, Number(values[i])] as [number, number]])),
    );
  }

  async timerBacklog(partition: number, now: number): Promise<number> {
    return this.redis.zcount(this.keys.timers(partition), '-inf', now);
  }
}
