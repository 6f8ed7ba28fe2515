// Dead letters that cannot fail: every rejected record becomes a dead letter that fits the
// dead-letter topic's record size limit (read from the broker at start). A record too
// large to carry whole keeps a prefix of its value, marked truncated, with the original's
// size, SHA-256 and source topic/partition/offset, so an operator can fetch the original
// while the source topic retains it.
import { createHash } from 'node:crypto';
import type { DeadLetterReason } from './failures.js';
import type { DeadLetterValue, InputBatch, InputRecord, OutgoingRecord } from './ports.js';

/** Bytes Kafka adds around one record in a batch of one (batch header, record framing). */
const KAFKA_RECORD_OVERHEAD = 128;
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

/** The first `bytes` bytes of a string's UTF-8, never ending inside a character. */
function utf8Prefix(text: string, bytes: number): string {
  const encoded = Buffer.from(text, 'utf8');
  if (encoded.length <= bytes) return text;
  let end = Math.max(0, bytes);
  while (end > 0 && ((encoded[end] ?? 0) & 0xc0) === 0x80) end -= 1; // back off a continuation byte
  return encoded.subarray(0, end).toString('utf8');
}

/**
 * The dead letter, whole when it fits the limit, else cut until it does: first the value
 * (a prefix is kept), then, if the rest alone is too large, the headers are dropped and the
 * reason and key cut to a share of the room (the key counts twice: the record's key and
 * the Avro field). Fits whenever the limit leaves room for the fixed fields (ids, topic
 * and group names: well under 1 KiB).
 */
export function fitDeadLetter(
  whole: DeadLetterValue,
  encode: (value: DeadLetterValue) => Buffer,
  maxRecordBytes: number,
): { readonly key: Buffer | null; readonly value: Buffer; readonly truncated: boolean } {
  const room = maxRecordBytes - KAFKA_RECORD_OVERHEAD;
  const size = (letter: DeadLetterValue) => encode(letter).length + (letter.key?.length ?? 0);
  if (size(whole) <= room) return { key: whole.key, value: encode(whole), truncated: false };
  let letter: DeadLetterValue = { ...whole, truncated: true, value: whole.value === null ? null : Buffer.alloc(0) };
  if (size(letter) > room) {
    const fixed = size({ ...letter, key: letter.key === null ? null : Buffer.alloc(0), headers: [], reason: '' });
    const share = Math.max(0, room - fixed);
    letter = {
      ...letter,
      headers: [],
      reason: utf8Prefix(letter.reason, Math.floor(share / 2)),
      key: letter.key === null ? null : letter.key.subarray(0, Math.floor(share / 6)),
    };
  }
  // What is left is the value's: its length prefix takes up to 10 bytes.
  const left = room - size(letter) - 10;
  if (whole.value !== null && left > 0) letter = { ...letter, value: whole.value.subarray(0, left) };
  return { key: letter.key, value: encode(letter), truncated: true };
}

export function createDeadLetterFactory(options: DeadLetterOptions) {
  const now = options.now ?? Date.now;
  return (batch: InputBatch, record: InputRecord, errorClass: DeadLetterReason, reason: string): OutgoingRecord => {
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
