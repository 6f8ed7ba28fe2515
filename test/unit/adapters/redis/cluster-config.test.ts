// REDIS_CLUSTER_NODES: the seed list's forms, and the refusals (one line naming the
// setting, a ConfigError: exit 2 before the group is joined).
import { describe, expect, it } from 'vitest';
import { parseClusterNodes } from '../../../../src/adapters/redis/connect-cluster.js';
import { ConfigError, loadConfig } from '../../../../src/app/config.js';
import { describeConnections } from '../../../../src/app/config-connections.js';

describe('REDIS_CLUSTER_NODES', () => {
  it('takes host:port seeds, or URLs with TLS and an ACL user shared by all', () => {
    expect(parseClusterNodes(['127.0.0.1:17001', 'redis-a:6379', '[::1]:7000'])).toEqual({
      nodes: [
        { host: '127.0.0.1', port: 17001 },
        { host: 'redis-a', port: 6379 },
        { host: '::1', port: 7000 },
      ],
      tls: false,
      username: null,
      password: null,
    });
    const secure = parseClusterNodes(['rediss://scorer:s%40cret@a:6380', 'rediss://scorer:s%40cret@b:6380']);
    expect(secure).toMatchObject({ tls: true, username: 'scorer', password: 's@cret' });
  });

  it('gives the scorer the cluster, and the start-up log no password', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: 'rediss://u:topsecret@a:6380, rediss://u:topsecret@b:6380' });
    expect(config.redisCluster?.nodes).toHaveLength(2);
    const logged = JSON.stringify(describeConnections(config));
    expect(logged).toContain('rediss://a:6380,b:6380');
    expect(logged).not.toContain('topsecret');
    expect(loadConfig({}).redisCluster).toBeNull();
  });

  it.each([
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:17001', REDIS_URL: 'redis://127.0.0.1:16379' }, /not both/],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1' }, /'127.0.0.1' is not host:port/],
    [{ REDIS_CLUSTER_NODES: 'a:99999' }, /out of range/],
    [{ REDIS_CLUSTER_NODES: 'redis://a:1/0' }, /is not redis\[s\]/],
    [{ REDIS_CLUSTER_NODES: 'rediss://a:1,redis://b:1' }, /same scheme and credentials/],
    [{ REDIS_CLUSTER_NODES: ' , ' }, /REDIS_CLUSTER_NODES/],
  ])('refuses %o with one line naming the setting', (env, reason) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^invalid configuration: REDIS_CLUSTER_NODES: /);
    expect(message).not.toContain('\n');
    expect(message).toMatch(reason);
  });
});
