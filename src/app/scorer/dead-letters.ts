// Dead letters that cannot fail: every rejected record becomes a dead letter that fits the
// dead-letter topic's record size limit (read from the broker at start). A record too
// large to carry whole keeps a prefix of its value, marked truncated, with the original's
// size, SHA-256 and source topic/partition/offset, so an operator can fetch the original
// while the source topic retains it.
import { createHash } from 'node:crypto';
import type { DeadLetterValue, InputBatch, InputRecord, OutgoingRecord } from './ports.js';

/** Bytes Kafka adds around one record in a batch of one (batch header, record framing). */
const KAFKA_RECORD_OVERHEAD = 128;
/** What is kept of the key, headers and reason when even they do not fit. */
const CUT = { keyBytes: 1024, reasonChars: 4096 } as const;

export interface DeadLetterOptions {
  readonly topic: string;
  readonly groupId: string;
  readonly version: string;
  /** The dead-letter topic's max.message.bytes. */
  readonly maxRecordBytes: number;
  readonly encode: (value: DeadLetterValue) => Buffer;
  readonly now?: () => number;
}

function headersOf(record: InputRecord): DeadLetterValue['headers'] {
  return Object.entries(record.headers).flatMap(([key, value]) =>
    (Array.isArray(value) ? value : [value])
      .filter((v) => v !== undefined)
      // A Java producer may send a header without a value; kafkajs reads it as null.
      .map((v) => ({ key, value: v === null ? null : Buffer.from(v as Buffer | string) })),
  );
}

/** The dead letter of `record`, whole when it fits, else cut until it does. */
export function fitDeadLetter(
  whole: DeadLetterValue,
  encode: (value: DeadLetterValue) => Buffer,
  maxRecordBytes: number,
): { readonly key: Buffer | null; readonly value: Buffer; readonly truncated: boolean } {
  const fits = (key: Buffer | null, value: Buffer) =>
    value.length + (key?.length ?? 0) + KAFKA_RECORD_OVERHEAD <= maxRecordBytes;
  const full = encode(whole);
  if (fits(whole.key, full)) return { key: whole.key, value: full, truncated: false };
  // Cut the value first; if the rest alone is too large, cut key, headers and reason too.
  let letter: DeadLetterValue = { ...whole, truncated: true, value: whole.value === null ? null : Buffer.alloc(0) };
  if (!fits(letter.key, encode(letter))) {
    letter = {
      ...letter,
      key: letter.key === null ? null : letter.key.subarray(0, CUT.keyBytes),
      headers: [],
      reason: letter.reason.slice(0, CUT.reasonChars),
    };
  }
  const base = encode(letter).length;
  const room = maxRecordBytes - KAFKA_RECORD_OVERHEAD - (letter.key?.length ?? 0) - base - 10; // 10: length varint
  if (whole.value !== null && room > 0) letter = { ...letter, value: whole.value.subarray(0, room) };
  return { key: letter.key, value: encode(letter), truncated: true };
}

export function createDeadLetterFactory(options: DeadLetterOptions) {
  const now = options.now ?? Date.now;
  return (batch: InputBatch, record: InputRecord, errorClass: string, reason: string): OutgoingRecord => {
    const whole: DeadLetterValue = {
      dead_letter_id: `${batch.topic}/${batch.partition}/${record.offset}`,
      source_topic: batch.topic,
      source_partition: batch.partition,
      source_offset: Number(record.offset),
      source_timestamp: Number(record.timestamp),
      key: record.key,
      value: record.value,
      headers: headersOf(record),
      error_class: errorClass,
      reason,
      failed_at: now(),
      consumer_group: options.groupId,
      churnstream_version: options.version,
      truncated: false,
      original_value_size: record.value === null ? -1 : record.value.length,
      original_value_sha256: record.value === null ? '' : createHash('sha256').update(record.value).digest('hex'),
    };
    const fitted = fitDeadLetter(whole, options.encode, options.maxRecordBytes);
    return { topic: options.topic, key: fitted.key, value: fitted.value };
  };
}

export type DeadLetterFactory = ReturnType<typeof createDeadLetterFactory>;
