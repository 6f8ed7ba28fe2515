// The `models` command line against the real Redis, on what an outside tester broke: a
// challenger that does not exist is refused before anything is written (it used to be
// accepted, and every later scorer start exited 2), a promotion against the labels is refused
// unless --force, a retried `promote <version>` cannot swap the versions back, and `models
// log` prints entries written before --why/--by were checked with their control characters
// escaped. The labels are written through the comparison store, as the scorers write them.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnection } from '../../src/adapters/redis/connection.js';
import { changeRollout } from '../../src/app/commands/models-rollout.js';
import { type Config, loadConfig } from '../../src/app/config.js';
import { USER_ERROR_EXIT_CODE } from '../../src/app/user-error.js';
import type { Rollout } from '../../src/core/experiments/rollout.js';
import type { ResolvedPair } from '../../src/core/monitoring/comparison.js';

const env = {
  ...process.env,
  CHURNSTREAM_MODELS_DIR: new URL('../fixtures/challenger/', import.meta.url).pathname,
  CHURNSTREAM_CHURN_MODEL_VERSION: 'v1',
  CHURNSTREAM_LTV_MODEL_VERSION: 'v1',
  CHURNSTREAM_REDIS_NAMESPACE: `models-cli-${process.pid}-${Date.now()}`,
};
const config: Config = loadConfig(env);
const cli = ['--import', 'tsx', new URL('../../src/app/cli/main.ts', import.meta.url).pathname];
const cs = (...args: string[]) =>
  spawnSync(process.execPath, [...cli, 'models', ...args], { encoding: 'utf8', timeout: 30_000, env });

/** A refusal: exit 2, one line on stderr, no stack trace. */
function refused(result: ReturnType<typeof cs>, message: RegExp): void {
  expect(result.status, result.stderr).toBe(USER_ERROR_EXIT_CODE);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr.trimEnd()).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

/** Paired labels on which the champion v1 ranks churners well and v1-shuffled at random. */
const pairs = (n: number): ResolvedPair[] =>
  Array.from({ length: n }, (_, i) => {
    const churned = i % 4 === 0;
    const noise = ((i * 37) % 100) / 100;
    return {
      customerId: `c${i}`,
      champion: 'v1',
      challenger: 'v1-shuffled',
      championRank: churned ? 0.5 + noise / 2 : noise / 2,
      challengerRank: noise,
      churned,
    };
  });

let connection: RedisConnection;
const stores = () => connection.stores(config.redisNamespace, config.stateTtlSeconds);

beforeAll(async () => {
  connection = await RedisConnection.open(config.redisUrl, null);
  // Revision 1 names the champion: the commands start from the rollout in Redis, whatever
  // the shell's settings (or the processes' reports) would say.
  const start: Rollout = { revision: 0, champion: { churn: 'v1', ltv: 'v1' }, challenger: null, weight: 0 };
  await changeRollout(
    stores(),
    start,
    { ...start, revision: 1 },
    {
      action: 'challenger',
      by: 'setup',
      why: 'the test starts here',
      at: new Date(),
    },
    config,
  );
  await stores().comparisons.addPairs(pairs(2_000));
}, 30_000);

afterAll(async () => {
  await connection?.close();
});

describe('models commands on the real Redis', { timeout: 60_000 }, () => {
  it('refuses a challenger that is not in the models directory; nothing is written', async () => {
    const before = cs('log');
    expect(before.status).toBe(0);
    refused(
      cs('challenger', 'v999', '--why', 'typo', '--by', 'test'),
      /^challenger: no churn version v999 in .*\(there: v1, v1-shuffled/,
    );
    refused(cs('challenger', 'NONE', '--why', 'stop nothing', '--by', 'test'), /no challenger to stop/);
    expect(cs('log').stdout).toBe(before.stdout);
    expect((await stores().rollout.read())?.revision).toBe(1);
  });

  it('refuses to promote a challenger the labels call clearly worse, unless --force', async () => {
    const shadow = cs('challenger', 'v1-shuffled', '--why', 'shadow the shuffled one', '--by', 'test');
    expect(shadow.status, shadow.stderr).toBe(0);
    refused(
      cs('promote', '--why', 'ship it', '--by', 'test'),
      /^promote: the champion ranks better: .*AUC difference \(challenger - champion\) -0\.\d{4}, 95% CI \[-0\.\d{4}, -0\.\d{4}\] on 2000 paired labels; nothing promoted \(--force/,
    );
    expect((await stores().rollout.read())?.champion.churn).toBe('v1');
    const forced = cs('promote', 'v1-shuffled', '--force', '--why', 'forced on purpose', '--by', 'kim');
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/^warning: promoting against the labels \(--force\)/);
    expect(forced.stdout).toMatch(/promoting challenger v1-shuffled\/v1 over champion v1\/v1/);
    expect((await stores().rollout.read())?.champion.churn).toBe('v1-shuffled');
  });

  it('refuses a retried promote of the version that is already champion: it cannot swap back', async () => {
    refused(
      cs('promote', 'v1-shuffled', '--why', 'retry', '--by', 'bot'),
      /^promote: v1-shuffled is already the champion \(revision 3 by kim\); nothing promoted$/,
    );
    const rollout = await stores().rollout.read();
    expect(rollout).toMatchObject({ revision: 3, champion: { churn: 'v1-shuffled' } });
  });

  it('refuses a weight with no scorer running and no CHURNSTREAM_EXPERIMENT in the shell: nothing is written', async () => {
    const before = await stores().rollout.read();
    expect(before?.challenger).not.toBeNull();
    // Empty counts as unset (as in a shell that never exported it).
    const shell = { ...env, CHURNSTREAM_EXPERIMENT: '' };
    refused(
      spawnSync(process.execPath, [...cli, 'models', 'weight', '0.5', '--why', 'ab', '--by', 'test'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: shell,
      }),
      /^a weight decides nobody where no experiment runs: no scorer reports what it serves and CHURNSTREAM_EXPERIMENT is not set here/,
    );
    expect(await stores().rollout.read()).toEqual(before);
  });

  it('prints older log entries with their control characters escaped', async () => {
    const current = (await stores().rollout.read()) as Rollout;
    // As written before --why and --by were checked.
    await stores().rollout.change(
      {
        revision: current.revision + 1,
        at: new Date().toISOString(),
        by: 'x\u001b[31mred',
        action: 'weight',
        why: 'line1\n2026-01-01T00:00:00Z  promote    by ceo: approved',
        before: current,
        after: { ...current, revision: current.revision + 1 },
      },
      current.revision,
    );
    const log = cs('log', '--limit', '1');
    expect(log.status).toBe(0);
    expect(log.stdout).not.toContain(String.fromCharCode(0x1b));
    expect(log.stdout).toContain('by x\\x1b[31mred: line1\\x0a2026-01-01T00:00:00Z  promote    by ceo: approved');
    // Header, the entry and its "->" line.
    expect(log.stdout.trimEnd().split('\n')).toHaveLength(3);
  });

  it('sets an LTV-only challenger with --ltv alone, and compare prints its LTV table', async () => {
    // The fixtures plus ltv/v2 (a copy of v1), in a namespace of its own.
    const dir = mkdtempSync(join(tmpdir(), 'models-cli-ltv-'));
    cpSync(new URL('../fixtures/challenger/', import.meta.url).pathname, dir, { recursive: true });
    cpSync(join(dir, 'ltv', 'v1'), join(dir, 'ltv', 'v2'), { recursive: true });
    const ltvConfig = join(dir, 'ltv', 'v2', 'config.json');
    writeFileSync(ltvConfig, JSON.stringify({ ...JSON.parse(readFileSync(ltvConfig, 'utf8')), version: 'v2' }));
    const shell = {
      ...env,
      CHURNSTREAM_MODELS_DIR: dir,
      CHURNSTREAM_REDIS_NAMESPACE: `${env.CHURNSTREAM_REDIS_NAMESPACE}-ltv`,
    };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [...cli, 'models', ...args], { encoding: 'utf8', timeout: 30_000, env: shell });
    const set = run('challenger', '--ltv', 'v2', '--why', 'new LTV model', '--by', 'test');
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/after {2}revision 1: champion v1\/v1, challenger \(champion\)\/v2/);
    const ns = connection.stores(shell.CHURNSTREAM_REDIS_NAMESPACE, config.stateTtlSeconds);
    expect((await ns.rollout.read())?.challenger).toEqual({ churn: null, ltv: 'v2' });
    refused(run('challenger', '--ltv', 'none', '--why', 'x', '--by', 'test'), /leaves a challenger with no model/);
    refused(run('challenger', '--why', 'x', '--by', 'test'), /^challenger: name a churn version, none, or an LTV/);
    // Resolved LTV labels, as the scorers write them: v2 predicts 20% higher than v1 on the same outcomes.
    const labels = (version: string, factor: number) =>
      Array.from({ length: 200 }, (_, i) => {
        const predicted = (50 + (i % 20) * 10) * factor;
        return {
          modelVersion: version,
          predicted,
          low: predicted / 2,
          high: predicted * 2,
          realised: 50 + (i % 20) * 10,
        };
      });
    await ns.health.addLtvLabels([...labels('v1', 1), ...labels('v2', 1.2)]);
    const text = run('compare');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^churn: the challenger scores churn with the champion's model \(v1\): nothing to compare/,
    );
    expect(text.stdout).toMatch(/^champion {3}v1 +200 +1\.000/m);
    expect(text.stdout).toMatch(/^challenger v2 +200 +0\.833/m);
    const json = JSON.parse(run('compare', '--json').stdout) as {
      churn: null;
      ltv: { challenger: { labels: number } };
    };
    expect(json.churn).toBeNull();
    expect(json.ltv.challenger.labels).toBe(200);
  });
});
