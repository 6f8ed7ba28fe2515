// Provisioning shared by `churnstream setup`, `demo` and the tests: the three
// topics and their value schemas under TopicNameStrategy subjects.
import { readSchemaText } from '../adapters/files/schemas.js';
import { KafkaConnection } from '../adapters/kafka/connection.js';
import { AvroRegistry, type RegisteredValueSchema, type RegistryOptions } from '../adapters/registry/avro-registry.js';
import type { Config } from './config.js';

export interface Provisioned {
  readonly registry: AvroRegistry;
  readonly schemas: {
    readonly orders: RegisteredValueSchema;
    readonly riskChanges: RegisteredValueSchema;
    readonly deadLetters: RegisteredValueSchema;
  };
  readonly partitions: ReadonlyMap<string, number>;
}

export async function provision(
  config: Config,
  onRegistryRequest?: RegistryOptions['onRequest'],
): Promise<Provisioned> {
  const partitions = await new KafkaConnection(config.kafka).ensureTopics([
    { topic: config.topics.orders, partitions: config.partitions },
    { topic: config.topics.riskChanges, partitions: config.partitions, config: { 'cleanup.policy': 'delete' } },
    // Dead letters are kept until someone deals with them.
    { topic: config.topics.deadLetters, partitions: 1, config: { 'retention.ms': '-1' } },
  ]);
  const registry = new AvroRegistry({
    url: config.schemaRegistryUrl,
    ...(config.schemaRegistryAuth ? { auth: config.schemaRegistryAuth } : {}),
    ...(onRegistryRequest ? { onRequest: onRegistryRequest } : {}),
  });
  const [orders, riskChanges, deadLetters] = await Promise.all([
    registry.registerValueSchema(config.topics.orders, readSchemaText('orderEvent')),
    registry.registerValueSchema(config.topics.riskChanges, readSchemaText('riskChange')),
    registry.registerValueSchema(config.topics.deadLetters, readSchemaText('deadLetter')),
  ]);
  return { registry, schemas: { orders, riskChanges, deadLetters }, partitions };
}
