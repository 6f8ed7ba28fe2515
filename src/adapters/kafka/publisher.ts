// Publishing records (risk changes, dead letters, replays) with the idempotent producer;
// every send waits for all in-sync replicas, so a record is durable before state moves on.
// Any failure surfaces as a DependencyError: the caller retries, the records stay the same.
import type { Kafka, Producer } from 'kafkajs';
import { calling } from '../dependency-error.js';
import { createIdempotentProducer } from './client.js';
import type { OutgoingRecord } from './records.js';

/** Well under the broker's default 1 MiB record-batch limit, per partition and request. */
const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_REQUEST_RECORDS = 1000;

export class Publisher {
  private readonly kafka: Kafka;
  private producer: Producer;
  /** Set after a failed send: the next publish starts a fresh producer (see replaceProducer). */
  private failed = false;
  /** Sends one publish() at a time: batches of several partitions run concurrently, and an
   * idempotent producer's sequence numbers must not be raced (kafkajs issues 598, 1050). */
  private queue: Promise<void> = Promise.resolve();

  constructor(kafka: Kafka) {
    this.kafka = kafka;
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
    const run = this.queue.then(() =>
      calling('kafka', async () => {
        if (this.failed) await this.replaceProducer();
        try {
          await this.send(records);
        } catch (error) {
          this.failed = true;
          throw error;
        }
      }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * After a failed send the idempotent producer's sequence numbers may no longer match
   * the broker's (a retry then fails with OUT_OF_ORDER_SEQUENCE_NUMBER forever); a new
   * producer gets a new producer id and starts clean. Records sent twice this way are
   * the same records with the same ids, which consumers already dedupe.
   */
  private async replaceProducer(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    this.producer = createIdempotentProducer(this.kafka);
    await this.producer.connect();
    this.failed = false;
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
          messages: list.map((r) => ({
            key: r.key,
            value: r.value,
            ...(r.headers ? { headers: { ...r.headers } } : {}),
          })),
        })),
      });
      chunk = [];
      bytes = 0;
    };
    for (const record of records) {
      let size = record.value.length + (record.key?.length ?? 0) + 64;
      for (const [name, value] of Object.entries(record.headers ?? {})) size += name.length + value.length + 8;
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
