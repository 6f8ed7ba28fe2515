// A unit's first stage: every input record becomes either a valid order event, grouped by
// customer in offset order, or a dead letter (poison: it can never be processed). A record
// whose writer schema id the registry does not serve yet is neither: the attempt fails
// with SchemaIdPending (transient) while the id is within its grace period, so the unit is
// retried and the id asked again; after the grace period the record is poison.
import { type ValidationRules, validateOrderEvent } from '../../core/events/validate.js';
import type { SourcedEvent } from '../../core/step/customer-step.js';
import { type DeadLetterReason, SchemaIdPending } from './failures.js';
import type { EventDecoder, InputBatch, InputRecord } from './ports.js';

export interface Letter {
  readonly batch: InputBatch;
  readonly record: InputRecord;
  readonly errorClass: DeadLetterReason;
  readonly reason: string;
}

/** One customer's valid events from one batch. */
export interface CustomerEvents {
  readonly batch: InputBatch;
  readonly customerId: string;
  readonly events: readonly SourcedEvent[];
}

export interface DecodedUnit {
  readonly groups: CustomerEvents[];
  readonly letters: Letter[];
}

/**
 * Decides whether an unknown schema id is waited for (the registry may serve it a moment
 * after a producer used it) or is poison. An id is waited for until `graceMs` after it was
 * first met. A new schema comes alone or in twos; many distinct unknown ids are garbage, and
 * waiting for each would stall the partition once per id: so at most `maxPending` distinct
 * unknown ids are given a grace per window of `10 x graceMs` (at least a minute), and any
 * more are poison at once. A garbage flood therefore costs at most one grace period per
 * window. Ids past their grace are remembered (bounded) so they never stall again; the
 * registry is still asked every time, so an id it serves later decodes.
 */
export class SchemaIdGrace {
  private readonly pending = new Map<number, number>();
  /** Distinct unknown ids met within the window, with when they were first met. */
  private readonly recent = new Map<number, number>();
  private readonly expired = new Set<number>();
  private readonly graceMs: number;
  private readonly windowMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;

  constructor(graceMs: number, options: { maxPending?: number; now?: () => number } = {}) {
    this.graceMs = graceMs;
    this.windowMs = Math.max(10 * graceMs, 60_000);
    this.maxPending = options.maxPending ?? 4;
    this.now = options.now ?? Date.now;
  }

  /** True while the id should be waited for; false once it is poison. */
  shouldWait(schemaId: number): boolean {
    if (this.graceMs <= 0 || this.expired.has(schemaId)) return false;
    const now = this.now();
    for (const [id, since] of this.recent) if (now - since >= this.windowMs) this.recent.delete(id);
    const first = this.pending.get(schemaId);
    if (first !== undefined) {
      if (now - first < this.graceMs) return true;
      this.pending.delete(schemaId);
      this.expire(schemaId);
      return false;
    }
    // Ids that decoded meanwhile are never asked about again: drop them once due.
    for (const [id, since] of this.pending) if (now - since >= this.graceMs) this.pending.delete(id);
    if (this.recent.size >= this.maxPending) {
      this.expire(schemaId);
      return false;
    }
    this.pending.set(schemaId, now);
    this.recent.set(schemaId, now);
    return true;
  }

  private expire(schemaId: number): void {
    if (this.expired.size >= 10_000) this.expired.clear();
    this.expired.add(schemaId);
  }
}

export async function decodeUnit(
  batches: readonly InputBatch[],
  decoder: EventDecoder,
  grace: SchemaIdGrace,
  rules: ValidationRules,
  now: number,
): Promise<DecodedUnit> {
  const groups: CustomerEvents[] = [];
  const letters: Letter[] = [];
  const waitingFor: number[] = [];
  for (const batch of batches) {
    const byCustomer = new Map<string, SourcedEvent[]>();
    for (const record of batch.records) {
      const decoded = await decoder.decode(record.value);
      if (decoded.kind === 'unknown_schema_id') {
        if (grace.shouldWait(decoded.schemaId)) waitingFor.push(decoded.schemaId);
        else letters.push({ batch, record, errorClass: 'unknown_schema_id', reason: decoded.reason });
        continue;
      }
      if (decoded.kind === 'unreadable') {
        letters.push({ batch, record, errorClass: decoded.errorClass, reason: decoded.reason });
        continue;
      }
      const invalid = validateOrderEvent(decoded.event, now, rules);
      if (invalid !== null) {
        letters.push({ batch, record, errorClass: invalid.errorClass, reason: invalid.reason });
        continue;
      }
      const list = byCustomer.get(decoded.event.customerId);
      if (list === undefined)
        byCustomer.set(decoded.event.customerId, [{ event: decoded.event, offset: record.offset }]);
      else list.push({ event: decoded.event, offset: record.offset });
    }
    for (const [customerId, events] of byCustomer) groups.push({ batch, customerId, events });
  }
  if (waitingFor.length > 0) {
    const ids = [...new Set(waitingFor)].join(', ');
    throw new SchemaIdPending(`schema id(s) ${ids} not in the registry yet; waiting within the grace period`);
  }
  return { groups, letters };
}
