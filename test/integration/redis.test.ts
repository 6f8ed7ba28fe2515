// The real Redis: the fenced apply-state Lua script, loaded by SHA through ioredis.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis } from '../../src/adapters/redis/connect.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { LTV_LABELS_KEPT, RedisModelHealthStore } from '../../src/adapters/redis/model-health-store.js';
import { addLabel, emptyLabelStats } from '../../src/core/monitoring/calibration.js';

const customerStateKey = redisKeys('test').customerState;

import { applyStates, defineScripts, type ScriptedRedis, type StateWrite } from '../../src/adapters/redis/scripts.js';
import { testConfig, uniqueSuffix } from '../helpers/stack.js';

const config = testConfig('redis');
let redis: ScriptedRedis;

beforeAll(async () => {
  redis = defineScripts(new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 }));
  await redis.connect();
});

afterAll(async () => {
  await redis.quit();
});

const write = (
  key: string,
  expected: number,
  partition: number | '',
  offset: string,
  state: string,
  meta = '',
  ttl = 0,
) => ({ key, expected, partition, offset, state, meta, ttlSeconds: ttl }) satisfies StateWrite;
const applyOne = async (target: ScriptedRedis, w: StateWrite) => (await applyStates(target, [w]))[0];
const apply = (key: string, expected: number, partition: number, offset: number, state: string, ttl = 0, meta = '') =>
  applyOne(redis, write(key, expected, partition, String(offset), state, meta, ttl));

describe('apply-state script (real Redis)', () => {
  it('writes, then fences redeliveries and stale writers', async () => {
    const key = customerStateKey(`cust-${uniqueSuffix()}`);
    expect(await apply(key, 0, 2, 100, 'A')).toEqual({ kind: 'applied', version: 1 });
    expect(await redis.hgetall(key)).toEqual({ ver: '1', state: 'A', 'o:2': '100' });

    // The same or an older offset of that partition: a redelivery, no effect.
    expect(await apply(key, 1, 2, 100, 'B')).toEqual({ kind: 'already_applied', version: 1 });
    expect(await apply(key, 1, 2, 99, 'B')).toEqual({ kind: 'already_applied', version: 1 });
    // A writer that read version 0 (a zombie) loses to the one that wrote version 1.
    expect(await apply(key, 0, 2, 101, 'Z')).toEqual({ kind: 'version_conflict', version: 1 });
    expect(await redis.hget(key, 'state')).toBe('A');

    expect(await apply(key, 1, 2, 101, 'C')).toEqual({ kind: 'applied', version: 2 });
    // Offsets are tracked per partition (after a repartitioning the customer moves).
    expect(await apply(key, 2, 5, 7, 'D')).toEqual({ kind: 'applied', version: 3 });
    expect(await redis.hgetall(key)).toEqual({ ver: '3', state: 'D', 'o:2': '101', 'o:5': '7' });
  });

  it('writes the scoring metadata with the state, and timer writes are fenced by version only', async () => {
    const key = customerStateKey(`cust-${uniqueSuffix()}`);
    await apply(key, 0, 1, 10, 'A', 0, '{"level":"low"}');
    expect(await redis.hget(key, 'meta')).toBe('{"level":"low"}');
    const timer = await applyOne(redis, write(key, 1, '', '', 'B', '{"level":"high"}'));
    expect(timer).toEqual({ kind: 'applied', version: 2 });
    expect(await redis.hgetall(key)).toEqual({ ver: '2', state: 'B', meta: '{"level":"high"}', 'o:1': '10' });
    expect(await applyOne(redis, write(key, 1, '', '', 'Z'))).toEqual({
      kind: 'version_conflict',
      version: 2,
    });
  });

  it('decides each customer of a multi-customer call on its own, outcomes in order', async () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => customerStateKey(`${id}-${uniqueSuffix()}`)) as [
      string,
      string,
      string,
      string,
    ];
    await apply(b, 0, 3, 50, 'B0');
    await apply(c, 0, 3, 60, 'C0');
    const outcomes = await applyStates(redis, [
      write(a, 0, 3, '10', 'A1', '{"m":1}'),
      write(b, 1, 3, '50', 'B1'), // redelivered offset
      write(c, 0, 3, '61', 'C1'), // stale version
      write(d, 0, '', '', 'D1', '', 3600), // timer write, no offset
    ]);
    expect(outcomes).toEqual([
      { kind: 'applied', version: 1 },
      { kind: 'already_applied', version: 1 },
      { kind: 'version_conflict', version: 1 },
      { kind: 'applied', version: 1 },
    ]);
    expect(await redis.hgetall(a)).toEqual({ ver: '1', state: 'A1', 'o:3': '10', meta: '{"m":1}' });
    expect(await redis.hget(b, 'state')).toBe('B0');
    expect(await redis.hget(c, 'state')).toBe('C0');
    expect(await redis.hgetall(d)).toEqual({ ver: '1', state: 'D1' });
    expect(await redis.ttl(d)).toBeGreaterThan(3500);
    // More customers than one script call takes: split, outcomes still in order.
    const many = Array.from({ length: 1203 }, (_, i) =>
      write(customerStateKey(`m${i}-${uniqueSuffix()}`), 0, 1, String(i), `S${i}`),
    );
    const manyOutcomes = await applyStates(redis, many);
    expect(manyOutcomes.every((o) => o.kind === 'applied')).toBe(true);
    expect(await redis.hget(many[1202]?.key ?? '', 'state')).toBe('S1202');
  });

  it('sets the TTL in the same atomic write', async () => {
    const key = customerStateKey(`cust-${uniqueSuffix()}`);
    await apply(key, 0, 0, 1, 'A', 3600);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('survives a script cache flush (EVALSHA falls back to EVAL)', async () => {
    const key = customerStateKey(`cust-${uniqueSuffix()}`);
    await redis.script('FLUSH');
    expect(await apply(key, 0, 0, 1, 'A')).toEqual({ kind: 'applied', version: 1 });
  });

  it('authenticates with an ACL user from the URL, and refuses a wrong password with a clear error', async () => {
    const user = `cs-test-${uniqueSuffix()}`;
    await redis.call('ACL', 'SETUSER', user, 'on', '>s3cret-pw', '~*', '+@all');
    const { hostname, port } = new URL(config.redisUrl);
    try {
      const authed = defineScripts(await openRedis(`redis://${user}:s3cret-pw@${hostname}:${port}`, null));
      expect(await authed.call('ACL', 'WHOAMI')).toBe(user);
      const key = customerStateKey(`acl-${user}`);
      expect(await applyOne(authed, write(key, 0, 1, '1', 'state', '{}'))).toMatchObject({
        kind: 'applied',
      });
      await authed.quit();
      const attempt = openRedis(`redis://${user}:wrong-pw@${hostname}:${port}`, null);
      await expect(attempt).rejects.toThrow(/WRONGPASS|invalid username-password/);
      // The message names the server but not the password.
      await expect(attempt).rejects.not.toThrow(/wrong-pw/);
    } finally {
      await redis.call('ACL', 'DELUSER', user);
    }
  });
});

describe('resolved labels (real Redis)', () => {
  it('add up across writes to the statistics one label at a time gives', async () => {
    const store = new RedisModelHealthStore(redis, redisKeys(`labels-${uniqueSuffix()}`));
    const expected = emptyLabelStats();
    const batches = [0, 1, 2].map((batch) =>
      Array.from({ length: 50 }, (_, i) => {
        const probability = ((batch * 50 + i) * 0.37) % 1;
        const rank = ((batch * 50 + i) * 0.61) % 1;
        const churned = (batch + i) % 3 === 0;
        addLabel(expected, probability, churned, rank);
        return { modelVersion: 'v9', probability, rank, churned };
      }),
    );
    for (const labels of batches) await store.addLabels(labels);
    const stats = await store.labelStats('v9');
    expect(stats.positives).toEqual(expected.positives);
    expect(stats.negatives).toEqual(expected.negatives);
    expect(stats.rankPositives).toEqual(expected.rankPositives);
    expect(stats.rankNegatives).toEqual(expected.rankNegatives);
    stats.predictedSum.forEach((sum, bin) => {
      expect(sum).toBeCloseTo(expected.predictedSum[bin] ?? Number.NaN, 9);
    });
    expect(stats.brierSum).toBeCloseTo(expected.brierSum, 9);
    expect((await store.labelStats('other')).positives.every((n) => n === 0)).toBe(true);
  });

  it('keep the latest LTV labels first, bounded, per model version', async () => {
    const store = new RedisModelHealthStore(redis, redisKeys(`ltv-labels-${uniqueSuffix()}`));
    const label = (n: number, modelVersion = 'v9') => ({
      modelVersion,
      predicted: n,
      realised: n,
      low: 0,
      high: 2 * n,
    });
    await store.addLtvLabels(Array.from({ length: LTV_LABELS_KEPT - 2 }, (_, n) => label(n)));
    await store.addLtvLabels([
      label(LTV_LABELS_KEPT - 2),
      label(7, 'v8'),
      label(LTV_LABELS_KEPT - 1),
      label(LTV_LABELS_KEPT),
    ]);
    const kept = await store.ltvLabels('v9');
    expect(kept).toHaveLength(LTV_LABELS_KEPT);
    expect(kept[0]).toEqual({
      predicted: LTV_LABELS_KEPT,
      realised: LTV_LABELS_KEPT,
      low: 0,
      high: 2 * LTV_LABELS_KEPT,
    });
    expect(kept.at(-1)?.predicted).toBe(1); // label 0, the oldest, was trimmed
    expect(kept.map((p) => p.predicted)).toEqual(
      Array.from({ length: LTV_LABELS_KEPT }, (_, i) => LTV_LABELS_KEPT - i),
    );
    expect(await store.ltvLabels('v8')).toEqual([{ predicted: 7, realised: 7, low: 0, high: 14 }]);
  });
});
