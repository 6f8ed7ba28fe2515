// docker-compose.yml cannot run here (no Docker engine); this keeps it parsing and
// consistent with the native stack's single config (scripts/stack/stack.env).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../../src/app/config.js';
import { stackEnv } from '../../helpers/stack.js';

interface Service {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: unknown;
  command?: string[];
  profiles?: string[];
  depends_on?: Record<string, unknown>;
}

const compose = parse(readFileSync(new URL('../../../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<string, Service>;
};
const service = (name: string): Service => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
/** Published ports as "host-address:host-port:container-port". */
const published = (name: string) => (service(name).ports ?? []).map((mapping) => mapping.split(':'));
const hostPorts = (name: string) => published(name).map((parts) => Number(parts.at(-2)));

describe('docker-compose.yml', () => {
  it('has the stack services and the app', () => {
    const always = Object.keys(compose.services).filter((name) => service(name).profiles === undefined);
    expect(always.sort()).toEqual(
      ['app', 'grafana', 'kafka', 'kafka-init', 'prometheus', 'redis', 'schema-registry'].sort(),
    );
    expect(service('app').build).toBe('.');
  });

  it('publishes the native stack ports', () => {
    expect(hostPorts('kafka')).toEqual([Number(stackEnv['KAFKA_PORT'])]);
    expect(hostPorts('schema-registry')).toEqual([Number(stackEnv['SCHEMA_REGISTRY_PORT'])]);
    expect(hostPorts('redis')).toEqual([Number(stackEnv['REDIS_PORT'])]);
    expect(hostPorts('prometheus')).toEqual([Number(stackEnv['PROMETHEUS_PORT'])]);
    expect(hostPorts('app')).toEqual([Number(stackEnv['APP_HTTP_PORT'])]);
    expect(service('kafka').environment?.['KAFKA_ADVERTISED_LISTENERS']).toContain(
      `localhost:${stackEnv['KAFKA_PORT']}`,
    );
  });

  it("publishes every port on the host's loopback only (customer data, unauthenticated Redis and Kafka)", () => {
    for (const name of Object.keys(compose.services))
      for (const parts of published(name)) expect(parts, `${name}: ${parts.join(':')}`).toHaveLength(3);
    for (const name of Object.keys(compose.services))
      for (const parts of published(name)) expect(parts[0], name).toBe('127.0.0.1');
  });

  it("the app's environment is a configuration the scorer accepts", () => {
    const environment = service('app').environment ?? {};
    const config = loadConfig(Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)])));
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.http.insecure).toBe(true);
  });

  it('runs the same Kafka version and cluster id as the native stack', () => {
    expect(service('kafka').image).toBe(`apache/kafka:${stackEnv['KAFKA_VERSION']}`);
    expect(service('kafka-init').image).toBe(service('kafka').image);
    expect(service('kafka').environment?.['CLUSTER_ID']).toBe(stackEnv['KAFKA_CLUSTER_ID']);
  });

  it('agrees with the app defaults on ports and topic names', () => {
    const defaults = loadConfig({});
    expect(String(defaults.http.port)).toBe(stackEnv['APP_HTTP_PORT']);
    expect(defaults.kafka.brokers).toEqual([`${stackEnv['STACK_HOST']}:${stackEnv['KAFKA_PORT']}`]);
    expect(defaults.redisUrl).toBe(`redis://${stackEnv['STACK_HOST']}:${stackEnv['REDIS_PORT']}`);
    const init = (service('kafka-init').command ?? []).join('\n');
    for (const topic of Object.values(defaults.topics)) expect(init).toContain(topic);
  });

  it('has the Redis Cluster as a profile: six redis:7 nodes, a one-shot create, an app on it', () => {
    const inProfile = Object.keys(compose.services).filter((name) => service(name).profiles?.includes('redis-cluster'));
    const nodes = inProfile.filter((name) => name.startsWith('redis-node-'));
    expect(nodes).toHaveLength(6);
    for (const name of nodes) expect(service(name).image).toBe('redis:7');
    expect(service('redis-cluster-init').command?.join('\n')).toContain('--cluster-replicas 1 --cluster-yes');
    expect(Object.keys(service('redis-cluster-init').depends_on ?? {}).sort()).toEqual(nodes.sort());
    const environment = service('app-cluster').environment ?? {};
    const config = loadConfig(Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)])));
    expect(config.redisCluster?.nodes.map((n) => n.host)).toEqual(['redis-node-1', 'redis-node-2', 'redis-node-3']);
    expect(config.groupId).not.toBe(loadConfig({}).groupId);
  });

  it('has a healthcheck on every long-running dependency', () => {
    for (const name of ['kafka', 'schema-registry', 'redis', 'prometheus'])
      expect(service(name).healthcheck).toBeDefined();
  });
});
