// The stores on a real Redis Cluster (scripts/stack.sh up redis-cluster: 3 primaries, 3
// replicas): a chunk of customers spread over every slot is read and written with the
// fences (one script call per slot), timers, labels and watermarks land on their own
// slots, and a failover in the middle of writes only ever surfaces as a DependencyError
// (transient) while no acknowledged write is lost; a write whose primary reconnected before
// the WAIT is not counted as replicated.
import { once } from 'node:events';
import { type Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DependencyError } from '../../src/adapters/dependency-error.js';
import { ReplicationUnknown, replicationFence, type ScriptedRedis } from '../../src/adapters/redis/client.js';
import { parseClusterNodes } from '../../src/adapters/redis/connect-cluster.js';
import { RedisConnection } from '../../src/adapters/redis/connection.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import type { CustomerWrite } from '../../src/adapters/redis/state-store.js';
import { emptyState } from '../../src/core/state/customer-state.js';
import {
  clusterClient,
  clusterNodes,
  clusterNodesEnv,
  ensureCluster,
  failoverTo,
  primaryOf,
} from '../helpers/redis-cluster.js';
import { processEnv } from '../helpers/scorer-process.js';
import { uniqueSuffix } from '../helpers/stack.js';
import { freePort, sleep, spawnScorer } from '../helpers/stack-control.js';

const namespace = `test-cluster-${uniqueSuffix()}`;
const keys = redisKeys(namespace);
let connection: RedisConnection;
let verify: Cluster;
let stores: ReturnType<RedisConnection['stores']>;

beforeAll(async () => {
  ensureCluster();
  connection = await RedisConnection.openCluster(parseClusterNodes(clusterNodesEnv.split(',')), null);
  stores = connection.stores(namespace, 3600);
  verify = clusterClient();
});

afterAll(async () => {
  await connection?.close();
  verify?.disconnect();
});

async function aclOn(port: number, ...args: string[]): Promise<void> {
  const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  await node.connect();
  await node.call('ACL', ...args);
  node.disconnect();
}

/** `churnstream run` with these settings: it must exit 2 within 20 s, with one line on stderr. */
async function refusedStart(label: string, settings: Record<string, string>) {
  const env = {
    ...processEnv(label),
    CHURNSTREAM_HTTP_PORT: String(await freePort()),
    CHURNSTREAM_LOG_LEVEL: 'warn',
    ...settings,
  };
  const child = spawnScorer(env);
  const exit = await Promise.race([child.exit, sleep(20_000).then(() => null)]);
  await child.stop(1000);
  const lines = child
    .stderr()
    .split('\n')
    .filter((line) => line.trim() !== '');
  expect(exit?.code, child.stderr()).toBe(2);
  expect(lines).toHaveLength(1);
  return { exit, lines };
}

const ids = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);
const writeOf = (customerId: string, expectedVersion: number, offset: number): CustomerWrite => ({
  customerId,
  expectedVersion,
  partition: 0,
  source: { partition: 0, offset: String(offset) },
  next: { state: { ...emptyState(), maxEventTime: offset }, tier: null, nextDue: offset * 1000 },
});

describe('stores on Redis Cluster', () => {
  it('writes and reads a chunk spread over every primary, with both fences', async () => {
    const customers = ids(1200, `c-${uniqueSuffix()}`);
    const nodes = clusterNodes();
    const primaries = new Set(customers.map((c) => primaryOf(keys.customerState(c), nodes).port));
    expect(primaries.size).toBe(3);
    const first = await stores.state.write(customers.map((c) => writeOf(c, 0, 5)));
    expect(first.every((o) => o.kind === 'applied' && o.version === 1)).toBe(true);
    // Outcomes come back in input order even though the calls went per slot.
    const mixed = await stores.state.write(
      customers.map((c, i) => writeOf(c, i % 2 === 0 ? 1 : 0, i % 3 === 0 ? 5 : 6)),
    );
    mixed.forEach((outcome, i) => {
      const want = i % 3 === 0 ? 'already_applied' : i % 2 === 0 ? 'applied' : 'version_conflict';
      expect(outcome.kind, customers[i]).toBe(want);
    });
    const read = await stores.state.read(customers.map((customerId) => ({ customerId, partition: 0 })));
    customers.forEach((c, i) => {
      const loaded = read.get(c);
      const applied = i % 3 !== 0 && i % 2 === 0;
      expect(loaded?.version).toBe(applied ? 2 : 1);
      expect(loaded?.lastOffset).toBe(applied ? 6n : 5n);
      expect(loaded?.partition).toBe(0);
      expect(loaded?.stored?.state.maxEventTime).toBe(applied ? 6 : 5);
    });
  });

  it('keeps timers, label statistics and watermarks on their own slots', async () => {
    const customers = ids(60, `t-${uniqueSuffix()}`);
    await stores.timers.schedule(customers.map((customerId, i) => ({ customerId, partition: i % 6, due: 1000 + i })));
    await stores.timers.schedule([{ customerId: customers[0] as string, partition: 0, due: Number.NaN }]);
    expect(await stores.timers.due(1, 2000, 100)).toEqual(customers.filter((_, i) => i % 6 === 1));
    expect(await stores.timers.backlog(0, 2000)).toBe(9);
    await stores.health.addLabels([
      { modelVersion: 'a', probability: 0.15, rank: 0.3, churned: true },
      { modelVersion: 'b', probability: 0.95, rank: 0.9, churned: false },
    ]);
    await stores.health.addLtvLabels([{ modelVersion: 'a', predicted: 10, realised: 12, low: 5, high: 20 }]);
    expect((await stores.health.labelStats('a')).positives[1]).toBe(1);
    expect((await stores.health.labelStats('b')).negatives[9]).toBe(1);
    expect((await stores.health.labelStats('a')).rankPositives[15]).toBe(1);
    expect(await stores.health.ltvLabels('a')).toEqual([{ predicted: 10, realised: 12, low: 5, high: 20 }]);
    await Promise.all([0, 1, 2, 3, 4, 5].map((p) => stores.watermarks.save(p, 100 + p)));
    expect([...(await stores.watermarks.load([0, 1, 2, 3, 4, 5])).values()]).toEqual([100, 101, 102, 103, 104, 105]);
    expect(await connection.ping()).toBe(true);
  });

  it('rides out a failover during writes: failures are DependencyErrors, acknowledged writes stay', async () => {
    const customers = ids(900, `f-${uniqueSuffix()}`);
    const victim = primaryOf(keys.customerState(customers[0] as string));
    const versions = new Map(customers.map((c) => [c, 0]));
    const failures: unknown[] = [];
    let failedOver: Promise<number> | null = null;
    // Rounds of fenced writes, each retried as the scorer's transient retry would.
    for (let round = 1; round <= 40; round += 1) {
      if (round === 10) failedOver = failoverTo(victim);
      for (;;) {
        try {
          const read = await stores.state.read(customers.map((customerId) => ({ customerId, partition: 0 })));
          const outcomes = await stores.state.write(customers.map((c) => writeOf(c, read.get(c)?.version ?? 0, round)));
          outcomes.forEach((o, i) => {
            if (o.kind !== 'applied' && o.kind !== 'already_applied') throw new Error(`${customers[i]}: ${o.kind}`);
            versions.set(customers[i] as string, o.version);
          });
          break;
        } catch (error) {
          failures.push(error);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
    await failedOver;
    expect(failures.every((f) => f instanceof DependencyError)).toBe(true);
    for (const c of customers) {
      const [ver, offset] = await verify.hmget(keys.customerState(c), 'ver', 'o:0');
      expect(Number(offset), c).toBe(40);
      expect(Number(ver), c).toBe(versions.get(c));
    }
    console.log(`failover during writes: ${failures.length} transient failures, victim ${victim.port}`);
  }, 120_000);

  it('does not confirm writes whose primary reconnected before WAIT (WAIT there answers for nothing of ours)', async () => {
    const client = clusterClient();
    try {
      const key = keys.customerState(`w-${uniqueSuffix()}`);
      await client.set(key, '0');
      const port = primaryOf(key).port;
      const primary = client.nodes('master').find((node) => node.options.port === port);
      if (primary === undefined) throw new Error(`the client knows no primary on ${port}`);
      // Written, then the primary's connection replaced before the confirmation: the cluster
      // client drops a node whose connection ended and connects a new one on the next command,
      // where WAIT succeeds at once (no write of ours on it). Only the fence can tell.
      const fence = replicationFence(client as unknown as ScriptedRedis, 1);
      await client.set(key, '1');
      const ended = once(primary, 'end');
      primary.disconnect();
      await ended;
      await client.get(key);
      const again = client.nodes('master').find((node) => node.options.port === port);
      expect(again).toBeDefined();
      expect(again).not.toBe(primary);
      expect(await again?.wait(1, 2000)).toBe(1);
      await expect(fence.confirm()).rejects.toBeInstanceOf(ReplicationUnknown);
      // The same on a steady connection: confirmed (a replica acknowledged).
      const steady = replicationFence(client as unknown as ScriptedRedis, 1);
      await client.set(key, '2');
      await expect(steady.confirm()).resolves.toBeUndefined();
    } finally {
      client.disconnect();
    }
  });

  it('connects with an ACL user given in the seeds, and names the reason of a wrong password', async () => {
    const user = `cs-${uniqueSuffix()}`;
    // ACL SETUSER is per node and in memory only: every node gets the user, for this test.
    const nodes = clusterNodes().filter((n) => !n.failed);
    for (const node of nodes) await aclOn(node.port, 'SETUSER', user, 'on', '>acl-secret-1', '~cs:*', '+@all');
    try {
      const seeds = (password: string) =>
        parseClusterNodes(clusterNodesEnv.split(',').map((seed) => `redis://${user}:${password}@${seed}`));
      const secured = await RedisConnection.openCluster(seeds('acl-secret-1'), null);
      const acl = secured.stores(namespace, 60);
      expect((await acl.state.write([writeOf(`acl-${user}`, 0, 1)]))[0]?.kind).toBe('applied');
      expect(await secured.ping()).toBe(true);
      await secured.close();
      await expect(RedisConnection.openCluster(seeds('wrong-password'), null)).rejects.toThrow(
        /cannot connect to Redis Cluster at redis:\/\/127\.0\.0\.1:\d+,.*(WRONGPASS|invalid username-password)/,
      );
    } finally {
      for (const node of nodes) await aclOn(node.port, 'DELUSER', user);
    }
  });

  it('REDIS_URL naming a cluster node is a setting to fix: refused at once, `run` exits 2 naming both settings', async () => {
    const node = clusterNodesEnv.split(',')[0] as string;
    await expect(RedisConnection.open(`redis://${node}`, null)).rejects.toThrow(
      /is a Redis Cluster node: name the cluster's nodes in REDIS_CLUSTER_NODES instead of REDIS_URL/,
    );
    const { exit, lines } = await refusedStart('cluster-as-url', { REDIS_URL: `redis://${node}` });
    // At once: not waited out as an unreachable Redis would be (start-up timeout).
    expect(exit?.ms).toBeLessThan(15_000);
    expect(lines[0]).toMatch(/REDIS_URL: .* is a Redis Cluster node: .*REDIS_CLUSTER_NODES/);
  }, 40_000);

  it('REDIS_WAIT_REPLICAS above the replicas a primary has: `run` exits 2 naming it (no write could be acknowledged)', async () => {
    expect(await connection.fewestReplicas()).toMatchObject({ replicas: 1 });
    const { lines } = await refusedStart('cluster-wait-2', {
      REDIS_CLUSTER_NODES: clusterNodesEnv,
      REDIS_WAIT_REPLICAS: '2',
    });
    expect(lines[0]).toMatch(/REDIS_WAIT_REPLICAS=2: primary 127\.0\.0\.1:\d+ has 1 replica\(s\) in the cluster/);
  }, 40_000);

  it('refuses to open an unreachable cluster with the reason', async () => {
    await expect(RedisConnection.openCluster(parseClusterNodes(['127.0.0.1:1']), null)).rejects.toThrow(
      /cannot connect to Redis Cluster at redis:\/\/127.0.0.1:1/,
    );
  });
});
