// The `models` commands' rollout changes through the store port: each change is checked
// against the revision it was computed from (a change computed from an old revision is
// refused, exit 2, nothing written) and logged with who/when/why.
import { describe, expect, it } from 'vitest';
import { changeRollout } from '../../../../src/app/commands/models-rollout.js';
import { UserError } from '../../../../src/app/user-error.js';
import { promote, type Rollout, rollback, withWeight } from '../../../../src/core/experiments/rollout.js';
import { FakeRolloutStore } from '../../../helpers/rollout-fakes.js';

const initial: Rollout = {
  revision: 0,
  champion: { churn: 'v1', ltv: 'l1' },
  challenger: { churn: 'v2', ltv: null },
  weight: 0,
};
const note = (action: 'promote' | 'rollback' | 'weight', why = 'test') =>
  ({ action, by: 'alice', why, at: new Date(Date.UTC(2026, 0, 2)) }) as const;

describe('changeRollout', () => {
  it('writes the next rollout and its log entry (who, when, why, before, after)', async () => {
    const rollout = new FakeRolloutStore();
    const next = withWeight(initial, 0.2);
    await changeRollout({ rollout }, initial, next, note('weight', 'ramp up'), null);
    expect(await rollout.read()).toEqual(next);
    expect(await rollout.log()).toEqual([
      {
        revision: 1,
        at: '2026-01-02T00:00:00.000Z',
        by: 'alice',
        action: 'weight',
        why: 'ramp up',
        before: initial,
        after: next,
      },
    ]);
  });

  it('refuses a change computed from an old revision: a user error, nothing written', async () => {
    const rollout = new FakeRolloutStore();
    await changeRollout({ rollout }, initial, withWeight(initial, 0.2), note('weight'), null);
    // Bob computed his promotion from revision 0, before Alice's change landed.
    const stale = promote(initial);
    const error = await changeRollout({ rollout }, initial, stale, note('promote'), null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(String(error)).toMatch(/revision 0 is no longer current/);
    expect((await rollout.read())?.weight).toBe(0.2);
    expect(await rollout.log()).toHaveLength(1);
  });

  it('promote, rollback, rollback: the second rollback is refused and changes nothing', async () => {
    const rollout = new FakeRolloutStore();
    const promoted = await changeRollout({ rollout }, initial, promote(initial), note('promote'), null);
    const back = await changeRollout(
      { rollout },
      promoted,
      rollback(promoted, await rollout.log()),
      note('rollback'),
      null,
    );
    expect(back).toEqual({ ...initial, revision: 2 });
    expect(() => rollback(back, [])).toThrow(/no promotion/);
    await expect(rollout.log().then((log) => rollback(back, log))).rejects.toThrow(/already rolled back/);
    expect((await rollout.read())?.revision).toBe(2);
  });
});
