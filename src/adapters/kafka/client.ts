// Construction of kafkajs clients and topic provisioning. kafkajs types stay inside
// src/adapters/kafka so that a change of client library touches one folder.
import { readFileSync } from 'node:fs';
import {
  Kafka,
  type KafkaConfig,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
  type SASLOptions,
} from 'kafkajs';

export interface KafkaOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** TLS to the brokers; PEM files for a private CA and an optional client certificate. */
  readonly ssl?: {
    readonly caFile: string | null;
    readonly certFile: string | null;
    readonly keyFile: string | null;
  } | null;
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  } | null;
}

/** kafkajs connection security from the options (files are read here, once). */
export function connectionSecurity(options: KafkaOptions): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const { ssl, sasl } = options;
  const read = (file: string | null) => (file === null ? undefined : readFileSync(file, 'utf8'));
  return {
    ...(ssl
      ? {
          ssl:
            ssl.caFile === null && ssl.certFile === null
              ? true
              : {
                  ...(ssl.caFile === null ? {} : { ca: [read(ssl.caFile) ?? ''] }),
                  ...(ssl.certFile === null ? {} : { cert: read(ssl.certFile), key: read(ssl.keyFile) }),
                },
        }
      : {}),
    ...(sasl
      ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions }
      : {}),
  };
}

/** Where kafkajs log lines go; wiring passes the structured logger in. */
type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

export type KafkaLogSink = (level: KafkaLogLevel, message: string, fields: Record<string, unknown>) => void;

const LEVEL_NAMES = {
  [logLevel.NOTHING]: 'error',
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
} as const;

/**
 * Broker answers kafkajs retries by itself (a coordinator still loading on a fresh broker,
 * moved, or a group rebalancing): kafkajs logs each at ERROR, but they are transient and
 * say nothing is wrong unless the retries run out (the caller then gets the error).
 */
const RETRIED_BY_KAFKAJS = [
  'The coordinator is loading',
  'This is not the correct coordinator',
  'The coordinator is not available',
  'The group is rebalancing',
];

function levelOf(level: logLevel, fields: Record<string, unknown>): KafkaLogLevel {
  const error = typeof fields['error'] === 'string' ? fields['error'] : '';
  if (level === logLevel.ERROR && RETRIED_BY_KAFKAJS.some((text) => error.startsWith(text))) return 'warn';
  return LEVEL_NAMES[level];
}

export function createKafka(options: KafkaOptions, overrides: Partial<KafkaConfig> = {}, sink?: KafkaLogSink): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.WARN,
    ...(sink
      ? {
          logCreator:
            () =>
            ({ namespace, level, log }: LogEntry) => {
              const { message, ...fields } = log;
              sink(levelOf(level, fields), message, { ...fields, namespace });
            },
        }
      : {}),
    ...connectionSecurity(options),
    connectionTimeout: 5000,
    retry: { initialRetryTime: 200, retries: 8 },
    ...overrides,
  });
}

/**
 * An idempotent producer (acks=all, one request in flight, as kafkajs requires for
 * idempotence) with the Java client's murmur2 partitioner, so a customer's events land
 * in the same partition whichever client produced them.
 */
export function createIdempotentProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    // Idempotence needs unbounded retries to keep its guarantee; time bounds them instead.
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 },
  });
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Topic configs, e.g. { 'retention.ms': '-1' }. */
  readonly config?: Readonly<Record<string, string>>;
}

/**
 * Creates the topics that do not exist yet and waits for their leaders. Existing
 * topics are left alone (their partition counts are reported, never changed).
 */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[]): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.topic,
          numPartitions: spec.partitions,
          replicationFactor: -1,
          configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    const metadata = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) });
    return new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}
