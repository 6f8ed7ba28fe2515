// `churnstream dead-letters replay`: writes the originals of the selected dead letters back
// (key, value and headers byte for byte) once the cause of their failure is fixed. What
// cannot be written back unchanged is skipped and counted, never altered.
import { KafkaConnection } from '../../adapters/kafka/connection.js';
import type { RawRecord } from '../../adapters/kafka/record-writer.js';
import type { Config } from '../config.js';
import { UserError } from '../user-error.js';
import type { DeadLetterFilter } from './dead-letter-filter.js';
import { type DeadLetter, type Printer, type ScannedRecord, scanDeadLetters } from './dead-letter-scan.js';

export type SkipReason = 'truncated' | 'null_value' | 'null_header_value' | 'target_topic_missing' | 'undecodable';

const SKIP_EXPLANATIONS: Readonly<Record<SkipReason, string>> = {
  truncated: 'the dead letter holds only a prefix of the original; fetch it from the source named above',
  null_value: 'the original had no value: nothing to replay',
  null_header_value: 'a header has a null value, which the Kafka client (kafkajs) cannot write',
  target_topic_missing: 'the target topic does not exist (any more)',
  undecodable: 'not a dead letter: the record does not decode with the dead-letter schema',
};

export interface ReplayOptions {
  /** null: each dead letter goes back to its source topic and partition. */
  readonly toTopic: string | null;
  readonly dryRun: boolean;
}

export interface ReplaySummary {
  /** Records written (or, in a dry run, that would be). */
  readonly replayed: number;
  readonly byTopic: ReadonlyMap<string, number>;
  readonly skipped: ReadonlyMap<SkipReason, number>;
}

export async function replayDeadLetters(
  config: Config,
  filter: DeadLetterFilter,
  options: ReplayOptions,
  print: Printer,
): Promise<ReplaySummary> {
  const kafka = new KafkaConnection(config.kafka);
  // Partition count per target topic (null: missing), looked up once per topic.
  const targets = new Map<string, number | null>();
  const lookUp = async (topics: readonly string[]) => {
    const unknown = [...new Set(topics)].filter((topic) => !targets.has(topic));
    if (unknown.length === 0) return;
    const counts = await kafka.partitionCounts(unknown);
    for (const topic of unknown) targets.set(topic, counts.get(topic) ?? null);
  };
  if (options.toTopic !== null) {
    await lookUp([options.toTopic]);
    if (targets.get(options.toTopic) === null)
      throw new UserError(`--to-topic: topic ${options.toTopic} does not exist`);
  }
  const byTopic = new Map<string, number>();
  const skipped = new Map<SkipReason, number>();
  const skip = (reason: SkipReason) => skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
  const writer = options.dryRun ? null : await kafka.recordWriter();
  try {
    await scanDeadLetters(config, filter, async (scanned) => {
      await lookUp(scanned.flatMap((r) => (r.ok ? [options.toTopic ?? r.letter.source_topic] : [])));
      const records: RawRecord[] = [];
      for (const record of scanned) {
        const outcome = replayable(record, options.toTopic, targets);
        if (typeof outcome === 'string') {
          skip(outcome);
          if (outcome === 'truncated' && record.ok) print.out(truncatedNote(record.offset, record.letter));
          continue;
        }
        records.push(outcome);
        byTopic.set(outcome.topic, (byTopic.get(outcome.topic) ?? 0) + 1);
      }
      await writer?.write(records);
    });
  } finally {
    await writer?.close();
  }
  const replayed = [...byTopic.values()].reduce((sum, n) => sum + n, 0);
  const perTopic = [...byTopic].map(([topic, n]) => `${topic}=${n}`).join(' ');
  print.out(
    `${options.dryRun ? 'dry run: would re-drive' : 're-drove'} ${replayed} records${perTopic ? `: ${perTopic}` : ''}`,
  );
  const skippedTotal = [...skipped.values()].reduce((sum, n) => sum + n, 0);
  print.out(`skipped ${skippedTotal} dead letters${skippedTotal > 0 ? ':' : ''}`);
  for (const [reason, n] of skipped) print.out(`  ${reason}=${n}: ${SKIP_EXPLANATIONS[reason]}`);
  return { replayed, byTopic, skipped };
}

/** The record to write back, or why the dead letter cannot be written back unchanged. */
function replayable(
  record: ScannedRecord,
  toTopic: string | null,
  targets: ReadonlyMap<string, number | null>,
): RawRecord | SkipReason {
  if (!record.ok) return 'undecodable';
  const { letter } = record;
  if (letter.truncated) return 'truncated';
  if (letter.value === null) return 'null_value';
  if (letter.headers.some((header) => header.value === null)) return 'null_header_value';
  const topic = toTopic ?? letter.source_topic;
  const partitions = targets.get(topic) ?? null;
  if (partitions === null) return 'target_topic_missing';
  // Back to the source partition: the customer's other events are there, whichever
  // partitioner the original producer used. Elsewhere the key decides.
  const keepPartition = topic === letter.source_topic && letter.source_partition < partitions;
  return {
    topic,
    partition: keepPartition ? letter.source_partition : undefined,
    key: letter.key,
    value: letter.value,
    headers: letter.headers,
  };
}

function truncatedNote(offset: number, letter: DeadLetter): string {
  const sha = letter.original_value_sha256 === '' ? '' : `, sha256 ${letter.original_value_sha256}`;
  return (
    `skipped dead letter ${offset} (truncated, original ${letter.original_value_size} bytes${sha}): ` +
    `fetch the original from ${letter.source_topic} partition ${letter.source_partition} offset ${letter.source_offset}`
  );
}
