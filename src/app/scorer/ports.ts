// The ports of the streaming scorer: what its orchestration needs from the outside world,
// as interfaces. Adapters implement them (Redis, Kafka, the schema registry); unit tests
// implement them in memory. Nothing here names a client library.
import type { InputBatch, OutgoingRecord } from '../../adapters/kafka/records.js';
import type { CustomerRead, CustomerWrite, LoadedCustomer, WriteOutcome } from '../../adapters/redis/state-store.js';
import type { TimerEntry } from '../../adapters/redis/timer-index.js';
import type { DecodedOrderEvent } from '../../adapters/registry/order-event-decoder.js';
import type { RiskChangeRecord } from '../../core/events/risk-change.js';
import type { DecidedBy } from '../../core/experiments/decided-by.js';
import type { Rollout, RolloutLogEntry } from '../../core/experiments/rollout.js';
import type { Serving } from '../../core/experiments/serving.js';
import type { LabelStats } from '../../core/monitoring/calibration.js';
import type { PairStats, ResolvedPair } from '../../core/monitoring/comparison.js';
import type { LtvPair } from '../../core/monitoring/ltv-calibration.js';
import type { ResolvedLabel, ResolvedLtvLabel } from '../../core/state/stored-customer.js';

export type { InputBatch, InputRecord, OutgoingRecord } from '../../adapters/kafka/records.js';
export type { CustomerRead, CustomerWrite, LoadedCustomer, WriteOutcome } from '../../adapters/redis/state-store.js';
export type { TimerEntry } from '../../adapters/redis/timer-index.js';
export type { DecodedOrderEvent } from '../../adapters/registry/order-event-decoder.js';

/** Per-customer state with its version and applied offsets (fenced writes). */
export interface StateStore {
  read(requests: readonly CustomerRead[]): Promise<Map<string, LoadedCustomer>>;
  /** Each customer decided on its own; outcomes in the order of `writes`. */
  write(writes: readonly CustomerWrite[]): Promise<WriteOutcome[]>;
}

/** When each customer is next due for a rescoring, sharded by partition. */
export interface TimerIndex {
  schedule(entries: readonly TimerEntry[]): Promise<void>;
  due(partition: number, until: number, limit: number): Promise<string[]>;
  page(partition: number, cursor: string, count: number): Promise<{ cursor: string; customers: string[] }>;
  backlog(partition: number, until: number): Promise<number>;
}

/** Resolved-label statistics per model version, shared by every scorer process. */
export interface ModelHealthStore {
  addLabels(labels: readonly ResolvedLabel[]): Promise<void>;
  addLtvLabels(labels: readonly ResolvedLtvLabel[]): Promise<void>;
  labelStats(modelVersion: string): Promise<LabelStats>;
  ltvLabels(modelVersion: string): Promise<LtvPair[]>;
}

/** Labels resolved with a champion's and a challenger's score, per pair of versions (shared). */
export interface ComparisonStore {
  addPairs(pairs: readonly ResolvedPair[]): Promise<void>;
  pairStats(champion: string, challenger: string): Promise<PairStats>;
}

/** The rollout every process follows, and its log; a change names the revision it was computed from. */
export interface RolloutStore {
  read(): Promise<Rollout | null>;
  change(entry: RolloutLogEntry, expectedRevision: number): Promise<boolean>;
  log(limit?: number): Promise<RolloutLogEntry[]>;
  announce(serving: Serving): Promise<void>;
  withdraw(process: string): Promise<void>;
  serving(): Promise<Serving[]>;
}

/** What decided each partition's tiers (core/experiments/decided-by.ts). */
export interface DecidedByStore {
  save(partition: number, decidedBy: DecidedBy): Promise<void>;
  read(partition: number): Promise<DecidedBy | null>;
}

/** Event-time watermark per partition (replays resume where the last owner left off). */
export interface WatermarkStore {
  save(partition: number, eventTime: number): Promise<void>;
  load(partitions: readonly number[]): Promise<Map<number, number>>;
}

/** Sends records durably (acknowledged by all in-sync replicas), in order. */
export interface RecordPublisher {
  publish(records: readonly OutgoingRecord[]): Promise<void>;
}

/** Turns an input record's value into an order event, or says why it cannot. */
export interface EventDecoder {
  decode(value: Buffer | null): Promise<DecodedOrderEvent>;
}

/** Encodes the scorer's output records (Avro, Confluent wire format). */
export interface OutputEncoder {
  riskChange(record: RiskChangeRecord): Buffer;
  deadLetter(record: DeadLetterValue): Buffer;
}

/** The dead-letter record as schemas/dead-letter.avsc defines it. */
export interface DeadLetterValue {
  readonly dead_letter_id: string;
  readonly source_topic: string;
  readonly source_partition: number;
  readonly source_offset: number;
  readonly source_timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly { readonly key: string; readonly value: Buffer | null }[];
  readonly error_class: string;
  readonly reason: string;
  readonly failed_at: number;
  readonly consumer_group: string;
  readonly churnstream_version: string;
  readonly truncated: boolean;
  readonly original_value_size: number;
  readonly original_value_sha256: string;
}

/** What the unit handler gets from the consumer while it works on a unit. */
export interface UnitControl {
  /** Keeps the group membership alive during a long unit (or a long wait for a dependency). */
  heartbeat(): Promise<void>;
  /** False once the partitions were revoked or the consumer is stopping: give the unit up. */
  isActive(): boolean;
}

/**
 * How a unit ended: applied (its offsets may be committed), or let go because the consumer
 * no longer holds it (revoked, membership lost, stopping): nothing of it may be committed,
 * the next owner redelivers it and the state offsets skip whatever was applied.
 */
export type UnitOutcome = 'applied' | 'let_go';

export type InputBatches = readonly InputBatch[];

/** Counts and timings the scorer reports as it works; the metrics module turns them into series. */
export interface ScorerObserver {
  consumed(partition: number, count: number): void;
  deadLettered(errorClass: string, count: number): void;
  applied(outcome: string, count: number): void;
  riskChanges(records: readonly RiskChangeRecord[]): void;
  scored(features: Float64Array, probability: number): void;
  labelsResolved(labels: readonly ResolvedLabel[]): void;
  ltvLabelsResolved(labels: readonly ResolvedLtvLabel[]): void;
  stateConflict(): void;
  timerFired(count: number): void;
  batchDone(partition: number, seconds: number): void;
  eventProcessed(eventTime: number): void;
  redisCall(operation: 'read' | 'write', seconds: number): void;
  /** A unit waits for a dependency (transient failure); `seconds` is the wait about to start. */
  waiting(dependency: string, seconds: number): void;
}
