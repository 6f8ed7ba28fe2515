// The rollout's transitions (pure): promote swaps champion and challenger at weight 0,
// rollback undoes the latest promotion once (a second one is refused, never a silent
// repeat), weight and challenger changes check their inputs; each is a new revision.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  promote,
  type Rollout,
  type RolloutAction,
  type RolloutLogEntry,
  RolloutRefused,
  rollback,
  sameModels,
  withCalibration,
  withChallenger,
  withWeight,
} from '../../../../src/core/experiments/rollout.js';

const start: Rollout = {
  revision: 4,
  champion: { churn: 'v1', ltv: 'l1' },
  challenger: { churn: 'v2', ltv: null },
  weight: 0.3,
};

/** Applies the transitions in order, keeping the log newest first as the store does. */
function run(first: Rollout, steps: readonly [RolloutAction, (r: Rollout, log: RolloutLogEntry[]) => Rollout][]) {
  const log: RolloutLogEntry[] = [];
  let current = first;
  for (const [action, step] of steps) {
    const next = step(current, log);
    log.unshift({
      revision: next.revision,
      at: '2026-01-01T00:00:00Z',
      by: 'ops',
      action,
      why: 't',
      before: current,
      after: next,
    });
    current = next;
  }
  return { current, log };
}

describe('rollout transitions', () => {
  it('promote: the challenger becomes champion, the champion stays in shadow at weight 0', () => {
    expect(promote(start)).toEqual({
      revision: 5,
      // A kind the challenger does not name stays the champion's.
      champion: { churn: 'v2', ltv: 'l1' },
      // The side both share is the champion's (null), so the shadow is never a model against itself.
      challenger: { churn: 'v1', ltv: null },
      weight: 0,
    });
    expect(() => promote({ ...start, challenger: null })).toThrow(RolloutRefused);
  });

  it('promote of an LTV-only challenger leaves an LTV-only challenger: the old LTV model, in shadow', () => {
    const ltvOnly: Rollout = { ...start, challenger: { churn: null, ltv: 'l2' }, weight: 0.5 };
    const promoted = promote(ltvOnly);
    expect(promoted).toMatchObject({
      champion: { churn: 'v1', ltv: 'l2' },
      challenger: { churn: null, ltv: 'l1' },
      weight: 0,
    });
    // Promoted back: where it started, the weight excepted.
    expect(promote(promoted)).toMatchObject({ champion: ltvOnly.champion, challenger: ltvOnly.challenger });
  });

  it('rollback restores the rollout before the latest promotion, as a new revision', () => {
    const { current } = run(start, [
      ['promote', (r) => promote(r)],
      ['weight', (r) => withWeight(r, 0.5)],
      ['rollback', (r, log) => rollback(r, log)],
    ]);
    expect(current).toEqual({ ...start, revision: 7 });
  });

  it('a second rollback is refused with the reason, not a silent repeat of the first', () => {
    const { current, log } = run(start, [
      ['promote', (r) => promote(r)],
      ['rollback', (r, l) => rollback(r, l)],
    ]);
    expect(() => rollback(current, log)).toThrow(/already rolled back \(revision 6, by ops\)/);
    // Also after other changes since: the promotion it would undo is still the undone one.
    const later = withWeight(current, 0.1);
    expect(() => rollback(later, log)).toThrow(RolloutRefused);
    // A new promotion can be rolled back again.
    const again = run(current, [['promote', (r) => promote(r)]]);
    expect(rollback(again.current, [...again.log, ...log]).champion).toEqual(start.champion);
  });

  it('recalibrations belong to versions: promote and rollback keep the ones in force', () => {
    const calibration = {
      a: 0.9,
      b: -0.3,
      revision: 1,
      fittedOn: { version: 'v2', labels: 500, churned: 100, positives: [], negatives: [] },
      heldOut: { before: 0.1, after: 0.02, folds: 5 },
    };
    const { current, log } = run(start, [
      ['promote', (r) => promote(r)],
      ['recalibrate', (r) => withCalibration(r, 'v2', calibration)],
    ]);
    expect(current.calibrations).toEqual({ v2: calibration });
    const back = rollback(current, log);
    expect(back).toEqual({ ...start, revision: 7, calibrations: { v2: calibration } });
    expect(promote(back).calibrations).toEqual({ v2: calibration });
    expect(withCalibration(back, 'v2', null).calibrations).toEqual({});
    expect(sameModels(back, withCalibration(back, 'v2', null))).toBe(false);
  });

  it('rollback without any promotion in the log is refused', () => {
    expect(() => rollback(start, [])).toThrow(/no promotion/);
  });

  it('weight: between 0 and 1, and only with a challenger to give customers to', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: false }), (w) => {
        if (w >= 0 && w <= 1) expect(withWeight(start, w)).toEqual({ ...start, revision: 5, weight: w });
        else expect(() => withWeight(start, w)).toThrow(RolloutRefused);
      }),
    );
    expect(() => withWeight({ ...start, challenger: null, weight: 0 }, 0.2)).toThrow(/no challenger/);
    expect(withWeight({ ...start, challenger: null, weight: 0 }, 0).weight).toBe(0);
  });

  it('challenger: a new one starts in shadow (weight 0; it decided nobody yet), none too; sameModels tells a weight change apart', () => {
    expect(start.weight).toBeGreaterThan(0);
    const other = withChallenger(start, { churn: 'v3', ltv: null });
    expect(other).toEqual({ ...start, revision: 5, challenger: { churn: 'v3', ltv: null }, weight: 0 });
    expect(sameModels(start, other)).toBe(false);
    const none = withChallenger(start, null);
    expect(none).toMatchObject({ challenger: null, weight: 0 });
    expect(sameModels(start, none)).toBe(false);
    expect(sameModels(start, withWeight(start, 0.9))).toBe(true);
  });
});
