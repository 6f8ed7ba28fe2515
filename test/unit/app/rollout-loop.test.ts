// The rollout loop: each check reads the rollout and applies a revision it has not applied
// yet, once; a revision that fails to apply is logged once and not retried on every tick; a
// failed read keeps the models in force. Checks are called directly (no timing).
import { afterEach, describe, expect, it } from 'vitest';
import { followRollout, type RolloutFollower } from '../../../src/app/rollout-loop.js';
import { type Rollout, withWeight } from '../../../src/core/experiments/rollout.js';
import { CallLog } from '../../helpers/fakes.js';
import { FakeRolloutStore } from '../../helpers/rollout-fakes.js';

const first: Rollout = {
  revision: 1,
  champion: { churn: 'v1', ltv: null },
  challenger: { churn: 'v2', ltv: null },
  weight: 0,
};

function setUp(options: { applied?: number | null; failOn?: number } = {}) {
  const store = new FakeRolloutStore(new CallLog());
  const applied: Rollout[] = [];
  const logged: { level: string; message: string }[] = [];
  const at = (level: string) => (_fields: unknown, message?: string) => logged.push({ level, message: message ?? '' });
  const follower = followRollout({
    store,
    // Never fires during a test: checks are called explicitly.
    intervalMs: 2 ** 31 - 1,
    apply: async (rollout) => {
      if (rollout.revision === options.failOn) throw new Error('version v9 does not load');
      applied.push(rollout);
    },
    log: { info: at('info'), warn: at('warn'), error: at('error') } as never,
    applied: options.applied ?? null,
  });
  followers.push(follower);
  return { store, applied, logged, follower };
}

const followers: RolloutFollower[] = [];
afterEach(async () => {
  await Promise.all(followers.splice(0).map((f) => f.stop()));
});

describe('rollout loop', () => {
  it('applies a new revision once, and the next one when it lands', async () => {
    const { store, applied, follower } = setUp();
    await follower.check();
    expect(applied).toEqual([]);
    store.overwrite(first);
    await follower.check();
    await follower.check();
    expect(applied).toEqual([first]);
    const second = withWeight(first, 0.4);
    store.overwrite(second);
    await follower.check();
    expect(applied).toEqual([first, second]);
  });

  it('does not re-apply the revision applied at start-up', async () => {
    const { store, applied, follower } = setUp({ applied: 1 });
    store.overwrite(first);
    await follower.check();
    expect(applied).toEqual([]);
  });

  it('a revision that fails is logged as an ERROR once and not retried; the next revision is applied', async () => {
    const { store, applied, logged, follower } = setUp({ failOn: 1 });
    store.overwrite(first);
    await follower.check();
    await follower.check();
    expect(logged.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(applied).toEqual([]);
    const second = withWeight(first, 0.1);
    store.overwrite(second);
    await follower.check();
    expect(applied).toEqual([second]);
  });

  it('a failed read (Redis down) WARNs and keeps the models; the revision is applied once Redis answers', async () => {
    const { store, applied, logged, follower } = setUp();
    store.overwrite(first);
    store.faults.failNext('read', 1);
    await follower.check();
    expect(applied).toEqual([]);
    expect(logged.map((l) => l.level)).toEqual(['warn']);
    await follower.check();
    expect(applied).toEqual([first]);
  });
});
