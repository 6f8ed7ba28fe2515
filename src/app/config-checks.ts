// Settings that only make sense together (Kafka security, topics, brokers, the event floor,
// registry credentials): each broken combination is one issue naming the setting to change.
import { parseClusterNodes } from '../adapters/redis/connect-cluster.js';
import type { RawConfig } from './config.js';

export type Need = (when: boolean, path: string, message: string) => void;

export function checkConnections(raw: RawConfig, need: Need): void {
  const sasl = raw.KAFKA_SASL_MECHANISM !== undefined;
  need(sasl && raw.KAFKA_SASL_USERNAME === undefined, 'KAFKA_SASL_USERNAME', 'required with KAFKA_SASL_MECHANISM');
  need(sasl && raw.KAFKA_SASL_PASSWORD === undefined, 'KAFKA_SASL_PASSWORD', 'required with KAFKA_SASL_MECHANISM');
  need(
    !sasl && (raw.KAFKA_SASL_USERNAME !== undefined || raw.KAFKA_SASL_PASSWORD !== undefined),
    'KAFKA_SASL_MECHANISM',
    'required with KAFKA_SASL_USERNAME/PASSWORD (plain, scram-sha-256 or scram-sha-512)',
  );
  need(
    (raw.KAFKA_SSL_CERT_FILE === undefined) !== (raw.KAFKA_SSL_KEY_FILE === undefined),
    'KAFKA_SSL_KEY_FILE',
    'a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE',
  );
  need(
    raw.KAFKA_SSL === 'false' &&
      (raw.KAFKA_SSL_CA_FILE ?? raw.KAFKA_SSL_CERT_FILE ?? raw.KAFKA_SSL_KEY_FILE) !== undefined,
    'KAFKA_SSL',
    'set KAFKA_SSL=true to use the KAFKA_SSL_* files',
  );
  const topics = [raw.CHURNSTREAM_ORDERS_TOPIC, raw.CHURNSTREAM_RISK_TOPIC, raw.CHURNSTREAM_DEAD_LETTER_TOPIC];
  need(
    new Set(topics).size !== topics.length,
    'CHURNSTREAM_RISK_TOPIC',
    'the orders, risk-change and dead-letter topics must be three different topics',
  );
  for (const broker of raw.KAFKA_BROKERS)
    need(!/^([^:\s[\]]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(broker), 'KAFKA_BROKERS', `'${broker}' is not host:port`);
  need(
    Date.parse(`${raw.CHURNSTREAM_EVENT_FLOOR}T00:00:00Z`) >= Date.now(),
    'CHURNSTREAM_EVENT_FLOOR',
    'must be in the past (every event before it is dead-lettered)',
  );
  need(
    (raw.SCHEMA_REGISTRY_USERNAME === undefined) !== (raw.SCHEMA_REGISTRY_PASSWORD === undefined),
    'SCHEMA_REGISTRY_PASSWORD',
    'basic auth needs both SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD',
  );
}

/** One Redis or one Redis Cluster: both set is refused rather than one silently ignored. */
export function checkRedis(raw: RawConfig, need: Need): void {
  // An empty list is already reported by the schema.
  if (raw.REDIS_CLUSTER_NODES === undefined || raw.REDIS_CLUSTER_NODES.length === 0) return;
  need(raw.REDIS_URL !== undefined, 'REDIS_CLUSTER_NODES', 'set either REDIS_URL or REDIS_CLUSTER_NODES, not both');
  try {
    parseClusterNodes(raw.REDIS_CLUSTER_NODES);
  } catch (error) {
    need(true, 'REDIS_CLUSTER_NODES', error instanceof Error ? error.message : String(error));
  }
}
