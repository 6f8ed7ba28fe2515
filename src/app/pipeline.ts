// The streaming scorer's batch path, wired from the pure core and the adapters:
// bytes -> decoded, validated events (or dead letters) -> per-customer state (Redis)
// -> features -> scores -> tier change -> risk-change events (Kafka) -> state written.
//
// Order of effects, which is what makes the outcome exactly-once in effect:
//   1. dead letters and risk-change events are published (acks=all) first;
//   2. then each customer's state is written with a fenced compare-and-set;
//   3. the consumer commits the input offsets only after this handler returns.
// A crash between 1 and 2 republishes the same records (same deterministic ids) on
// redelivery; a crash between 2 and 3 redelivers events whose offsets the state
// already holds, and they are skipped. docs/EXACTLY_ONCE.md has the full argument.
import { packageVersion } from '../adapters/files/package-root.js';
import type { Batch } from '../adapters/kafka/consumer.js';
import type { OutgoingRecord, Publisher } from '../adapters/kafka/publisher.js';
import type { CustomerStore, CustomerWrite, LoadedCustomer } from '../adapters/redis/customer-store.js';
import type { AvroRegistry, RegisteredValueSchema } from '../adapters/registry/avro-registry.js';
import { fromOrderEventRecord, type OrderEventRecord } from '../adapters/registry/order-event-codec.js';
import type { HysteresisPolicy } from '../core/decisions/hysteresis.js';
import type { RiskChangeRecord } from '../core/events/risk-change.js';
import { type ValidationRules, validateOrderEvent } from '../core/events/validate.js';
import {
  type CustomerStep,
  processEvents,
  processModelChange,
  processTimers,
  type ResolvedLabel,
  type ResolvedLtvLabel,
  type ScoringContext,
  type SourcedEvent,
  type StoredCustomer,
  scoringContextFor,
} from '../core/pipeline/process.js';
import type { Clock } from './clock.js';
import { activeSpec, type ModelRegistry } from './model-registry.js';

/** Named in every dead letter, so a rejected record says which release rejected it. */
export const CHURNSTREAM_VERSION = packageVersion();

/** Counts the pipeline reports; the metrics module turns them into Prometheus series. */
export interface PipelineEvents {
  consumed(partition: number, count: number): void;
  deadLettered(errorClass: string): void;
  applied(outcome: string, count: number): void;
  riskChanges(records: readonly RiskChangeRecord[]): void;
  scored(features: Float64Array, probability: number): void;
  labelsResolved(labels: readonly ResolvedLabel[]): void;
  ltvLabelsResolved(labels: readonly ResolvedLtvLabel[]): void;
  stateConflict(): void;
  timerFired(count: number): void;
  batchDone(partition: number, messages: number, seconds: number, lastEventTime: number): void;
  eventProcessed(eventTime: number): void;
  redisCall(operation: 'read' | 'write', seconds: number): void;
}

export interface PipelineDeps {
  readonly registry: AvroRegistry;
  readonly schemas: {
    readonly orders: RegisteredValueSchema;
    readonly riskChanges: RegisteredValueSchema;
    readonly deadLetters: RegisteredValueSchema;
  };
  readonly store: CustomerStore;
  readonly publisher: Publisher;
  readonly models: ModelRegistry;
  readonly clock: Clock;
  readonly topics: { readonly riskChanges: string; readonly deadLetters: string };
  readonly groupId: string;
  readonly validation: ValidationRules;
  readonly hysteresis: HysteresisPolicy;
  readonly maxStalenessMs: number;
  readonly modelAwareTimers: boolean;
  readonly events: PipelineEvents;
}

interface DeadLetter {
  readonly errorClass: string;
  readonly reason: string;
  readonly message: Batch['messages'][number];
}

const MAX_CONFLICT_RETRIES = 5;
/**
 * A unit's customers are applied in chunks: each chunk's Redis pipelines and Kafka request
 * stay bounded however large the fetch, and two chunks in flight let one compute while the
 * other waits on Redis or Kafka. (bench/pipeline.ts showed no throughput difference between
 * 500-2,000 customers and 1-3 in flight on 2 cores; these are the values every suite ran with.)
 */
const CHUNK_CUSTOMERS = 1000;
const CHUNKS_IN_FLIGHT = 2;

/** Labels of applied steps go to the shared model-health stats in Redis and to the metrics. */
async function recordLabels(
  deps: PipelineDeps,
  resolved: readonly ResolvedLabel[],
  resolvedLtv: readonly ResolvedLtvLabel[],
): Promise<void> {
  await Promise.all([deps.store.addLabels(resolved), deps.store.addLtvLabels(resolvedLtv)]);
  deps.events.labelsResolved(resolved);
  deps.events.ltvLabelsResolved(resolvedLtv);
}

/** What a step leaves to store for the customer. */
const storedOf = (step: CustomerStep): StoredCustomer => ({
  state: step.state,
  tier: step.tier,
  nextDue: step.nextDue,
  prediction: step.prediction,
  ltvPrediction: step.ltvPrediction,
});

function scoringContext(deps: PipelineDeps): ScoringContext {
  const models = deps.models.current;
  return scoringContextFor(models.churn, models.ltv, activeSpec(models), deps);
}

function deadLetterRecord(deps: PipelineDeps, batch: Batch, letter: DeadLetter): OutgoingRecord {
  const headers = Object.entries(letter.message.headers).flatMap(([key, value]) =>
    (Array.isArray(value) ? value : [value])
      .filter((v) => v !== undefined)
      .map((v) => ({ key, value: Buffer.from(v as Buffer | string) })),
  );
  const record = {
    dead_letter_id: `${batch.topic}/${batch.partition}/${letter.message.offset}`,
    source_topic: batch.topic,
    source_partition: batch.partition,
    source_offset: Number(letter.message.offset),
    source_timestamp: Number(letter.message.timestamp),
    key: letter.message.key,
    value: letter.message.value,
    headers,
    error_class: letter.errorClass,
    reason: letter.reason,
    failed_at: Date.now(),
    consumer_group: deps.groupId,
    churnstream_version: CHURNSTREAM_VERSION,
  };
  return {
    topic: deps.topics.deadLetters,
    key: letter.message.key,
    value: deps.registry.encode(deps.schemas.deadLetters, record),
  };
}

const riskRecord = (deps: PipelineDeps, record: RiskChangeRecord): OutgoingRecord => ({
  topic: deps.topics.riskChanges,
  key: record.customer_id,
  value: deps.registry.encode(deps.schemas.riskChanges, record),
  headers: { event_id: record.event_id },
});

/** Decodes and validates a batch; valid events grouped by customer in offset order. */
async function decodeBatch(deps: PipelineDeps, batch: Batch) {
  const byCustomer = new Map<string, SourcedEvent[]>();
  const letters: DeadLetter[] = [];
  const now = Date.now();
  for (const message of batch.messages) {
    const decoded = await deps.registry.decode<OrderEventRecord>(message.value, deps.schemas.orders);
    if (!decoded.ok) {
      letters.push({ errorClass: decoded.errorClass, reason: decoded.reason, message });
      continue;
    }
    const event = fromOrderEventRecord(decoded.value);
    const invalid = validateOrderEvent(event, now, deps.validation);
    if (invalid !== null) {
      letters.push({ ...invalid, message });
      continue;
    }
    const list = byCustomer.get(event.customerId) ?? [];
    list.push({ event, offset: message.offset });
    byCustomer.set(event.customerId, list);
  }
  return { byCustomer, letters };
}

/** One customer's valid events from one batch. */
interface CustomerEvents {
  readonly batch: Batch;
  readonly customerId: string;
  readonly events: readonly SourcedEvent[];
}

/**
 * Splits the groups into rounds in which no customer appears twice. Events are keyed by
 * customer, so a customer normally lives in one partition and there is one round; a
 * producer that spread a customer over partitions gets its batches applied one after
 * the other (each round reads the state the previous one wrote).
 */
function roundsOf(groups: readonly CustomerEvents[]): CustomerEvents[][] {
  const rounds: { readonly customers: Set<string>; readonly groups: CustomerEvents[] }[] = [];
  for (const group of groups) {
    let round = rounds.find((r) => !r.customers.has(group.customerId));
    if (round === undefined) {
      round = { customers: new Set(), groups: [] };
      rounds.push(round);
    }
    round.customers.add(group.customerId);
    round.groups.push(group);
  }
  return rounds.map((r) => r.groups);
}

/**
 * Applies one round of customers: read their state, step each through its fresh events,
 * publish the risk changes and refused events, then write with the version fence;
 * customers whose write lost the fence are read and stepped again.
 */
async function applyRound(
  deps: PipelineDeps,
  round: readonly CustomerEvents[],
  heartbeat: () => Promise<void>,
): Promise<void> {
  const messageByOffset = new Map<Batch, Map<string, Batch['messages'][number]>>();
  const messageOf = (batch: Batch, offset: string) => {
    let byOffset = messageByOffset.get(batch);
    if (byOffset === undefined) {
      byOffset = new Map(batch.messages.map((m) => [m.offset, m]));
      messageByOffset.set(batch, byOffset);
    }
    return byOffset.get(offset);
  };
  let pending = round;
  for (let attempt = 0; pending.length > 0; attempt += 1) {
    if (attempt > MAX_CONFLICT_RETRIES)
      throw new Error(`state version conflicts persist for ${pending.length} customers`);
    const ctx = scoringContext(deps);
    const readStarted = performance.now();
    const loaded = await deps.store.read(
      pending.map((g) => ({ customerId: g.customerId, partition: g.batch.partition })),
    );
    deps.events.redisCall('read', (performance.now() - readStarted) / 1000);
    const writes: CustomerWrite[] = [];
    const steps: { readonly group: CustomerEvents; readonly step: CustomerStep }[] = [];
    const refreshTimers: CustomerWrite[] = [];
    for (const group of pending) {
      const { customerId, batch } = group;
      const current = loaded.get(customerId) as LoadedCustomer;
      // Events at or below the offset the state already holds were applied before a crash.
      const fresh = group.events.filter((e) => current.lastOffset === null || BigInt(e.offset) > current.lastOffset);
      if (fresh.length === 0) {
        if (current.stored !== null)
          refreshTimers.push({
            customerId,
            expectedVersion: -1,
            source: null,
            next: current.stored,
            timerPartition: batch.partition,
          });
        continue;
      }
      const step = processEvents(customerId, current.stored, fresh, ctx);
      steps.push({ group, step });
      writes.push({
        customerId,
        expectedVersion: current.version,
        source: { partition: batch.partition, offset: fresh.at(-1)?.offset ?? '0' },
        next: storedOf(step),
        timerPartition: batch.partition,
      });
    }
    const outgoing: OutgoingRecord[] = [];
    for (const { group, step } of steps) {
      for (const refused of step.refused) {
        const message = messageOf(group.batch, refused.offset);
        if (message)
          outgoing.push(
            deadLetterRecord(deps, group.batch, { errorClass: refused.errorClass, reason: refused.reason, message }),
          );
      }
      for (const change of step.riskChanges) outgoing.push(riskRecord(deps, change));
    }
    await deps.publisher.publish(outgoing);
    await heartbeat();
    const writeStarted = performance.now();
    const [outcomes] = await Promise.all([deps.store.write(writes), deps.store.refreshTimers(refreshTimers)]);
    deps.events.redisCall('write', (performance.now() - writeStarted) / 1000);
    const conflicted = new Set<CustomerEvents>();
    const resolved: ResolvedLabel[] = [];
    const resolvedLtv: ResolvedLtvLabel[] = [];
    // Counters are summed over the round and reported once (labelled counters cost a
    // label lookup per call).
    const appliedCounts = new Map<string, number>();
    const changes: RiskChangeRecord[] = [];
    let timerEvaluations = 0;
    outcomes.forEach((outcome, index) => {
      const done = steps[index];
      if (done === undefined) return;
      const { step } = done;
      if (outcome.kind === 'version_conflict') {
        conflicted.add(done.group);
        deps.events.stateConflict();
        return;
      }
      if (outcome.kind !== 'applied') return;
      for (const refused of step.refused) deps.events.deadLettered(refused.errorClass);
      for (const kind in step.outcomes) {
        const count = step.outcomes[kind as keyof typeof step.outcomes];
        if (count > 0) appliedCounts.set(kind, (appliedCounts.get(kind) ?? 0) + count);
      }
      for (const change of step.riskChanges) changes.push(change);
      timerEvaluations += step.timerEvaluations;
      for (const scoring of step.scored) deps.events.scored(scoring.features, scoring.probability);
      for (const label of step.resolved) resolved.push(label);
      for (const label of step.resolvedLtv) resolvedLtv.push(label);
    });
    for (const [kind, count] of appliedCounts) deps.events.applied(kind, count);
    deps.events.riskChanges(changes);
    deps.events.timerFired(timerEvaluations);
    await recordLabels(deps, resolved, resolvedLtv);
    pending = pending.filter((group) => conflicted.has(group));
  }
}

/**
 * Handles the batches of several partitions as one unit (at most one batch per
 * partition; a partition's batches stay in order because its next batch comes only
 * after this resolves): one state read, one publish and one write per round for all of
 * them, instead of a chain of round trips per partition.
 */
export function createBatchesHandler(deps: PipelineDeps) {
  return async (batches: readonly Batch[], heartbeat: () => Promise<void>): Promise<void> => {
    const started = performance.now();
    const groups: CustomerEvents[] = [];
    const letters: OutgoingRecord[] = [];
    const classes: string[] = [];
    for (const batch of batches) {
      deps.events.consumed(batch.partition, batch.messages.length);
      const decoded = await decodeBatch(deps, batch);
      for (const [customerId, events] of decoded.byCustomer) groups.push({ batch, customerId, events });
      for (const letter of decoded.letters) {
        letters.push(deadLetterRecord(deps, batch, letter));
        classes.push(letter.errorClass);
      }
    }
    // Undecodable and invalid records go to the dead-letter topic before anything else.
    await deps.publisher.publish(letters);
    for (const errorClass of classes) deps.events.deadLettered(errorClass);
    for (const round of roundsOf(groups)) {
      // Chunks of distinct customers are independent (see CHUNK_CUSTOMERS).
      const chunks: CustomerEvents[][] = [];
      for (let at = 0; at < round.length; at += CHUNK_CUSTOMERS) chunks.push(round.slice(at, at + CHUNK_CUSTOMERS));
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let chunk = chunks[next++]; chunk !== undefined; chunk = chunks[next++]) {
          await applyRound(deps, chunk, heartbeat);
        }
      };
      await Promise.all(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, chunks.length) }, worker));
    }

    // The watermark moves only once the whole batch is applied, so a timer never fires
    // ahead of an event of the same batch.
    const lastEventTimes = new Map<Batch, number>();
    for (const { batch, events } of groups) {
      let last = lastEventTimes.get(batch) ?? 0;
      for (const { event } of events) {
        deps.events.eventProcessed(event.eventTime);
        if (event.eventTime > last) last = event.eventTime;
      }
      lastEventTimes.set(batch, last);
    }
    const seconds = (performance.now() - started) / 1000;
    for (const batch of batches) {
      const lastEventTime = lastEventTimes.get(batch) ?? 0;
      if (lastEventTime > deps.clock.now(batch.partition)) {
        deps.clock.observe(batch.partition, lastEventTime);
        if (deps.clock.kind === 'watermark') await deps.store.saveWatermark(batch.partition, lastEventTime);
      }
      deps.events.batchDone(batch.partition, batch.messages.length, seconds, lastEventTime);
    }
  };
}

/**
 * Rescores customers outside the event path (timers, model changes): each is read,
 * stepped with `step`, its changes published, then written with the version fence
 * only (no source offset). A lost fence means the batch path or another pass wrote
 * first; it computes the same due rescorings.
 */
async function rescoreCustomers(
  deps: PipelineDeps,
  partition: number,
  customers: readonly string[],
  step: (customerId: string, stored: StoredCustomer, ctx: ScoringContext) => CustomerStep,
): Promise<number> {
  if (customers.length === 0) return 0;
  const ctx = scoringContext(deps);
  const loaded = await deps.store.read(customers.map((customerId) => ({ customerId, partition: null })));
  const writes: CustomerWrite[] = [];
  const steps: CustomerStep[] = [];
  for (const customerId of customers) {
    const current = loaded.get(customerId);
    if (current?.stored == null) continue;
    const next = step(customerId, current.stored, ctx);
    steps.push(next);
    writes.push({
      customerId,
      expectedVersion: current.version,
      source: null,
      next: storedOf(next),
      timerPartition: partition,
    });
  }
  await deps.publisher.publish(steps.flatMap((s) => s.riskChanges.map((change) => riskRecord(deps, change))));
  const outcomes = await deps.store.write(writes);
  const resolved: ResolvedLabel[] = [];
  const resolvedLtv: ResolvedLtvLabel[] = [];
  outcomes.forEach((outcome, index) => {
    const done = steps[index];
    if (done === undefined) return;
    if (outcome.kind === 'applied') {
      deps.events.riskChanges(done.riskChanges);
      deps.events.timerFired(done.timerEvaluations);
      resolved.push(...done.resolved);
      resolvedLtv.push(...done.resolvedLtv);
    } else {
      deps.events.stateConflict();
    }
  });
  await recordLabels(deps, resolved, resolvedLtv);
  return steps.length;
}

/** One pass of the timer loop over a partition: rescore every customer due by the clock (a page). */
export async function runDueTimers(deps: PipelineDeps, partition: number, limit: number): Promise<number> {
  // Strictly before the clock: an event dated exactly `now` may still arrive (day- or
  // second-granular data has many), and the event path evaluates only the timers due
  // strictly before an event, so a timer at an event's own time must wait for it.
  const until = deps.clock.now(partition) - 1;
  const due = await deps.store.due(partition, until, limit);
  await rescoreCustomers(deps, partition, due, (customerId, stored, ctx) =>
    processTimers(customerId, stored, until, ctx),
  );
  return due.length;
}

/**
 * After a model swap: rescore every timed customer of a partition with the new models
 * (trigger "model_change"), publishing the tiers that change.
 */
export async function rescoreForModelChange(deps: PipelineDeps, partition: number, pageSize: number): Promise<number> {
  const models = deps.models.current;
  const versions = `${models.churn?.config.version ?? 'rules_v1'}/${models.ltv?.config.version ?? 'rules_v1'}`;
  const asOf = deps.clock.now(partition);
  if (!Number.isFinite(asOf)) return 0;
  let cursor = '0';
  let rescored = 0;
  do {
    const page = await deps.store.customersOf(partition, cursor, pageSize);
    cursor = page.cursor;
    rescored += await rescoreCustomers(deps, partition, page.customers, (customerId, stored, ctx) =>
      processModelChange(customerId, stored, asOf, versions, ctx),
    );
  } while (cursor !== '0');
  return rescored;
}
