// The scorer's failure taxonomy, in one place (docs/RELIABILITY.md has the table with the
// test covering each row):
//   poison    this record can never be processed: it is dead-lettered and the partition
//             moves on. Decided per record where it fails (decode, validation, the step).
//   transient a dependency is down, slow or not yet consistent: the unit is retried with
//             capped exponential backoff while the consumer keeps its partitions, and never
//             a record is dead-lettered for it.
//   fatal     the configuration is wrong: refuse to start (exit 2), before joining the group.
import { DependencyError } from '../../adapters/dependency-error.js';
import { DECODE_ERROR_CLASSES } from '../../adapters/registry/avro-registry.js';
import { VALIDATION_ERROR_CLASSES } from '../../core/events/validate.js';
import type { RefusedEvent } from '../../core/step/customer-step.js';
import { UserError } from '../user-error.js';

export type FailureKind = 'poison' | 'transient' | 'fatal';

/**
 * Every error_class a dead letter can carry (poison, by where it was decided): the record
 * is not a readable order event; the event is invalid; the step refused it; the step
 * threw. The dead-letter factory takes only these, so a new class must be added here.
 */
export const DEAD_LETTER_REASONS = [
  ...DECODE_ERROR_CLASSES,
  ...VALIDATION_ERROR_CLASSES,
  'event_too_late' satisfies RefusedEvent['errorClass'],
  'internal_error',
] as const;

export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** What a transient failure waits for, for logs, metrics and /readyz. */
export type WaitingFor = 'kafka' | 'redis' | 'registry' | 'internal';

/** A record names a writer schema id the registry does not serve (yet): wait, within the grace period. */
export class SchemaIdPending extends Error {
  override readonly name = 'SchemaIdPending';
}

/** Another writer kept winning the version fence for some customers: try the unit again later. */
export class ConflictsPersist extends Error {
  override readonly name = 'ConflictsPersist';
}

export interface Classified {
  readonly kind: FailureKind;
  readonly waitingFor: WaitingFor | null;
}

/**
 * Classifies an error that ended an attempt at a unit (or a rescoring pass). Anything the
 * taxonomy does not know is treated as transient, waiting for 'internal': it is a bug or
 * an unclassified outage, and retrying with backoff keeps every record (and alerts), where
 * exiting would only crash-loop on the same records.
 */
export function classify(error: unknown): Classified {
  if (error instanceof UserError) return { kind: 'fatal', waitingFor: null };
  if (error instanceof DependencyError) return { kind: 'transient', waitingFor: error.dependency };
  if (error instanceof SchemaIdPending) return { kind: 'transient', waitingFor: 'registry' };
  if (error instanceof ConflictsPersist) return { kind: 'transient', waitingFor: 'redis' };
  return { kind: 'transient', waitingFor: 'internal' };
}
