import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/app/config.js';

describe('loadConfig', () => {
  it('defaults to the native stack', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(config.schemaRegistryUrl).toBe('http://127.0.0.1:18081');
    expect(config.redisUrl).toBe('redis://127.0.0.1:16379');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 18080 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads lists and numbers from the environment', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:1, b:2,', CHURNSTREAM_PARTITIONS: '12' });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.partitions).toBe(12);
  });

  it('names every bad variable in one error', () => {
    const attempt = () =>
      loadConfig({ REDIS_URL: 'localhost:6379', CHURNSTREAM_PARTITIONS: '0', SCHEMA_REGISTRY_URL: 'not a url' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/REDIS_URL[\s\S]*CHURNSTREAM_PARTITIONS|CHURNSTREAM_PARTITIONS[\s\S]*REDIS_URL/);
    expect(attempt).toThrow(/SCHEMA_REGISTRY_URL/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ KAFKA_BROKERS: '' }).kafka.brokers).toEqual(['127.0.0.1:19092']);
  });
});
