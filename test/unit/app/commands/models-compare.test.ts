// `models compare` with a recalibrated version: the paired comparison uses the pairs scored
// before the recalibration (which keeps each version's ranking) while they outnumber the
// recalibrated pair's, and says so; the recalibration and the top-decile lift are shown.
import { describe, expect, it } from 'vitest';
import { compareModels, formatComparison } from '../../../../src/app/commands/models-compare.js';
import { addLabel, emptyLabelStats, type LabelStats } from '../../../../src/core/monitoring/calibration.js';
import type { ResolvedPair } from '../../../../src/core/monitoring/comparison.js';
import type { StreamCalibration } from '../../../../src/core/monitoring/recalibration.js';
import { CallLog, FakeComparisonStore } from '../../../helpers/fakes.js';

const calibration: StreamCalibration = {
  a: 1,
  b: -1,
  revision: 1,
  fittedOn: { version: 'v1', labels: 400, churned: 100, positives: [], negatives: [] },
  heldOut: { before: 0.2, after: 0.04, folds: 5 },
};

/** n pairs where the champion ranks churners higher than the challenger does. */
const pairs = (champion: string, challenger: string, n: number): ResolvedPair[] =>
  Array.from({ length: n }, (_, i) => {
    const churned = i % 4 === 0;
    const noise = ((i * 37) % 100) / 100;
    return {
      customerId: `c${i}`,
      champion,
      challenger,
      championRank: churned ? 0.5 + noise / 2 : noise / 2 + 0.1,
      challengerRank: noise,
      churned,
    };
  });

function setUp(recalibratedPairs: number) {
  const comparisons = new FakeComparisonStore(new CallLog());
  void comparisons.addPairs([...pairs('v1', 'v2', 400), ...pairs('v1+cal1', 'v2', recalibratedPairs)]);
  const stats: Record<string, LabelStats> = { v2: emptyLabelStats(), 'v1+cal1': emptyLabelStats() };
  for (const p of pairs('v1', 'v2', 400)) addLabel(stats['v2'] as LabelStats, p.challengerRank, p.churned);
  const health = {
    labelStats: async (v: string) => stats[v] ?? emptyLabelStats(),
    ltvLabels: async () => [],
    addLabels: async () => undefined,
    addLtvLabels: async () => undefined,
  };
  const recalibrations = new Map([['v1+cal1', { base: 'v1', calibration }]]);
  return compareModels({ health, comparisons }, 'v1+cal1', 'v2', recalibrations);
}

describe('models compare with a recalibrated champion', () => {
  it('compares on the pairs before the recalibration while they are more, and says so', async () => {
    const report = await setUp(10);
    expect(report.pairedOn).toEqual({ champion: 'v1', challenger: 'v2' });
    expect(report.paired.positives + report.paired.negatives).toBe(400);
    expect(report.verdict).toBe('champion_better');
    const text = formatComparison(report).join('\n');
    expect(text).toContain('paired labels of v1 vs v2, before recalibration');
    expect(text).toContain('v1+cal1: recalibrated (revision 1) on 400 labels of v1');
    expect(text).toContain('0.2000 -> 0.0400');
    expect(report.challenger.topDecileLift).toBeGreaterThan(0);
  });

  it('uses the recalibrated pair once it has more labels', async () => {
    const report = await setUp(500);
    expect(report.pairedOn).toEqual({ champion: 'v1+cal1', challenger: 'v2' });
    expect(formatComparison(report).join('\n')).not.toContain('before recalibration');
  });
});
