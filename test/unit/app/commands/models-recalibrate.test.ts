// `models recalibrate` on label statistics from a fake store: a miscalibrated version gets a
// map (revision 1) fitted on its labels; a refit reads the recalibrated version's labels and
// composes; too few labels or --dry-run change nothing (--remove --dry-run neither); --remove
// drops it; --churn-version (not --version: the program's own) names the version.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { recalibrate, usedRevision } from '../../../../src/app/commands/models-recalibrate.js';
import type { Rollout } from '../../../../src/core/experiments/rollout.js';
import { addLabel, emptyLabelStats, type LabelStats } from '../../../../src/core/monitoring/calibration.js';
import { applyPlatt } from '../../../../src/core/monitoring/recalibration.js';

const rollout: Rollout = { revision: 3, champion: { churn: 'v1', ltv: null }, challenger: null, weight: 0 };
const options = { folds: 5, seed: 1, dryRun: false, remove: false, json: false };

/** n labels whose true churn probability is the score shifted up on the logit (by `shift`). */
function labels(n: number, shift: number): LabelStats {
  const stats = emptyLabelStats();
  for (let i = 0; i < n; i += 1) {
    const p = (i % 97) / 97 + 0.004;
    const truth = 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + shift)));
    // Deterministic outcomes at the true rate: every k-th of a score's labels churns.
    addLabel(stats, p, (i * 0.618033988749) % 1 < truth);
  }
  return stats;
}

const store = (byVersion: Record<string, LabelStats>) => {
  const asked: string[] = [];
  return {
    asked,
    health: {
      labelStats: async (version: string) => {
        asked.push(version);
        return byVersion[version] ?? emptyLabelStats();
      },
    },
  };
};

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('models recalibrate', () => {
  it('fits a miscalibrated champion and puts revision 1 in the rollout, with the counts it was fitted on', async () => {
    const stats = labels(5_000, 1.2);
    const next = await recalibrate(options, store({ v1: stats }), rollout);
    const calibration = next?.calibrations?.['v1'];
    expect(next?.revision).toBe(4);
    expect(calibration).toMatchObject({ revision: 1, fittedOn: { version: 'v1', labels: 5_000 } });
    expect(calibration?.fittedOn.positives).toEqual(stats.positives);
    expect(calibration?.heldOut.after).toBeLessThan(calibration?.heldOut.before as number);
    // Shifted up by 1.2 on the logit: the map moves probabilities up.
    expect(applyPlatt(calibration ?? { a: 1, b: 0 }, 0.3)).toBeGreaterThan(0.4);
  });

  it('a refit reads the recalibrated version’s labels and composes with the map in force', async () => {
    const first = await recalibrate(options, store({ v1: labels(5_000, 1.2) }), rollout);
    if (first === null) throw new Error('first fit applied');
    const fake = store({ 'v1+cal1': labels(5_000, -0.6) });
    const second = await recalibrate(options, fake, first);
    expect(fake.asked).toEqual(['v1+cal1']);
    expect(second?.calibrations?.['v1']).toMatchObject({ revision: 2, fittedOn: { version: 'v1+cal1' } });
  });

  it('too few labels, a calibrated version, or --dry-run: nothing changes', async () => {
    expect(await recalibrate(options, store({ v1: labels(150, 1.2) }), rollout)).toBeNull();
    const printed = vi.mocked(console.log);
    printed.mockClear();
    expect(await recalibrate({ ...options, dryRun: true }, store({ v1: labels(5_000, 1.2) }), rollout)).toBeNull();
    // The dry run says what it would do, not "applied".
    const verdict = printed.mock.calls.flat().join('\n');
    expect(verdict).toMatch(/verdict: .*would be applied \(--dry-run: nothing changed\)/);
    expect(verdict).not.toMatch(/: applied/);
    expect(await recalibrate(options, store({ v1: labels(20_000, 0) }), rollout)).toBeNull();
  });

  it('--remove serves the version as shipped again; refused when there is nothing to remove', async () => {
    const first = await recalibrate(options, store({ v1: labels(5_000, 1.2) }), rollout);
    if (first === null) throw new Error('first fit applied');
    const removed = await recalibrate({ ...options, remove: true }, store({}), first);
    expect(removed?.calibrations).toEqual({});
    await expect(recalibrate({ ...options, remove: true }, store({}), rollout)).rejects.toThrow(/not recalibrated/);
  });

  it('after a --remove, the next fit gets a revision never used before (its labels are counted apart)', async () => {
    const first = await recalibrate(options, store({ v1: labels(5_000, 1.2) }), rollout);
    if (first === null) throw new Error('first fit applied');
    const removed = await recalibrate({ ...options, remove: true }, store({}), first);
    if (removed === null) throw new Error('removed');
    const entry = (before: Rollout, after: Rollout) => ({
      revision: after.revision,
      at: '2026-12-01T00:00:00Z',
      by: 't',
      action: 'recalibrate' as const,
      why: 't',
      before,
      after,
    });
    const log = [entry(removed, removed), entry(first, removed), entry(rollout, first)];
    expect(usedRevision(log, 'v1')).toBe(1);
    expect(usedRevision(log, 'v2')).toBe(0);
    const again = await recalibrate(options, store({ v1: labels(5_000, 1.2) }), removed, usedRevision(log, 'v1'));
    expect(again?.calibrations?.['v1']?.revision).toBe(2);
  });

  it('--remove --dry-run says what it would remove and changes nothing', async () => {
    const first = await recalibrate(options, store({ v1: labels(5_000, 1.2) }), rollout);
    if (first === null) throw new Error('first fit applied');
    expect(await recalibrate({ ...options, remove: true, dryRun: true }, store({}), first)).toBeNull();
  });

  it('--churn-version names another version than the champion', async () => {
    const fake = store({ v2: labels(5_000, 1.2) });
    const next = await recalibrate({ ...options, churnVersion: 'v2' }, fake, rollout);
    expect(fake.asked).toEqual(['v2']);
    expect(Object.keys(next?.calibrations ?? {})).toEqual(['v2']);
  });
});
