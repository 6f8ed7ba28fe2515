import { readSchemaText } from '../src/adapters/files/schemas.js';
import { createIdempotentProducer, createKafka, ensureTopics } from '../src/adapters/kafka/client.js';
import { AvroRegistry } from '../src/adapters/registry/avro-registry.js';
const dl = process.argv[2]!, src = process.argv[3]!;
const kafka = createKafka({ brokers: ['127.0.0.1:19092'], clientId: 'scratch' });
await ensureTopics(kafka, [{ topic: dl, partitions: 1 }, { topic: src, partitions: 3 }]);
const registry = new AvroRegistry({ url: 'http://127.0.0.1:18081' });
const schema = await registry.registerValueSchema(dl, readSchemaText('deadLetter'));
const letter = (i: number, cls: string, extra: object = {}) => registry.encode(schema, {
  dead_letter_id: `${src}/${i % 3}/${i}`, source_topic: src, source_partition: i % 3, source_offset: i, source_timestamp: Date.UTC(2025,0,1),
  key: Buffer.from(`C${i}`), value: Buffer.from(`value ${i}`), headers: [{ key: 'trace', value: Buffer.from(`t${i}`) }],
  error_class: cls, reason: `reason ${i}: ${'a long explanation '.repeat(i)}`, failed_at: Date.UTC(2025, 0, 1 + i), consumer_group: 'g', churnstream_version: '0.1.0', ...extra });
const p = createIdempotentProducer(kafka); await p.connect();
await p.send({ topic: dl, acks: -1, messages: [
  { key: 'C0', value: letter(0, 'unknown_schema_id') }, { key: 'C1', value: letter(1, 'invalid_amount') },
  { key: 'C2', value: letter(2, 'unknown_schema_id', { truncated: true, original_value_size: 3000000, original_value_sha256: 'ab'.repeat(32) }) },
  { key: 'C3', value: letter(3, 'unknown_schema_id', { value: null }) }, { key: 'C4', value: letter(4, 'event_time_in_future') } ] });
await p.disconnect();
