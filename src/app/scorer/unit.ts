// Handles one unit (the batches of several partitions kafkajs handed over together):
// decode, dead-letter the poison, apply the customers round by round in chunks, move the
// partitions' event-time watermarks. A transient failure anywhere retries the whole unit
// (every effect is fenced or carries a deterministic id, so a retry repeats nothing
// visible) until it succeeds or the consumer lets go of the partitions.
import pLimit from 'p-limit';
import type { ValidationRules } from '../../core/events/validate.js';
import type { Clock } from '../clock.js';
import { applyChunk, type ChunkDeps } from './apply-chunk.js';
import { type DecodedUnit, decodeUnit, type SchemaIdGrace } from './decode.js';
import type { EventDecoder, InputBatch, UnitControl, UnitOutcome, WatermarkStore } from './ports.js';
import { chunksOf, roundsOf } from './rounds.js';
import { type RetryHooks, retryTransient, UnitAbandoned } from './transient-retry.js';

/**
 * A round's customers are applied in chunks: each chunk's Redis pipelines and Kafka request
 * stay bounded however large the fetch, and two chunks in flight let one compute while the
 * other waits on Redis or Kafka (bench/pipeline.ts: no throughput difference between
 * 500-2,000 customers and 1-3 in flight on 2 cores).
 */
export const CHUNK_CUSTOMERS = 1000;
export const CHUNKS_IN_FLIGHT = 2;

export interface UnitDeps extends ChunkDeps {
  readonly decoder: EventDecoder;
  readonly schemaIdGrace: SchemaIdGrace;
  readonly validation: ValidationRules;
  readonly watermarks: WatermarkStore;
  readonly clock: Clock;
  readonly retry: RetryHooks;
}

/** What an applied unit reports: its dead letters, and events dead-lettered because their step failed. */
type AppliedUnit = DecodedUnit & { readonly internalErrors: number };

async function applyUnit(deps: UnitDeps, batches: readonly InputBatch[], control: UnitControl): Promise<AppliedUnit> {
  const decoded = await decodeUnit(batches, deps.decoder, deps.schemaIdGrace, deps.validation, Date.now());
  // Poison goes to the dead-letter topic before anything else of the unit.
  await deps.publisher.publish(decoded.letters.map((l) => deps.deadLetter(l.batch, l.record, l.errorClass, l.reason)));
  const limit = pLimit(CHUNKS_IN_FLIGHT);
  let internalErrors = 0;
  for (const round of roundsOf(decoded.groups)) {
    // Chunks of distinct customers are independent. All of them settle before the attempt
    // ends: a retry (or the next unit) must never overlap a chunk still writing.
    const settled = await Promise.allSettled(
      chunksOf(round, CHUNK_CUSTOMERS).map((chunk) => limit(() => applyChunk(deps, chunk, control))),
    );
    for (const result of settled) {
      if (result.status === 'rejected') throw result.reason;
      internalErrors += result.value;
    }
  }
  // A watermark moves only once its whole batch is applied, so a timer never fires ahead
  // of an event of the same batch.
  for (const batch of batches) {
    let last = Number.NEGATIVE_INFINITY;
    for (const group of decoded.groups)
      if (group.batch === batch) for (const { event } of group.events) last = Math.max(last, event.eventTime);
    if (last > deps.clock.now(batch.partition)) {
      if (deps.clock.kind === 'watermark') await deps.watermarks.save(batch.partition, last);
      deps.clock.observe(batch.partition, last);
    }
  }
  return { ...decoded, internalErrors };
}

/** The unit handler the consumer calls; resolves once the unit is applied or let go. */
export function createUnitHandler(deps: UnitDeps) {
  return async (batches: readonly InputBatch[], control: UnitControl): Promise<UnitOutcome> => {
    const started = performance.now();
    // Received, whatever happens next (a unit waiting for a dependency still shows its intake).
    for (const batch of batches) deps.observer.consumed(batch.partition, batch.records.length);
    let decoded: AppliedUnit;
    try {
      decoded = await retryTransient(() => applyUnit(deps, batches, control), control, deps.retry);
    } catch (error) {
      // The partitions moved or the consumer stops: the next owner redelivers the unit.
      if (error instanceof UnitAbandoned) return 'let_go';
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    const letters = new Map<string, number>();
    for (const letter of decoded.letters) letters.set(letter.errorClass, (letters.get(letter.errorClass) ?? 0) + 1);
    for (const [errorClass, count] of letters) deps.observer.deadLettered(errorClass, count);
    if (decoded.internalErrors > 0) deps.observer.deadLettered('internal_error', decoded.internalErrors);
    for (const group of decoded.groups)
      for (const { event } of group.events) deps.observer.eventProcessed(event.eventTime);
    for (const batch of batches) deps.observer.batchDone(batch.partition, seconds);
    return 'applied';
  };
}
