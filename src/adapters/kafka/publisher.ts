// Publishing records (risk changes, dead letters, replays) with the idempotent producer;
// every send waits for all in-sync replicas, so a record is durable before state moves on.
// Any failure surfaces as a DependencyError: the caller retries, the records stay the same.
import type { Kafka, Producer } from 'kafkajs';
import pLimit from 'p-limit';
import { calling } from '../dependency-error.js';
import { createIdempotentProducer } from './client.js';
import type { OutgoingRecord } from './records.js';

/** Well under the broker's default 1 MiB record-batch limit, per partition and request. */
const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_REQUEST_RECORDS = 1000;
/** Upper bounds of what Kafka adds per record and per record batch (framing, varints, CRC). */
const RECORD_OVERHEAD = 64;
const BATCH_OVERHEAD = 128;

export class Publisher {
  private readonly kafka: Kafka;
  private producer: Producer;
  /** Set after a failed send: the next publish starts a fresh producer (see replaceProducer). */
  private failed = false;
  /** Sends one publish() at a time, in call order: batches of several partitions run concurrently,
   * and an idempotent producer's sequence numbers must not be raced (kafkajs issues 598, 1050). */
  private readonly oneAtATime = pLimit(1);
  /** max.message.bytes of topics with a known limit (see limitTopic). */
  private readonly topicLimits = new Map<string, number>();

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
    return this.oneAtATime(() =>
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

  /**
   * The broker checks a topic's max.message.bytes against a whole record batch (all the
   * records of one partition in a request), not one record: requests carrying records of a
   * topic with a small limit (the dead-letter topic may have one) stay under it.
   */
  limitTopic(topic: string, maxMessageBytes: number): void {
    this.topicLimits.set(topic, maxMessageBytes);
  }

  private async send(records: readonly OutgoingRecord[]): Promise<void> {
    let chunk: OutgoingRecord[] = [];
    let bytes = 0;
    const topicBytes = new Map<string, number>();
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
            ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
          })),
        })),
      });
      chunk = [];
      bytes = 0;
      topicBytes.clear();
    };
    for (const record of records) {
      let size = record.value.length + (record.key?.length ?? 0) + RECORD_OVERHEAD;
      for (const [name, value] of Object.entries(record.headers ?? {})) size += name.length + value.length + 8;
      const limit = Math.min(MAX_REQUEST_BYTES, (this.topicLimits.get(record.topic) ?? Infinity) - BATCH_OVERHEAD);
      const forTopic = topicBytes.get(record.topic) ?? 0;
      if (
        chunk.length > 0 &&
        (bytes + size > MAX_REQUEST_BYTES || forTopic + size > limit || chunk.length >= MAX_REQUEST_RECORDS)
      )
        await flush();
      chunk.push(record);
      bytes += size;
      topicBytes.set(record.topic, (topicBytes.get(record.topic) ?? 0) + size);
    }
    await flush();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
