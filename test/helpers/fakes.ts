// In-memory implementations of the scorer's ports (src/app/scorer/ports.ts) for fast unit
// tests of its orchestration, with fault injection, plus builders of input records and the
// reference the tests compare against: the pure core (processEvents, rules fallback) run
// over the same events. The core is never mocked.
//
// Every fake writes to one shared CallLog, so a test can check the order of calls across
// ports (dead letters published before any state write, a heartbeat while waiting, ...).
// Any fake method can be told to fail its next N calls with a DependencyError, or to hang
// until released; the state store can also be told that another writer bumps a customer's
// version before the next N writes that touch it (the fence then refuses them).
import { createHash } from 'node:crypto';
import avro from 'avsc';
import { expect, vi } from 'vitest';
import type { Dependency } from '../../src/adapters/dependency-error.js';
import { DependencyError } from '../../src/adapters/dependency-error.js';
import { readSchemaText } from '../../src/adapters/files/schemas.js';
import type { Clock } from '../../src/app/clock.js';
import { createDeadLetterFactory, type DeadLetterFactory } from '../../src/app/scorer/dead-letters.js';
import { SchemaIdGrace } from '../../src/app/scorer/decode.js';
import type { WaitingFor } from '../../src/app/scorer/failures.js';
import type { PassDeps } from '../../src/app/scorer/passes.js';
import type {
  ComparisonStore,
  CustomerRead,
  CustomerWrite,
  DeadLetterValue,
  DecodedOrderEvent,
  EventDecoder,
  InputBatch,
  InputRecord,
  LoadedCustomer,
  ModelHealthStore,
  OutgoingRecord,
  RecordPublisher,
  ScorerObserver,
  StateStore,
  TimerEntry,
  TimerIndex,
  UnitControl,
  WatermarkStore,
  WriteOutcome,
} from '../../src/app/scorer/ports.js';
import type { RetryHooks } from '../../src/app/scorer/transient-retry.js';
import type { UnitDeps } from '../../src/app/scorer/unit.js';
import { DEFAULT_HYSTERESIS } from '../../src/core/decisions/hysteresis.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import type { RiskChangeRecord } from '../../src/core/events/risk-change.js';
import { DEFAULT_VALIDATION } from '../../src/core/events/validate.js';
import { DEFAULT_FEATURE_SPEC } from '../../src/core/features/spec.js';
import { emptyLabelStats, type LabelStats } from '../../src/core/monitoring/calibration.js';
import { addPair, emptyPairStats, type PairStats, type ResolvedPair } from '../../src/core/monitoring/comparison.js';
import type { LtvPair } from '../../src/core/monitoring/ltv-calibration.js';
import type { ResolvedLabel, ResolvedLtvLabel, StoredCustomer } from '../../src/core/state/stored-customer.js';
import {
  type CustomerStep,
  processEvents,
  type ScoringContext,
  type SourcedEvent,
  scoringContextFor,
} from '../../src/core/step/customer-step.js';
import { DAY_MS } from '../../src/core/time.js';

// ---------------------------------------------------------------------------------------
// Call log and fault injection

export type CallOutcome = 'ok' | 'failed' | 'hung';

export interface Call {
  /** e.g. 'state.read', 'publisher.publish', 'control.heartbeat', 'observer.waiting' */
  readonly name: string;
  readonly outcome: CallOutcome;
  readonly detail?: unknown;
}

export class CallLog {
  readonly calls: Call[] = [];

  add(name: string, outcome: CallOutcome, detail?: unknown): void {
    this.calls.push(detail === undefined ? { name, outcome } : { name, outcome, detail });
  }

  /** Names of the calls that went through, in order. */
  ok(): string[] {
    return this.calls.filter((c) => c.outcome === 'ok').map((c) => c.name);
  }

  since(mark: number): Call[] {
    return this.calls.slice(mark);
  }

  get length(): number {
    return this.calls.length;
  }
}

interface FaultPlan {
  readonly kind: 'fail' | 'hang';
  remaining: number;
  readonly dependency: Dependency;
  readonly onFault: (() => void) | undefined;
}

/**
 * Faults of one fake: `failNext(method, n)` makes the next n calls of `method` throw a
 * DependencyError; `hangNext(method, n)` makes them wait until `release()` (then they run
 * normally). Plans for a method are used in the order they were given.
 */
export class Faults<M extends string> {
  private readonly plans = new Map<M, FaultPlan[]>();
  private readonly dependency: Dependency;
  private waiters: (() => void)[] = [];

  constructor(dependency: Dependency) {
    this.dependency = dependency;
  }

  failNext(method: M, times: number, options: { dependency?: Dependency; onFault?: () => void } = {}): this {
    this.plan(method, {
      kind: 'fail',
      remaining: times,
      dependency: options.dependency ?? this.dependency,
      onFault: options.onFault,
    });
    return this;
  }

  hangNext(method: M, times = 1): this {
    this.plan(method, { kind: 'hang', remaining: times, dependency: this.dependency, onFault: undefined });
    return this;
  }

  /** Lets every hung call go on (they then run normally). */
  release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resume of waiters) resume();
  }

  /** How many calls are hung right now. */
  get hung(): number {
    return this.waiters.length;
  }

  /** Called by a fake as its method starts: throws, hangs or returns per the plans. */
  async enter(method: M, name: string, log: CallLog): Promise<void> {
    const list = this.plans.get(method);
    const plan = list?.[0];
    if (list === undefined || plan === undefined) return;
    plan.remaining -= 1;
    if (plan.remaining <= 0) list.shift();
    if (plan.kind === 'fail') {
      log.add(name, 'failed');
      plan.onFault?.();
      throw new DependencyError(plan.dependency, `injected failure of ${name}`);
    }
    log.add(name, 'hung');
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private plan(method: M, plan: FaultPlan): void {
    if (plan.remaining <= 0) return;
    const list = this.plans.get(method) ?? [];
    list.push(plan);
    this.plans.set(method, list);
  }
}

// ---------------------------------------------------------------------------------------
// StateStore: the fences of src/adapters/redis/scripts/apply-state-n.lua

interface StoredEntry {
  version: number;
  stored: StoredCustomer | null;
  readonly offsets: Map<number, bigint>;
  updatedAt: number | null;
  partition?: number | null;
}

const copy = <T>(value: T): T => structuredClone(value);

export class FakeStateStore implements StateStore {
  readonly faults = new Faults<'read' | 'write'>('redis');
  /** Every write request that reached the store (not failed), with its outcome. */
  readonly writes: { readonly write: CustomerWrite; readonly outcome: WriteOutcome }[] = [];
  /** Every read request that reached the store. */
  readonly reads: CustomerRead[][] = [];
  private readonly entries = new Map<string, StoredEntry>();
  private readonly interference = new Map<string, number>();
  private readonly log: CallLog;

  constructor(log: CallLog) {
    this.log = log;
  }

  async read(requests: readonly CustomerRead[]): Promise<Map<string, LoadedCustomer>> {
    await this.faults.enter('read', 'state.read', this.log);
    this.log.add(
      'state.read',
      'ok',
      requests.map((r) => r.customerId),
    );
    this.reads.push([...requests]);
    const loaded = new Map<string, LoadedCustomer>();
    for (const { customerId, partition } of requests) {
      const entry = this.entries.get(customerId);
      loaded.set(customerId, {
        stored: entry?.stored == null ? null : copy(entry.stored),
        updatedAt: entry?.updatedAt ?? null,
        version: entry?.version ?? 0,
        lastOffset: partition === null ? null : (entry?.offsets.get(partition) ?? null),
        partition: entry?.partition ?? null,
      });
    }
    return loaded;
  }

  async write(writes: readonly CustomerWrite[]): Promise<WriteOutcome[]> {
    await this.faults.enter('write', 'state.write', this.log);
    const outcomes = writes.map((w) => this.writeOne(w));
    this.log.add(
      'state.write',
      'ok',
      writes.map((w) => w.customerId),
    );
    return outcomes;
  }

  /** Another writer bumps the customer's version just before each of the next `times` writes of it. */
  interfere(customerId: string, times: number): void {
    this.interference.set(customerId, (this.interference.get(customerId) ?? 0) + times);
  }

  /** Puts a customer in the store as if written earlier (no fence, no log entry). */
  seed(customerId: string, stored: StoredCustomer | null, version = 1, offsets: Record<number, bigint> = {}): void {
    this.entries.set(customerId, {
      version,
      stored,
      offsets: new Map(Object.entries(offsets).map(([p, o]) => [Number(p), o])),
      updatedAt: null,
    });
  }

  /** What is stored for the customer (a copy), or undefined. */
  get(
    customerId: string,
  ): { version: number; stored: StoredCustomer | null; offsets: Map<number, bigint> } | undefined {
    const entry = this.entries.get(customerId);
    return entry === undefined
      ? undefined
      : { version: entry.version, stored: copy(entry.stored), offsets: new Map(entry.offsets) };
  }

  customers(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Everything stored, for comparing two stores. */
  snapshot(): Record<string, { version: number; stored: StoredCustomer | null; offsets: Record<string, string> }> {
    return Object.fromEntries(
      this.customers().map((id) => {
        const entry = this.entries.get(id) as StoredEntry;
        const offsets = Object.fromEntries([...entry.offsets].map(([p, o]) => [String(p), o.toString()]));
        return [id, { version: entry.version, stored: copy(entry.stored), offsets }];
      }),
    );
  }

  private writeOne(write: CustomerWrite): WriteOutcome {
    const other = this.interference.get(write.customerId) ?? 0;
    let entry = this.entries.get(write.customerId);
    if (other > 0) {
      this.interference.set(write.customerId, other - 1);
      // The other writer rewrites what is stored: only the version moves.
      if (entry === undefined) {
        entry = { version: 0, stored: null, offsets: new Map(), updatedAt: null };
        this.entries.set(write.customerId, entry);
      }
      entry.version += 1;
    }
    const version = entry?.version ?? 0;
    const fenced = write.source !== null;
    const lastOffset = write.source === null ? undefined : entry?.offsets.get(write.source.partition);
    let outcome: WriteOutcome;
    if (fenced && lastOffset !== undefined && BigInt(write.source?.offset ?? '0') <= lastOffset)
      outcome = { kind: 'already_applied', version };
    else if (version !== write.expectedVersion) outcome = { kind: 'version_conflict', version };
    else {
      if (entry === undefined) {
        entry = { version: 0, stored: null, offsets: new Map(), updatedAt: null };
        this.entries.set(write.customerId, entry);
      }
      entry.version = version + 1;
      entry.stored = copy(write.next);
      entry.updatedAt = Date.now();
      entry.partition = write.partition;
      if (write.source !== null) entry.offsets.set(write.source.partition, BigInt(write.source.offset));
      outcome = { kind: 'applied', version: entry.version };
    }
    this.writes.push({ write, outcome });
    return outcome;
  }
}

// ---------------------------------------------------------------------------------------
// TimerIndex, ModelHealthStore, WatermarkStore

export class FakeTimerIndex implements TimerIndex {
  readonly faults = new Faults<'schedule' | 'due' | 'page' | 'backlog'>('redis');
  /** Every schedule() that went through, with its entries. */
  readonly scheduled: TimerEntry[][] = [];
  private readonly shards = new Map<number, Map<string, number>>();
  private readonly log: CallLog;

  constructor(log: CallLog) {
    this.log = log;
  }

  async schedule(entries: readonly TimerEntry[]): Promise<void> {
    await this.faults.enter('schedule', 'timers.schedule', this.log);
    this.log.add(
      'timers.schedule',
      'ok',
      entries.map((e) => e.customerId),
    );
    this.scheduled.push([...entries]);
    for (const { customerId, partition, due } of entries) {
      const shard = this.shards.get(partition) ?? new Map<string, number>();
      this.shards.set(partition, shard);
      if (Number.isNaN(due)) shard.delete(customerId);
      else shard.set(customerId, due);
    }
  }

  async due(partition: number, until: number, limit: number): Promise<string[]> {
    await this.faults.enter('due', 'timers.due', this.log);
    this.log.add('timers.due', 'ok');
    return this.sorted(partition)
      .filter(([, due]) => due <= until)
      .slice(0, limit)
      .map(([customerId]) => customerId);
  }

  /**
   * Like ZSCAN: iterates in an order that does not depend on the scores (here the member
   * names), so rescheduling members during a scan neither skips nor repeats them; the cursor
   * is where the next page starts, '0' once done.
   */
  async page(partition: number, cursor: string, count: number): Promise<{ cursor: string; customers: string[] }> {
    await this.faults.enter('page', 'timers.page', this.log);
    this.log.add('timers.page', 'ok');
    const members = [...(this.shards.get(partition)?.keys() ?? [])].sort();
    const at = Number(cursor);
    const next = at + count;
    return { cursor: next >= members.length ? '0' : String(next), customers: members.slice(at, next) };
  }

  async backlog(partition: number, until: number): Promise<number> {
    await this.faults.enter('backlog', 'timers.backlog', this.log);
    this.log.add('timers.backlog', 'ok');
    return this.sorted(partition).filter(([, due]) => due <= until).length;
  }

  /** The customer's due time in a partition's shard, or undefined. */
  get(partition: number, customerId: string): number | undefined {
    return this.shards.get(partition)?.get(customerId);
  }

  clear(): void {
    this.shards.clear();
  }

  snapshot(): Record<string, Record<string, number>> {
    return Object.fromEntries(
      [...this.shards]
        .sort(([a], [b]) => a - b)
        .map(([partition, shard]) => [String(partition), Object.fromEntries([...shard].sort())]),
    );
  }

  private sorted(partition: number): [string, number][] {
    return [...(this.shards.get(partition) ?? new Map<string, number>())].sort(
      ([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0),
    );
  }
}

export class FakeComparisonStore implements ComparisonStore {
  readonly pairs: ResolvedPair[] = [];
  private readonly log: CallLog;

  constructor(log: CallLog) {
    this.log = log;
  }

  async addPairs(pairs: readonly ResolvedPair[]): Promise<void> {
    this.log.add('comparisons.addPairs', 'ok', pairs.length);
    this.pairs.push(...pairs);
  }

  async pairStats(champion: string, challenger: string): Promise<PairStats> {
    // As the Redis store: the two versions' pairs from both roles, `champion` as rows.
    const stats = emptyPairStats();
    const customers = new Set<string>();
    for (const p of this.pairs) {
      const asChampion = p.champion === champion && p.challenger === challenger;
      const asChallenger = p.champion === challenger && p.challenger === champion;
      if (asChampion) addPair(stats, p.championRank, p.challengerRank, p.churned);
      if (asChallenger) addPair(stats, p.challengerRank, p.championRank, p.churned);
      if (asChampion || asChallenger) customers.add(p.customerId);
    }
    return { ...stats, customers: customers.size };
  }
}

export class FakeModelHealthStore implements ModelHealthStore {
  readonly faults = new Faults<'addLabels' | 'addLtvLabels' | 'labelStats' | 'ltvLabels'>('redis');
  readonly labels: ResolvedLabel[] = [];
  readonly ltvResolved: ResolvedLtvLabel[] = [];
  private readonly log: CallLog;

  constructor(log: CallLog) {
    this.log = log;
  }

  async addLabels(labels: readonly ResolvedLabel[]): Promise<void> {
    await this.faults.enter('addLabels', 'health.addLabels', this.log);
    this.log.add('health.addLabels', 'ok', labels.length);
    this.labels.push(...labels);
  }

  async addLtvLabels(labels: readonly ResolvedLtvLabel[]): Promise<void> {
    await this.faults.enter('addLtvLabels', 'health.addLtvLabels', this.log);
    this.log.add('health.addLtvLabels', 'ok', labels.length);
    this.ltvResolved.push(...labels);
  }

  async labelStats(modelVersion: string): Promise<LabelStats> {
    await this.faults.enter('labelStats', 'health.labelStats', this.log);
    const stats = emptyLabelStats();
    stats.brierSum = this.labels
      .filter((l) => l.modelVersion === modelVersion)
      .reduce((sum, l) => sum + (l.probability - (l.churned ? 1 : 0)) ** 2, 0);
    return stats;
  }

  async ltvLabels(modelVersion: string): Promise<LtvPair[]> {
    await this.faults.enter('ltvLabels', 'health.ltvLabels', this.log);
    return this.ltvResolved
      .filter((l) => l.modelVersion === modelVersion)
      .map((l) => ({ predicted: l.predicted, low: l.low, high: l.high, realised: l.realised }));
  }
}

export class FakeWatermarkStore implements WatermarkStore {
  readonly faults = new Faults<'save' | 'load'>('redis');
  readonly marks = new Map<number, number>();
  private readonly log: CallLog;

  constructor(log: CallLog) {
    this.log = log;
  }

  async save(partition: number, eventTime: number): Promise<void> {
    await this.faults.enter('save', 'watermarks.save', this.log);
    this.log.add('watermarks.save', 'ok', { partition, eventTime });
    this.marks.set(partition, eventTime);
  }

  async load(partitions: readonly number[]): Promise<Map<number, number>> {
    await this.faults.enter('load', 'watermarks.load', this.log);
    return new Map(partitions.flatMap((p) => (this.marks.has(p) ? [[p, this.marks.get(p) as number] as const] : [])));
  }
}

// ---------------------------------------------------------------------------------------
// Publisher, decoder, observer, control

export const TOPICS = { riskChanges: 'risk-changes', deadLetters: 'dead-letters', orders: 'orders' } as const;

const deadLetterType = avro.Type.forSchema(JSON.parse(readSchemaText('deadLetter')) as avro.Schema);

/** Encodes a dead letter with the real schemas/dead-letter.avsc (plain Avro, no wire header). */
export const encodeDeadLetter = (value: DeadLetterValue): Buffer => deadLetterType.toBuffer(value);
export const decodeDeadLetter = (bytes: Buffer): DeadLetterValue => deadLetterType.fromBuffer(bytes) as DeadLetterValue;

/** The risk-change record as JSON (the tests compare content, not the Avro encoding). */
export const riskRecord = (change: RiskChangeRecord): OutgoingRecord => ({
  topic: TOPICS.riskChanges,
  key: change.customer_id,
  value: Buffer.from(JSON.stringify(change)),
  headers: { event_id: change.event_id },
});

export class FakePublisher implements RecordPublisher {
  readonly faults = new Faults<'publish'>('kafka');
  /** Records acknowledged, in order. */
  readonly records: OutgoingRecord[] = [];
  private readonly log: CallLog;

  constructor(log: CallLog) {
    this.log = log;
  }

  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    await this.faults.enter('publish', 'publisher.publish', this.log);
    this.log.add(
      'publisher.publish',
      'ok',
      records.map((r) => r.topic),
    );
    this.records.push(...records);
  }

  deadLetters(): DeadLetterValue[] {
    return this.records.filter((r) => r.topic === TOPICS.deadLetters).map((r) => decodeDeadLetter(r.value));
  }

  riskChanges(): RiskChangeRecord[] {
    return this.records
      .filter((r) => r.topic === TOPICS.riskChanges)
      .map((r) => JSON.parse(r.value.toString()) as RiskChangeRecord);
  }

  /** Risk changes without repeats of an event id (a retry republishes the same records). */
  distinctRiskChanges(): RiskChangeRecord[] {
    return distinctBy(this.riskChanges(), (r) => r.event_id);
  }

  distinctDeadLetters(): DeadLetterValue[] {
    return distinctBy(this.deadLetters(), (d) => d.dead_letter_id);
  }
}

export function distinctBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const valueKey = (value: Buffer | null): string => (value === null ? '<null>' : value.toString('hex'));

/** Decodes by looking the value bytes up; bytes it was never taught are unreadable. */
export class FakeDecoder implements EventDecoder {
  readonly faults = new Faults<'decode'>('registry');
  private readonly known = new Map<string, DecodedOrderEvent>();
  private readonly log: CallLog;

  constructor(log: CallLog) {
    this.log = log;
  }

  teach(value: Buffer | null, decoded: DecodedOrderEvent): void {
    this.known.set(valueKey(value), decoded);
  }

  async decode(value: Buffer | null): Promise<DecodedOrderEvent> {
    await this.faults.enter('decode', 'decoder.decode', this.log);
    return (
      this.known.get(valueKey(value)) ?? {
        kind: 'unreadable',
        errorClass: 'bad_magic_byte',
        reason: 'the fake decoder was not taught these bytes',
      }
    );
  }
}

type ObserverCall = {
  [K in keyof ScorerObserver]: { readonly method: K; readonly args: Parameters<ScorerObserver[K]> };
}[keyof ScorerObserver];

export class RecordingObserver implements ScorerObserver {
  readonly calls: ObserverCall[] = [];
  private readonly log: CallLog;

  constructor(log: CallLog) {
    this.log = log;
  }

  of<K extends keyof ScorerObserver>(method: K): Parameters<ScorerObserver[K]>[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args as Parameters<ScorerObserver[K]>);
  }

  /** Sum of the count argument of deadLettered / applied per label. */
  counts(method: 'deadLettered' | 'applied'): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [label, count] of this.of(method)) out[label] = (out[label] ?? 0) + count;
    return out;
  }

  consumed(partition: number, count: number): void {
    this.calls.push({ method: 'consumed', args: [partition, count] });
  }
  deadLettered(errorClass: string, count: number): void {
    this.calls.push({ method: 'deadLettered', args: [errorClass, count] });
  }
  applied(outcome: string, count: number): void {
    this.calls.push({ method: 'applied', args: [outcome, count] });
  }
  riskChanges(records: readonly RiskChangeRecord[]): void {
    this.calls.push({ method: 'riskChanges', args: [records] });
  }
  scored(features: Float64Array, probability: number): void {
    this.calls.push({ method: 'scored', args: [features, probability] });
  }
  labelsResolved(labels: readonly ResolvedLabel[]): void {
    this.calls.push({ method: 'labelsResolved', args: [labels] });
  }
  ltvLabelsResolved(labels: readonly ResolvedLtvLabel[]): void {
    this.calls.push({ method: 'ltvLabelsResolved', args: [labels] });
  }
  stateConflict(): void {
    this.calls.push({ method: 'stateConflict', args: [] });
  }
  timerFired(count: number): void {
    this.calls.push({ method: 'timerFired', args: [count] });
  }
  batchDone(partition: number, seconds: number): void {
    this.calls.push({ method: 'batchDone', args: [partition, seconds] });
  }
  eventProcessed(eventTime: number): void {
    this.calls.push({ method: 'eventProcessed', args: [eventTime] });
  }
  redisCall(operation: 'read' | 'write', seconds: number): void {
    this.calls.push({ method: 'redisCall', args: [operation, seconds] });
  }
  waiting(dependency: string, seconds: number): void {
    this.log.add('observer.waiting', 'ok', dependency);
    this.calls.push({ method: 'waiting', args: [dependency, seconds] });
  }
}

export interface FakeControl extends UnitControl {
  heartbeats: number;
  /** The consumer lets go of the unit (revoked or stopping). */
  revoke(): void;
}

export function fakeControl(log: CallLog): FakeControl {
  let active = true;
  const control: FakeControl = {
    heartbeats: 0,
    heartbeat: async () => {
      control.heartbeats += 1;
      log.add('control.heartbeat', 'ok');
    },
    isActive: () => active,
    revoke: () => {
      active = false;
      log.add('control.revoke', 'ok');
    },
  };
  return control;
}

/** Retry hooks wired as service.ts wires them (observer.waiting), recording each wait. */
export function recordingHooks(observer: ScorerObserver) {
  const waits: { waitingFor: WaitingFor; seconds: number; error: unknown; attempt: number }[] = [];
  const recovered: { waitingFor: WaitingFor; attempts: number }[] = [];
  const hooks: RetryHooks = {
    waiting(waitingFor, seconds, error, attempt) {
      waits.push({ waitingFor, seconds, error, attempt });
      observer.waiting(waitingFor, seconds);
    },
    recovered(waitingFor, attempts) {
      recovered.push({ waitingFor, attempts });
    },
  };
  return { hooks, waits, recovered };
}

/** A clock whose time the test sets; kind 'watermark' so the unit saves watermarks. */
export function testClock(kind: Clock['kind'] = 'watermark'): Clock & { set(partition: number, t: number): void } {
  const marks = new Map<number, number>();
  return {
    kind,
    now: (partition) => marks.get(partition) ?? Number.NEGATIVE_INFINITY,
    nowGlobal: () => Math.max(Number.NEGATIVE_INFINITY, ...marks.values()),
    observe: (partition, t) => {
      if (!(t <= (marks.get(partition) ?? Number.NEGATIVE_INFINITY))) marks.set(partition, t);
    },
    set: (partition, t) => {
      marks.set(partition, t);
    },
  };
}

// ---------------------------------------------------------------------------------------
// The world: every fake, wired into the deps of the unit handler and the passes

/** The rules fallback (no model), as the scorer runs without model artifacts. */
export const CONTEXT: ScoringContext = scoringContextFor(null, null, DEFAULT_FEATURE_SPEC, {
  hysteresis: DEFAULT_HYSTERESIS,
  maxStalenessMs: 7 * DAY_MS,
  modelAwareTimers: true,
});

export interface World {
  readonly log: CallLog;
  readonly state: FakeStateStore;
  readonly timers: FakeTimerIndex;
  readonly health: FakeModelHealthStore;
  readonly comparisons: FakeComparisonStore;
  readonly watermarks: FakeWatermarkStore;
  readonly publisher: FakePublisher;
  readonly decoder: FakeDecoder;
  readonly observer: RecordingObserver;
  readonly control: FakeControl;
  readonly clock: ReturnType<typeof testClock>;
  readonly retry: ReturnType<typeof recordingHooks>;
  readonly deadLetter: DeadLetterFactory;
  readonly stepFailures: { readonly customerId: string; readonly error: unknown }[];
  readonly feed: Feed;
}

export function createWorld(options: { clock?: Clock['kind']; maxDeadLetterBytes?: number } = {}): World {
  const log = new CallLog();
  const observer = new RecordingObserver(log);
  const decoder = new FakeDecoder(log);
  return {
    log,
    state: new FakeStateStore(log),
    timers: new FakeTimerIndex(log),
    health: new FakeModelHealthStore(log),
    comparisons: new FakeComparisonStore(log),
    watermarks: new FakeWatermarkStore(log),
    publisher: new FakePublisher(log),
    decoder,
    observer,
    control: fakeControl(log),
    clock: testClock(options.clock ?? 'watermark'),
    retry: recordingHooks(observer),
    deadLetter: createDeadLetterFactory({
      topic: TOPICS.deadLetters,
      groupId: 'test-group',
      version: '0.0.0-test',
      maxRecordBytes: options.maxDeadLetterBytes ?? 1024 * 1024,
      encode: encodeDeadLetter,
    }),
    stepFailures: [],
    feed: new Feed(decoder),
  };
}

export function passDeps(world: World, context: () => ScoringContext = () => CONTEXT): PassDeps {
  return {
    state: world.state,
    timers: world.timers,
    health: world.health,
    comparisons: world.comparisons,
    publisher: world.publisher,
    riskRecord,
    context,
    observer: world.observer,
    clock: world.clock,
  };
}

export function unitDeps(
  world: World,
  options: { grace?: SchemaIdGrace; context?: () => ScoringContext } = {},
): UnitDeps {
  return {
    ...passDeps(world, options.context),
    deadLetter: world.deadLetter,
    stepFailed: (customerId, error) => {
      world.stepFailures.push({ customerId, error });
    },
    decoder: world.decoder,
    schemaIdGrace: options.grace ?? new SchemaIdGrace(60_000),
    validation: DEFAULT_VALIDATION,
    watermarks: world.watermarks,
    retry: world.retry.hooks,
  };
}

// ---------------------------------------------------------------------------------------
// Input: events and the records that carry them

export const T0 = Date.UTC(2025, 0, 1);

export interface FedRecord {
  readonly record: InputRecord;
  /** The event the decoder returns for it, if it decodes to one. */
  readonly event: OrderEvent | null;
  readonly partition: number;
}

/**
 * Makes input records with increasing offsets per partition and teaches the decoder what
 * each one's bytes decode to.
 */
export class Feed {
  private readonly decoder: FakeDecoder;
  private readonly next = new Map<number, number>();
  private serial = 0;

  constructor(decoder: FakeDecoder) {
    this.decoder = decoder;
  }

  /** An order of `customerId` on day `day` after T0 (amount 20, one item). */
  order(partition: number, customerId: string, day: number, overrides: Partial<OrderEvent> = {}): FedRecord {
    this.serial += 1;
    const event: OrderEvent = {
      customerId,
      orderId: `o${this.serial}`,
      eventTime: T0 + day * DAY_MS,
      type: 'order',
      amount: 20,
      currency: 'GBP',
      itemCount: 1,
      originalOrderId: null,
      ...overrides,
    };
    return this.decoded(partition, { kind: 'event', event }, customerId);
  }

  /** A record whose bytes decode to `decoded` (an event, unreadable, or an unknown schema id). */
  decoded(partition: number, decoded: DecodedOrderEvent, key: string | null = null): FedRecord {
    this.serial += 1;
    const value = Buffer.from(`value-${this.serial}`);
    this.decoder.teach(value, decoded);
    return this.raw(partition, value, key, decoded.kind === 'event' ? decoded.event : null);
  }

  /** A record with the given bytes (the decoder answers for them whatever it was taught). */
  raw(partition: number, value: Buffer | null, key: string | null = null, event: OrderEvent | null = null): FedRecord {
    const offset = this.next.get(partition) ?? 0;
    this.next.set(partition, offset + 1);
    return {
      partition,
      event,
      record: {
        key: key === null ? null : Buffer.from(key),
        value,
        offset: String(offset),
        timestamp: String(T0),
        headers: { source: 'test' },
      },
    };
  }
}

/** The batch of one partition carrying these records (all of that partition, in order). */
export function batchOf(partition: number, fed: readonly FedRecord[]): InputBatch {
  for (const f of fed) if (f.partition !== partition) throw new Error('record of another partition');
  return {
    topic: TOPICS.orders,
    partition,
    records: fed.map((f) => f.record),
    highWatermark: String(Number(fed.at(-1)?.record.offset ?? '-1') + 1),
  };
}

/** The sourced events of `customerId` among the records, in the given order. */
export function eventsOf(customerId: string, fed: readonly FedRecord[]): SourcedEvent[] {
  return fed.flatMap((f) =>
    f.event !== null && f.event.customerId === customerId ? [{ event: f.event, offset: f.record.offset }] : [],
  );
}

// ---------------------------------------------------------------------------------------
// The reference: the pure core over the same events

export const storedOfStep = (step: CustomerStep): StoredCustomer => ({
  state: step.state,
  tier: step.tier,
  nextDue: step.nextDue,
  prediction: step.prediction,
  ltvPrediction: step.ltvPrediction,
});

/** The customer's step as the pure core computes it from scratch over `events`. */
export const coreRun = (customerId: string, events: readonly SourcedEvent[], ctx = CONTEXT): CustomerStep =>
  processEvents(customerId, null, events, ctx);

/**
 * Asserts that what the world holds for the customer (state, tier, timers, predictions,
 * the timer entry in its partition's shard, the distinct risk changes published for it)
 * is what the pure core computes over `events` (every event ever delivered for the
 * customer, in delivery order).
 */
export function expectMatchesCore(
  world: World,
  customerId: string,
  partition: number,
  events: readonly SourcedEvent[],
  ctx = CONTEXT,
): CustomerStep {
  const expected = coreRun(customerId, events, ctx);
  const stored = world.state.get(customerId);
  expect(stored?.stored, `stored state of ${customerId}`).toEqual(copy(storedOfStep(expected)));
  const due = world.timers.get(partition, customerId);
  if (Number.isNaN(expected.nextDue)) expect(due, `timer of ${customerId}`).toBeUndefined();
  else expect(due, `timer of ${customerId}`).toBe(expected.nextDue);
  const published = world.publisher.distinctRiskChanges().filter((r) => r.customer_id === customerId);
  expect(published, `risk changes of ${customerId}`).toEqual(JSON.parse(JSON.stringify(expected.riskChanges)));
  return expected;
}

// ---------------------------------------------------------------------------------------
// Fake time

/**
 * Advances vitest's fake timers until the promise settles (or `maxMs` of fake time passed,
 * then fails): for code that waits with setTimeout (the transient retry's backoff).
 */
export async function settle<T>(promise: Promise<T>, maxMs = 120_000, stepMs = 50): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  for (let waited = 0; !settled && waited < maxMs; waited += stepMs) await vi.advanceTimersByTimeAsync(stepMs);
  if (!settled) throw new Error(`still pending after ${maxMs} ms of fake time`);
  return watched;
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
