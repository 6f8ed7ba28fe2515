// Applies one chunk of a round: read the customers' state, step each through its fresh
// events (pure core), publish the risk changes and refused events, then write the states
// with the version fence and register their timers. Customers whose write lost the fence
// are read and stepped again. Publishing before writing is what makes the effect
// exactly-once (docs/EXACTLY_ONCE.md): a crash in between republishes the same records.

import type { StoredCustomer } from '../../core/state/stored-customer.js';
import { type CustomerStep, processEvents, type ScoringContext } from '../../core/step/customer-step.js';
import type { DeadLetterFactory } from './dead-letters.js';
import type { CustomerEvents } from './decode.js';
import { ConflictsPersist } from './failures.js';
import type {
  ComparisonStore,
  CustomerWrite,
  ModelHealthStore,
  OutgoingRecord,
  RecordPublisher,
  ScorerObserver,
  StateStore,
  TimerEntry,
  TimerIndex,
  UnitControl,
} from './ports.js';
import { reportApplied } from './tally.js';

export const MAX_CONFLICT_RETRIES = 5;

/** What every path that steps customers and stores the result needs (units and passes). */
export interface StepDeps {
  readonly state: StateStore;
  readonly timers: TimerIndex;
  readonly health: ModelHealthStore;
  readonly comparisons: ComparisonStore;
  readonly publisher: RecordPublisher;
  readonly riskRecord: (change: CustomerStep['riskChanges'][number]) => OutgoingRecord;
  readonly context: () => ScoringContext;
  readonly observer: ScorerObserver;
}

export interface ChunkDeps extends StepDeps {
  readonly deadLetter: DeadLetterFactory;
  /** Told about a customer whose step threw: its events are dead-lettered as internal_error. */
  readonly stepFailed: (customerId: string, error: unknown) => void;
}

/** What a step leaves to store for the customer. */
export const storedOf = (step: CustomerStep): StoredCustomer => ({
  state: step.state,
  tier: step.tier,
  nextDue: step.nextDue,
  prediction: step.prediction,
  ltvPrediction: step.ltvPrediction,
});

/** Applies the chunk; returns how many events were dead-lettered because their step failed. */
export async function applyChunk(
  deps: ChunkDeps,
  chunk: readonly CustomerEvents[],
  control: UnitControl,
): Promise<number> {
  let pending = chunk;
  let internalErrors = 0;
  for (let attempt = 0; pending.length > 0; attempt += 1) {
    if (attempt > MAX_CONFLICT_RETRIES)
      throw new ConflictsPersist(`state version conflicts persist for ${pending.length} customers`);
    const result = await attemptChunk(deps, pending, control);
    pending = result.conflicted;
    internalErrors += result.internalErrors;
  }
  return internalErrors;
}

/** One read-step-publish-write pass: the groups whose write lost the version fence, and step failures. */
async function attemptChunk(
  deps: ChunkDeps,
  groups: readonly CustomerEvents[],
  control: UnitControl,
): Promise<{ conflicted: CustomerEvents[]; internalErrors: number }> {
  const ctx = deps.context();
  const readStarted = performance.now();
  const loaded = await deps.state.read(groups.map((g) => ({ customerId: g.customerId, partition: g.batch.partition })));
  deps.observer.redisCall('read', (performance.now() - readStarted) / 1000);
  const stepped: { readonly group: CustomerEvents; readonly step: CustomerStep; readonly write: CustomerWrite }[] = [];
  const refreshed: TimerEntry[] = [];
  const outgoing: OutgoingRecord[] = [];
  let internalErrors = 0;
  for (const group of groups) {
    const { customerId, batch } = group;
    const current = loaded.get(customerId);
    if (current === undefined) throw new Error(`state read returned no entry for ${customerId}`);
    // Events at or below the offset the state already holds were applied before a crash.
    const fresh = group.events.filter((e) => current.lastOffset === null || BigInt(e.offset) > current.lastOffset);
    if (fresh.length === 0) {
      // A redelivery: the state is written; make sure its timer is too.
      if (current.stored !== null)
        refreshed.push({ customerId, partition: batch.partition, due: current.stored.nextDue });
      continue;
    }
    let step: CustomerStep;
    try {
      step = processEvents(customerId, current.stored, fresh, ctx);
    } catch (error) {
      // A bug met by this customer's events: they are poison for this release, the rest go on.
      deps.stepFailed(customerId, error);
      const reason = `processing failed: ${error instanceof Error ? error.message : String(error)}`;
      const byOffset = new Map(batch.records.map((r) => [r.offset, r]));
      for (const e of fresh) {
        const record = byOffset.get(e.offset);
        if (record !== undefined) outgoing.push(deps.deadLetter(batch, record, 'internal_error', reason));
      }
      internalErrors += fresh.length;
      continue;
    }
    const source = { partition: batch.partition, offset: fresh.at(-1)?.offset ?? '0' };
    stepped.push({
      group,
      step,
      write: {
        customerId,
        expectedVersion: current.version,
        partition: batch.partition,
        source,
        next: storedOf(step),
      },
    });
    if (step.refused.length > 0) {
      const byOffset = new Map(batch.records.map((r) => [r.offset, r]));
      for (const refused of step.refused) {
        const record = byOffset.get(refused.offset);
        if (record !== undefined) outgoing.push(deps.deadLetter(batch, record, refused.errorClass, refused.reason));
      }
    }
    for (const change of step.riskChanges) outgoing.push(deps.riskRecord(change));
  }
  await deps.publisher.publish(outgoing);
  await control.heartbeat();
  const writeStarted = performance.now();
  const outcomes = await deps.state.write(stepped.map((s) => s.write));
  deps.observer.redisCall('write', (performance.now() - writeStarted) / 1000);
  const applied: CustomerStep[] = [];
  const conflicted: CustomerEvents[] = [];
  outcomes.forEach((outcome, index) => {
    const done = stepped[index];
    if (done === undefined) return;
    if (outcome.kind === 'applied') {
      applied.push(done.step);
      refreshed.push({
        customerId: done.group.customerId,
        partition: done.group.batch.partition,
        due: done.step.nextDue,
      });
    } else if (outcome.kind === 'version_conflict') {
      conflicted.push(done.group);
      deps.observer.stateConflict();
    }
  });
  await deps.timers.schedule(refreshed);
  await reportApplied(applied, deps, deps.observer);
  return { conflicted, internalErrors };
}
