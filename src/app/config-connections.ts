// Settings of the three wires the scorer depends on: Kafka, the schema registry and Redis
// (one endpoint or a cluster). Credentials live here and nowhere else, so the one function
// that describes them for the log (describeConnections) is next to the one that reads them.
import { z } from 'zod';
import type { KafkaOptions } from '../adapters/kafka/client.js';
import { redactedUrl } from '../adapters/redis/connect.js';
import { type ClusterTarget, describeCluster, parseClusterNodes } from '../adapters/redis/connect-cluster.js';

/** A comma-separated list with at least one non-empty item. */
export const csv = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0),
  )
  .pipe(z.array(z.string()).min(1));

export const connectionsSchema = z.object({
  KAFKA_BROKERS: csv.default(['127.0.0.1:19092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('churnstream'),
  KAFKA_SSL: z.enum(['true', 'false']).default('false'),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  SCHEMA_REGISTRY_URL: z.url().default('http://127.0.0.1:18081'),
  SCHEMA_REGISTRY_USERNAME: z.string().min(1).optional(),
  SCHEMA_REGISTRY_PASSWORD: z.string().min(1).optional(),
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  // No default here: setting it next to REDIS_CLUSTER_NODES is refused (config-checks.ts).
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  REDIS_CLUSTER_NODES: csv.optional(),
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(5).default(0),
});

type RawConnections = z.infer<typeof connectionsSchema>;

export interface ConnectionsConfig {
  readonly kafka: KafkaOptions;
  readonly schemaRegistryUrl: string;
  /** Basic auth for the schema registry, or null. */
  readonly schemaRegistryAuth: { readonly username: string; readonly password: string } | null;
  /** May carry credentials (redis://user:password@host) and TLS (rediss://). */
  readonly redisUrl: string;
  /** REDIS_CLUSTER_NODES parsed: the scorer uses the cluster and not redisUrl; null: redisUrl. */
  readonly redisCluster: ClusterTarget | null;
  /** State and timer writes wait for this many replicas (WAIT) before they count; 0: asynchronous. */
  readonly redisWaitReplicas: number;
  /** CA bundle for a Redis TLS server certificate not signed by a public CA. */
  readonly redisTlsCaFile: string | null;
}

export function connectionsConfig(raw: RawConnections): ConnectionsConfig {
  return {
    kafka: Object.freeze({
      brokers: Object.freeze([...raw.KAFKA_BROKERS]),
      clientId: raw.KAFKA_CLIENT_ID,
      ssl:
        raw.KAFKA_SSL === 'true'
          ? {
              caFile: raw.KAFKA_SSL_CA_FILE ?? null,
              certFile: raw.KAFKA_SSL_CERT_FILE ?? null,
              keyFile: raw.KAFKA_SSL_KEY_FILE ?? null,
            }
          : null,
      sasl:
        raw.KAFKA_SASL_MECHANISM === undefined
          ? null
          : {
              mechanism: raw.KAFKA_SASL_MECHANISM,
              username: raw.KAFKA_SASL_USERNAME ?? '',
              password: raw.KAFKA_SASL_PASSWORD ?? '',
            },
    }),
    schemaRegistryUrl: raw.SCHEMA_REGISTRY_URL,
    schemaRegistryAuth:
      raw.SCHEMA_REGISTRY_USERNAME === undefined
        ? null
        : { username: raw.SCHEMA_REGISTRY_USERNAME, password: raw.SCHEMA_REGISTRY_PASSWORD ?? '' },
    redisUrl: raw.REDIS_URL ?? 'redis://127.0.0.1:16379',
    redisCluster: raw.REDIS_CLUSTER_NODES === undefined ? null : parseClusterNodes(raw.REDIS_CLUSTER_NODES),
    redisWaitReplicas: raw.REDIS_WAIT_REPLICAS,
    redisTlsCaFile: raw.REDIS_TLS_CA_FILE ?? null,
  };
}

/** What the start-up log says about connections: no password, key or credential-bearing URL. */
export function describeConnections(config: ConnectionsConfig): Record<string, unknown> {
  return {
    kafka: {
      brokers: config.kafka.brokers,
      tls: config.kafka.ssl != null,
      sasl:
        config.kafka.sasl == null
          ? null
          : { mechanism: config.kafka.sasl.mechanism, username: config.kafka.sasl.username },
    },
    schemaRegistry: { url: redactedUrl(config.schemaRegistryUrl), basicAuth: config.schemaRegistryAuth !== null },
    redis:
      config.redisCluster === null
        ? { url: redactedUrl(config.redisUrl), tls: config.redisUrl.startsWith('rediss://') }
        : { cluster: describeCluster(config.redisCluster), tls: config.redisCluster.tls },
  };
}
