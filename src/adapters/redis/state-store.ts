// Per-customer state in Redis: reads in one pipeline, fenced compare-and-set writes
// (apply-state-n.lua, a chunk of customers per call). Every Redis failure surfaces as a
// DependencyError. Layout: docs/REDIS_LAYOUT.md; keys come from keys.ts only.
import type { TierState } from '../../core/decisions/hysteresis.js';
import { decodeState, encodeState } from '../../core/state/codec.js';
import type { OpenLtvPrediction, OpenPrediction, StoredCustomer } from '../../core/state/stored-customer.js';
import { calling } from '../dependency-error.js';
import { replicationFence, sendAll } from './client.js';
import type { RedisKeys } from './keys.js';
import { type ApplyStateOutcome, applyStates, type ScriptedRedis } from './scripts.js';

export type WriteOutcome = ApplyStateOutcome;

export interface LoadedCustomer {
  readonly stored: StoredCustomer | null;
  /** Wall-clock time the state was last written (ms), or null. */
  readonly updatedAt: number | null;
  /** Version read (0 when absent): the compare-and-set's expectation. */
  readonly version: number;
  /** Last applied offset of the given partition, or null. */
  readonly lastOffset: bigint | null;
  /** The input partition the customer's events arrive on (its clock in a replay), or null: not known. */
  readonly partition: number | null;
}

export interface CustomerRead {
  readonly customerId: string;
  /** Partition whose last applied offset to return, or null. */
  readonly partition: number | null;
}

export interface CustomerWrite {
  readonly customerId: string;
  readonly expectedVersion: number;
  /** The input partition the customer belongs to (the writing unit's): kept for the query API's clock. */
  readonly partition: number;
  /** Source partition and offset of the last event folded in; null for rescoring writes. */
  readonly source: { readonly partition: number; readonly offset: string } | null;
  readonly next: StoredCustomer;
}

interface Meta {
  readonly tier: TierState | null;
  readonly nextDue: number | null;
  readonly prediction?: OpenPrediction | null;
  readonly ltvPrediction?: OpenLtvPrediction | null;
  /** Wall-clock time of the write (ms). */
  readonly updatedAt?: number;
  /** Input partition (absent in states written before it was kept). */
  readonly partition?: number;
}

export class RedisStateStore {
  private readonly redis: ScriptedRedis;
  private readonly keys: RedisKeys;
  private readonly ttlSeconds: number;
  /** Replicas that must hold a write before it returns (REDIS_WAIT_REPLICAS; 0: none). */
  private readonly replicas: number;

  constructor(redis: ScriptedRedis, keys: RedisKeys, ttlSeconds: number, replicas = 0) {
    this.redis = redis;
    this.keys = keys;
    this.ttlSeconds = ttlSeconds;
    this.replicas = replicas;
  }

  /** Each customer's state, with its last applied offset of the given partition (null: none wanted). */
  read(requests: readonly CustomerRead[]): Promise<Map<string, LoadedCustomer>> {
    return calling('redis', async () => {
      const replies = await sendAll(
        this.redis,
        requests.map(({ customerId, partition }) => [
          'hmgetBuffer',
          this.keys.customerState(customerId),
          'ver',
          'state',
          'meta',
          `o:${partition ?? 'none'}`,
        ]),
      );
      const loaded = new Map<string, LoadedCustomer>();
      requests.forEach(({ customerId }, index) => {
        loaded.set(customerId, parseLoaded(replies[index] as (Buffer | null)[]));
      });
      return loaded;
    });
  }

  /** Writes each customer atomically with the version and offset fences; outcomes in order. */
  write(writes: readonly CustomerWrite[]): Promise<WriteOutcome[]> {
    const updatedAt = Date.now();
    return calling('redis', async () => {
      const fence = replicationFence(this.redis, this.replicas);
      const outcomes = await applyStates(
        this.redis,
        writes.map((w) => {
          const meta: Meta = {
            tier: w.next.tier,
            nextDue: Number.isNaN(w.next.nextDue) ? null : w.next.nextDue,
            prediction: w.next.prediction ?? null,
            ltvPrediction: w.next.ltvPrediction ?? null,
            updatedAt,
            partition: w.partition,
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
      await fence.confirm();
      return outcomes;
    });
  }
}

function parseLoaded([ver, state, meta, offset]: (Buffer | null)[]): LoadedCustomer {
  const version = ver == null ? 0 : Number(ver.toString());
  if (state == null)
    return { stored: null, updatedAt: null, version, lastOffset: parseOffset(offset), partition: null };
  const parsed: Meta = meta ? (JSON.parse(meta.toString()) as Meta) : { tier: null, nextDue: null };
  return {
    stored: {
      state: decodeState(state),
      tier: parsed.tier,
      nextDue: parsed.nextDue ?? Number.NaN,
      prediction: parsed.prediction ?? null,
      ltvPrediction: parsed.ltvPrediction ?? null,
    },
    updatedAt: parsed.updatedAt ?? null,
    version,
    lastOffset: parseOffset(offset),
    partition: parsed.partition ?? null,
  };
}

const parseOffset = (offset: Buffer | null | undefined): bigint | null => (offset ? BigInt(offset.toString()) : null);
