import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionSecurity } from '../../../src/adapters/kafka/client.js';
import { ConfigError, loadConfig } from '../../../src/app/config.js';
import { describeConnections } from '../../../src/app/config-connections.js';

describe('loadConfig', () => {
  it('defaults to the native stack', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(config.schemaRegistryUrl).toBe('http://127.0.0.1:18081');
    expect(config.redisUrl).toBe('redis://127.0.0.1:16379');
    expect(config.http).toMatchObject({
      host: '127.0.0.1',
      port: 18080,
      tokenFile: null,
      insecure: false,
      tls: null,
      ops: null,
    });
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

  it('reads the accepted currencies upper-cased, none by default; refuses a list that is not ISO codes', () => {
    expect(loadConfig({}).validation.currencies).toBeNull();
    expect(loadConfig({ CHURNSTREAM_CURRENCIES: 'eur, GBP' }).validation.currencies).toEqual(['EUR', 'GBP']);
    for (const bad of ['euro', 'EUR,1$X', ','])
      expect(() => loadConfig({ CHURNSTREAM_CURRENCIES: bad })).toThrow(
        /CHURNSTREAM_CURRENCIES: must be 3-letter ISO 4217 codes/,
      );
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ KAFKA_BROKERS: '' }).kafka.brokers).toEqual(['127.0.0.1:19092']);
  });

  it('configures TLS and SASL for Kafka, basic auth for the registry and TLS for Redis', () => {
    const config = loadConfig({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/ssl/kafka-ca.pem',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'scorer',
      KAFKA_SASL_PASSWORD: 'kafka-secret',
      SCHEMA_REGISTRY_URL: 'https://registry.example:8081',
      SCHEMA_REGISTRY_USERNAME: 'reg-user',
      SCHEMA_REGISTRY_PASSWORD: 'registry-secret',
      REDIS_URL: 'rediss://scorer:redis-secret@redis.example:6380',
    });
    expect(config.kafka.ssl).toEqual({ caFile: '/etc/ssl/kafka-ca.pem', certFile: null, keyFile: null });
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'scorer', password: 'kafka-secret' });
    expect(config.schemaRegistryAuth).toEqual({ username: 'reg-user', password: 'registry-secret' });
    // What the start-up log prints carries no secret.
    const logged = JSON.stringify(describeConnections(config));
    for (const secret of ['kafka-secret', 'registry-secret', 'redis-secret']) expect(logged).not.toContain(secret);
    expect(logged).toContain('scram-sha-512');
    expect(logged).toContain('redis.example');
  });

  it('refuses security settings that do not go together, naming them', () => {
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' })).toThrow(
      /KAFKA_SASL_PASSWORD/,
    );
    expect(() => loadConfig({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toThrow(/KAFKA_SASL_MECHANISM/);
    expect(() => loadConfig({ KAFKA_SSL_CA_FILE: '/ca.pem' })).toThrow(/KAFKA_SSL:/);
    expect(() => loadConfig({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/c.pem' })).toThrow(/KAFKA_SSL_KEY_FILE/);
    expect(() => loadConfig({ SCHEMA_REGISTRY_USERNAME: 'u' })).toThrow(/SCHEMA_REGISTRY_PASSWORD/);
    expect(() => loadConfig({ KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(/KAFKA_SASL_MECHANISM/);
  });

  it('refuses the champion named as its own challenger, per kind', () => {
    const pinned = { CHURNSTREAM_CHURN_MODEL_VERSION: 'v1', CHURNSTREAM_LTV_MODEL_VERSION: 'l1' };
    expect(() => loadConfig({ ...pinned, CHURNSTREAM_CHALLENGER_CHURN_MODEL: 'v1' })).toThrow(
      /^invalid configuration: CHURNSTREAM_CHALLENGER_CHURN_MODEL: is the champion \(CHURNSTREAM_CHURN_MODEL_VERSION=v1\)/,
    );
    expect(() => loadConfig({ ...pinned, CHURNSTREAM_CHALLENGER_LTV_MODEL: 'l1' })).toThrow(
      /CHURNSTREAM_CHALLENGER_LTV_MODEL: is the champion/,
    );
    // Another version, or the same name for the other kind, is a challenger.
    expect(loadConfig({ ...pinned, CHURNSTREAM_CHALLENGER_CHURN_MODEL: 'l1' }).rollout.challengerChurn).toBe('l1');
  });
});

describe('Kafka connection security', () => {
  it('maps the options to kafkajs, reading PEM files once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    writeFileSync(join(dir, 'cert.pem'), 'CERT PEM');
    writeFileSync(join(dir, 'key.pem'), 'KEY PEM');
    const base = { brokers: ['b:9093'], clientId: 'c' };
    expect(connectionSecurity(base)).toEqual({});
    expect(connectionSecurity({ ...base, ssl: { caFile: null, certFile: null, keyFile: null } })).toEqual({
      ssl: true,
    });
    expect(
      connectionSecurity({
        ...base,
        ssl: { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
        sasl: { mechanism: 'plain', username: 'u', password: 'p' },
      }),
    ).toEqual({
      ssl: { ca: ['CA PEM'], cert: 'CERT PEM', key: 'KEY PEM' },
      sasl: { mechanism: 'plain', username: 'u', password: 'p' },
    });
  });

  describe('the HTTP surface', () => {
    it.each(['0.0.0.0', '::', '10.1.2.3', 'scorer.internal', '[::]'])(
      'refuses to serve customer data on %s without a token file, naming CHURNSTREAM_HTTP_TOKEN_FILE',
      (host) => {
        const attempt = () => loadConfig({ CHURNSTREAM_HTTP_HOST: host });
        expect(attempt).toThrow(ConfigError);
        expect(attempt).toThrow(/CHURNSTREAM_HTTP_TOKEN_FILE: .*beyond loopback.*CHURNSTREAM_HTTP_INSECURE=true/);
      },
    );

    it.each(['127.0.0.1', '127.3.2.1', 'localhost', '::1', '[::1]'])('%s is loopback: no token needed', (host) => {
      const config = loadConfig({ CHURNSTREAM_HTTP_HOST: host });
      expect(config.http.insecure).toBe(false);
      expect(config.http.tokenFile).toBeNull();
      // Bound without the brackets a URL needs around an IPv6 address.
      expect(config.http.host).toBe(host === '[::1]' ? '::1' : host);
    });

    it('serves beyond loopback with a token file, or open with CHURNSTREAM_HTTP_INSECURE=true (flagged)', () => {
      const withTokens = loadConfig({ CHURNSTREAM_HTTP_HOST: '0.0.0.0', CHURNSTREAM_HTTP_TOKEN_FILE: '/run/tokens' });
      expect(withTokens.http).toMatchObject({ tokenFile: '/run/tokens', insecure: false });
      const open = loadConfig({ CHURNSTREAM_HTTP_HOST: '0.0.0.0', CHURNSTREAM_HTTP_INSECURE: 'true' });
      expect(open.http).toMatchObject({ tokenFile: null, insecure: true });
    });

    it('TLS needs both files; the operational listener needs a port of its own', () => {
      expect(() => loadConfig({ CHURNSTREAM_HTTP_TLS_CERT_FILE: '/c.pem' })).toThrow(/CHURNSTREAM_HTTP_TLS_KEY_FILE/);
      expect(
        loadConfig({ CHURNSTREAM_HTTP_TLS_CERT_FILE: '/c.pem', CHURNSTREAM_HTTP_TLS_KEY_FILE: '/k.pem' }).http.tls,
      ).toEqual({ certFile: '/c.pem', keyFile: '/k.pem' });
      expect(() => loadConfig({ CHURNSTREAM_OPS_HTTP_HOST: '0.0.0.0' })).toThrow(/CHURNSTREAM_OPS_HTTP_PORT: required/);
      expect(() => loadConfig({ CHURNSTREAM_OPS_HTTP_PORT: '18080' })).toThrow(
        /CHURNSTREAM_OPS_HTTP_PORT: must differ/,
      );
      expect(loadConfig({ CHURNSTREAM_OPS_HTTP_PORT: '18089' }).http.ops).toEqual({ host: '127.0.0.1', port: 18089 });
      expect(loadConfig({ CHURNSTREAM_OPS_HTTP_HOST: '0.0.0.0', CHURNSTREAM_OPS_HTTP_PORT: '18089' }).http.ops).toEqual(
        { host: '0.0.0.0', port: 18089 },
      );
    });

    it('limits: headers timeout within the request timeout, concurrency at least 1', () => {
      expect(() =>
        loadConfig({ CHURNSTREAM_HTTP_HEADERS_TIMEOUT_MS: '5000', CHURNSTREAM_HTTP_REQUEST_TIMEOUT_MS: '1000' }),
      ).toThrow(/CHURNSTREAM_HTTP_HEADERS_TIMEOUT_MS/);
      expect(() => loadConfig({ CHURNSTREAM_HTTP_MAX_CONCURRENT: '0' })).toThrow(/CHURNSTREAM_HTTP_MAX_CONCURRENT/);
      expect(loadConfig({ CHURNSTREAM_HTTP_RATE_LIMIT: '0' }).http.ratePerSecond).toBe(0);
    });
  });
});
