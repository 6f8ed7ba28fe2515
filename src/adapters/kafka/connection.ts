// A Kafka connection as the app sees it: the kafkajs client is built and kept here, and
// the app only gets what it does with it (publish, consume, provision topics, read and
// write raw records). So no kafkajs type reaches the app layer.
import type { Kafka } from 'kafkajs';
import { createKafka, ensureTopics, type KafkaLogSink, type KafkaOptions, type TopicSpec } from './client.js';
import { type ConsumerOptions, type RunningConsumer, startConsumer } from './consumer.js';
import { Publisher } from './publisher.js';
import { openRecordWriter, type RecordWriter } from './record-writer.js';
import { partitionCounts, type ReadRange, readTopic, type TopicRecord } from './topic-reader.js';

export class KafkaConnection {
  private readonly kafka: Kafka;

  constructor(options: KafkaOptions, sink?: KafkaLogSink) {
    this.kafka = createKafka(options, {}, sink);
  }

  /** A publisher (idempotent producer); connect() it before use. */
  publisher(): Publisher {
    return new Publisher(this.kafka);
  }

  consume(options: ConsumerOptions): Promise<RunningConsumer> {
    return startConsumer(this.kafka, options);
  }

  ensureTopics(specs: readonly TopicSpec[]): Promise<Map<string, number>> {
    return ensureTopics(this.kafka, specs);
  }

  partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    return partitionCounts(this.kafka, topics);
  }

  readTopic(range: ReadRange, onRecords: (records: readonly TopicRecord[]) => Promise<void> | void): Promise<number> {
    return readTopic(this.kafka, range, onRecords);
  }

  recordWriter(): Promise<RecordWriter> {
    return openRecordWriter(this.kafka);
  }
}
