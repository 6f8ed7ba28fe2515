// `models compare` with versions named on the command line: the same version twice, a version
// the models directory does not hold, or one without a single resolved label is one line and
// exit 2 (an empty comparison read like "not enough labels yet"). A recalibrated version in
// force (v1+cal1) starts without labels of its own and is compared on its pairs before.
import { describe, expect, it } from 'vitest';
import { compareModels } from '../../../../src/app/commands/models-compare.js';
import { checkLabels, checkNamed } from '../../../../src/app/commands/models-compare-command.js';
import type { Rollout } from '../../../../src/core/experiments/rollout.js';
import { addLabel, emptyLabelStats, type LabelStats } from '../../../../src/core/monitoring/calibration.js';
import type { StreamCalibration } from '../../../../src/core/monitoring/recalibration.js';
import { CallLog, FakeComparisonStore } from '../../../helpers/fakes.js';

const dir = new URL('../../../fixtures/models/', import.meta.url).pathname;
const calibration: StreamCalibration = {
  a: 1,
  b: -1,
  revision: 1,
  fittedOn: { version: 't1', labels: 400, churned: 100, positives: [], negatives: [] },
  heldOut: { before: 0.2, after: 0.04, folds: 5 },
};
const rollout: Rollout = {
  revision: 3,
  champion: { churn: 't1', ltv: 't1' },
  challenger: { churn: 't2', ltv: null },
  weight: 0,
  calibrations: { t1: calibration },
};

function report(labelled: Record<string, number>, champion: string, challenger: string) {
  const stats: Record<string, LabelStats> = {};
  for (const [version, n] of Object.entries(labelled)) {
    const s = emptyLabelStats();
    for (let i = 0; i < n; i += 1) addLabel(s, (i % 10) / 10, i % 3 === 0);
    stats[version] = s;
  }
  const health = {
    labelStats: async (v: string) => stats[v] ?? emptyLabelStats(),
    ltvLabels: async () => [],
    addLabels: async () => undefined,
    addLtvLabels: async () => undefined,
  };
  return compareModels({ health, comparisons: new FakeComparisonStore(new CallLog()) }, champion, challenger);
}

describe('models compare --champion/--challenger', () => {
  it('refuses the same version twice, and a version the models directory lacks', () => {
    expect(() => checkNamed({ champion: 't1', challenger: 't1', json: false }, 't1', 't1', dir)).toThrow(
      /^compare: champion and challenger are the same version \(t1\)$/,
    );
    expect(() => checkNamed({ champion: 'v999', challenger: 't2', json: false }, 'v999', 't2', dir)).toThrow(
      /^compare: --champion v999: no such churn version in .* \(there: bad-features, t1, t2\)$/,
    );
    expect(() => checkNamed({ challenger: '../churn/t2', json: false }, 't1', '../churn/t2', dir)).toThrow(
      /^compare: --challenger \.\.\/churn\/t2: no such churn version/,
    );
    expect(() => checkNamed({ champion: 't1+cal1', challenger: 't1', json: false }, 't1+cal1', 't1', dir)).toThrow(
      /^compare: t1\+cal1 and t1 are one model \(a recalibration keeps its ranking\)/,
    );
    // A served recalibration is its artifact's version.
    expect(() =>
      checkNamed({ champion: 't1+cal1', challenger: 't2', json: false }, 't1+cal1', 't2', dir),
    ).not.toThrow();
  });

  it('refuses a named version without labels, unless it is a recalibration in force', async () => {
    const options = { champion: 't1', challenger: 't2', json: false };
    expect(checkLabels(options, await report({ t1: 300, t2: 300 }, 't1', 't2'), rollout)).toBeUndefined();
    const none = await report({ t1: 300 }, 't1', 't2');
    expect(() => checkLabels(options, none, rollout)).toThrow(/^compare: --challenger t2 has no resolved labels/);
    // From the rollout, not named: the comparison is printed (a new challenger has none yet).
    expect(checkLabels({ json: false }, none, rollout)).toBeUndefined();
    const recalibrated = await report({ t2: 300 }, 't1+cal1', 't2');
    expect(checkLabels({ ...options, champion: 't1+cal1' }, recalibrated, rollout)).toBeUndefined();
    // A recalibration never served reads as a name that does not exist, not as "wait for labels".
    expect(() => checkLabels({ ...options, champion: 't1+cal7' }, recalibrated, rollout)).toThrow(
      /^compare: --champion t1\+cal7: no recalibration of that name is served or has a resolved label/,
    );
  });
});
