// Reads the dead-letter topic once (up to its end when the scan starts), decodes each
// record with the dead-letter schema and hands over those the filter selects. Shared by
// `dead-letters list` and `dead-letters replay`.
import { readSchemaText } from '../../adapters/files/schemas.js';
import { KafkaConnection } from '../../adapters/kafka/connection.js';
import { UnknownTopicError } from '../../adapters/kafka/topic-reader.js';
import { AvroRegistry } from '../../adapters/registry/avro-registry.js';
import type { Config } from '../config.js';
import type { DeadLetterValue } from '../scorer/ports.js';
import { UserError } from '../user-error.js';
import { type DeadLetterFilter, matchesFilter } from './dead-letter-filter.js';

/** A dead letter as schemas/dead-letter.avsc defines it (timestamps in epoch ms); the scorer writes the same type. */
export type DeadLetter = DeadLetterValue;

/** Where a command's lines go: results to `out`, counts to `err` when `out` must stay machine-readable. */
export interface Printer {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** A selected record of the dead-letter topic, or one that is not a dead letter at all. */
export type ScannedRecord =
  | { readonly ok: true; readonly offset: number; readonly letter: DeadLetter }
  | { readonly ok: false; readonly offset: number; readonly reason: string };

/**
 * Calls `onRecords` per fetched batch with the selected dead letters in offset order.
 * Records that do not decode are handed over too unless a filter on their content is
 * given (it cannot be evaluated): nothing in the topic is silently passed over.
 */
export async function scanDeadLetters(
  config: Config,
  filter: DeadLetterFilter,
  onRecords: (records: readonly ScannedRecord[]) => Promise<void> | void,
): Promise<void> {
  const topic = config.topics.deadLetters;
  const registry = new AvroRegistry({
    url: config.schemaRegistryUrl,
    ...(config.schemaRegistryAuth ? { auth: config.schemaRegistryAuth } : {}),
  });
  // Registering is idempotent (the scorer does the same at start) and gives the reader schema
  // an id; provision() is not used because a read must not create missing topics.
  const schema = await registry.registerValueSchema(topic, readSchemaText('deadLetter'));
  const byOffsetOnly =
    filter.reasons.length === 0 && filter.since === null && filter.until === null && filter.sourcePartition === null;
  const range = {
    topic,
    fromOffset: filter.fromOffset ?? undefined,
    toOffset: filter.toOffset ?? undefined,
  };
  try {
    await new KafkaConnection(config.kafka).readTopic(range, async (records) => {
      const scanned: ScannedRecord[] = [];
      for (const record of records) {
        const decoded = await registry.decode<DeadLetter>(record.value, schema);
        if (!decoded.ok) {
          if (byOffsetOnly) {
            scanned.push({ ok: false, offset: record.offset, reason: `${decoded.errorClass}: ${decoded.reason}` });
          }
          continue;
        }
        const letter = decoded.value;
        const subject = {
          offset: record.offset,
          errorClass: letter.error_class,
          failedAt: letter.failed_at,
          sourcePartition: letter.source_partition,
        };
        if (matchesFilter(filter, subject)) scanned.push({ ok: true, offset: record.offset, letter });
      }
      if (scanned.length > 0) await onRecords(scanned);
    });
  } catch (error) {
    if (error instanceof UnknownTopicError) {
      throw new UserError(`dead-letter topic ${topic} does not exist (CHURNSTREAM_DEAD_LETTER_TOPIC)`);
    }
    throw error;
  }
}
