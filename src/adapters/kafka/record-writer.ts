// Writes raw records (bytes as given, headers as given) with the idempotent producer, for
// tools that put records back, such as the dead-letter replay. Every request waits for all
// in-sync replicas and is bounded in size, in the order the records were given.
import type { IHeaders, Kafka, Message } from 'kafkajs';
import { createIdempotentProducer } from './client.js';
import type { RecordHeader } from './topic-reader.js';

export interface RawRecord {
  readonly topic: string;
  /** A fixed partition; without it the key decides (murmur2, as the Java client). */
  readonly partition?: number | undefined;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /**
   * Written in order, except that kafkajs groups repeated keys (a, b, a is written a, a, b).
   * kafkajs cannot write a null header value: callers must leave such records out.
   */
  readonly headers: readonly RecordHeader[];
}

export interface RecordWriter {
  write(records: readonly RawRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** Well under the broker's default 1 MiB record-batch limit (a larger record goes alone). */
const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_REQUEST_RECORDS = 1000;

export async function openRecordWriter(kafka: Kafka): Promise<RecordWriter> {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const send = async (chunk: readonly RawRecord[]) => {
    const byTopic = new Map<string, Message[]>();
    for (const record of chunk) {
      const messages = byTopic.get(record.topic) ?? [];
      messages.push(toMessage(record));
      byTopic.set(record.topic, messages);
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  };
  return {
    async write(records) {
      let chunk: RawRecord[] = [];
      let bytes = 0;
      for (const record of records) {
        const size = sizeOf(record);
        if (chunk.length > 0 && (bytes + size > MAX_REQUEST_BYTES || chunk.length >= MAX_REQUEST_RECORDS)) {
          await send(chunk);
          chunk = [];
          bytes = 0;
        }
        chunk.push(record);
        bytes += size;
      }
      if (chunk.length > 0) await send(chunk);
    },
    close: () => producer.disconnect(),
  };
}

function toMessage(record: RawRecord): Message {
  const headers: IHeaders = {};
  for (const { key, value } of record.headers) {
    if (value === null) throw new Error(`header ${key}: kafkajs cannot write a null header value`);
    const previous = headers[key];
    headers[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return {
    key: record.key,
    value: record.value,
    ...(record.partition === undefined ? {} : { partition: record.partition }),
    ...(record.headers.length > 0 ? { headers } : {}),
  };
}

function sizeOf(record: RawRecord): number {
  let size = 64 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers) size += Buffer.byteLength(header.key) + (header.value?.length ?? 0) + 8;
  return size;
}
