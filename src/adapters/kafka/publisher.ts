// Publishing records (risk changes, dead letters) with the idempotent producer; every
// send waits for all in-sync replicas, so a record is durable before state moves on.
import type { Kafka, Producer } from 'kafkajs';
import { createIdempotentProducer } from './client.js';

export interface OutgoingRecord {
  readonly topic: string;
  readonly key: string | Buffer | null;
  readonly value: Buffer;
  readonly headers?: Record<string, string>;
}

/** Well under the broker's default 1 MiB record-batch limit, per partition and request. */
const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_REQUEST_RECORDS = 1000;

export class Publisher {
  private readonly producer: Producer;
  /** Sends one publish() at a time: batches of several partitions run concurrently, and an
   * idempotent producer's sequence numbers must not be raced (kafkajs issues 598, 1050). */
  private queue: Promise<void> = Promise.resolve();

  constructor(kafka: Kafka) {
    this.producer = createIdempotentProducer(kafka);
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /**
   * Sends in requests of bounded size (the broker refuses record batches above its
   * message.max.bytes, 1 MiB by default), in order, each acknowledged by all replicas.
   */
  publish(records: readonly OutgoingRecord[]): Promise<void> {
    const run = this.queue.then(() => this.send(records));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async send(records: readonly OutgoingRecord[]): Promise<void> {
    let chunk: OutgoingRecord[] = [];
    let bytes = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      const byTopic = new Map<string, OutgoingRecord[]>();
      for (const record of chunk) {
        const list = byTopic.get(record.topic);
        if (list === undefined) byTopic.set(record.topic, [record]);
        else list.push(record);
      }
      await this.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, list]) => ({
          topic,
          messages: list.map((r) => ({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) })),
        })),
      });
      chunk = [];
      bytes = 0;
    };
    for (const record of records) {
      const size = record.value.length + (record.key?.length ?? 0) + 64;
      if (chunk.length > 0 && (bytes + size > MAX_REQUEST_BYTES || chunk.length >= MAX_REQUEST_RECORDS)) await flush();
      chunk.push(record);
      bytes += size;
    }
    await flush();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
