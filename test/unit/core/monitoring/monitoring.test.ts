import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addLabel,
  brierScore,
  emptyLabelStats,
  expectedCalibrationError,
  histogramAuc,
  labelStatsByVersion,
  reliability,
} from '../../../../src/core/monitoring/calibration.js';
import { DriftMonitor } from '../../../../src/core/monitoring/drift.js';
import { intervalCoverage, ltvDeciles, realisedToPredicted } from '../../../../src/core/monitoring/ltv-calibration.js';
import { binOf, histogram, psi } from '../../../../src/core/monitoring/psi.js';

const exactAuc = (scores: number[], labels: boolean[]) => {
  let wins = 0;
  let pairs = 0;
  scores.forEach((s, i) => {
    if (!labels[i]) return;
    scores.forEach((t, j) => {
      if (labels[j]) return;
      pairs += 1;
      wins += s > t ? 1 : s === t ? 0.5 : 0;
    });
  });
  return wins / pairs;
};

describe('PSI', () => {
  const reference = { edges: [1, 2, 3], shares: [0.25, 0.25, 0.25, 0.15], missing_share: 0.1 };

  it('bins with (lo, hi] edges and a missing bin', () => {
    expect([0.5, 1, 1.5, 3, 3.5, Number.NaN].map((v) => binOf(reference.edges, v))).toEqual([0, 0, 1, 2, 3, 4]);
  });

  it('is 0 for the reference itself and grows with the shift', () => {
    expect(psi(reference, [25, 25, 25, 15, 10])).toBeCloseTo(0, 12);
    const small = psi(reference, [30, 25, 20, 15, 10]);
    const large = psi(reference, [5, 10, 20, 55, 10]);
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(0.1);
    expect(large).toBeGreaterThan(0.25);
  });

  it('stays finite for empty bins', () => {
    expect(Number.isFinite(psi(reference, [100, 0, 0, 0, 0]))).toBe(true);
    expect(histogram(reference.edges, [0, 5, Number.NaN])).toEqual([1, 0, 0, 1, 1]);
  });
});

describe('label statistics', () => {
  it('histogram AUC is within the within-bin tie share of the exact AUC', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 0.9999, noNaN: true }), fc.boolean()), {
          minLength: 20,
          maxLength: 300,
        }),
        (rows) => {
          const labels = rows.map(([, y]) => y);
          if (!labels.includes(true) || !labels.includes(false)) return;
          const stats = emptyLabelStats(100);
          for (const [p, y] of rows) addLabel(stats, p, y);
          const exact = exactAuc(
            rows.map(([p]) => p),
            labels,
          );
          // Error bound: pairs sharing a bin, over all pairs.
          const positives = labels.filter(Boolean).length;
          const negatives = labels.length - positives;
          const shared = stats.positives.reduce((s, p, b) => s + p * (stats.negatives[b] ?? 0), 0);
          expect(Math.abs(histogramAuc(stats) - exact)).toBeLessThanOrEqual(
            shared / (2 * positives * negatives) + 1e-12,
          );
        },
      ),
    );
  });

  it('computes ECE, Brier and the reliability table by hand, from labels summed per model version', () => {
    // What a unit adds to the shared statistics: its resolved labels summed per version.
    const byVersion = labelStatsByVersion([
      { modelVersion: 'v1', probability: 0.05, churned: false },
      { modelVersion: 'v2', probability: 0.5, churned: false },
      { modelVersion: 'v1', probability: 0.05, churned: true },
      { modelVersion: 'v1', probability: 0.95, churned: true },
      { modelVersion: 'v1', probability: 0.95, churned: true },
    ]);
    expect([...byVersion.keys()]).toEqual(['v1', 'v2']);
    expect(reliability(byVersion.get('v2') ?? emptyLabelStats())).toEqual([
      { bin: 5, count: 1, meanPredicted: 0.5, observedRate: 0 },
    ]);
    const both = byVersion.get('v1') ?? emptyLabelStats();
    expect(reliability(both)).toEqual([
      { bin: 0, count: 2, meanPredicted: 0.05, observedRate: 0.5 },
      { bin: 9, count: 2, meanPredicted: 0.95, observedRate: 1 },
    ]);
    expect(expectedCalibrationError(both)).toBeCloseTo((2 * 0.45 + 2 * 0.05) / 4, 12);
    expect(brierScore(both)).toBeCloseTo((0.05 ** 2 + 0.95 ** 2 + 2 * 0.05 ** 2) / 4, 12);
    expect(histogramAuc(both)).toBeCloseTo((1 * 0.5 + 2 * 1) / 3, 12);
  });
});

describe('drift monitor', () => {
  const reference = {
    features: { a: { edges: [0.5], shares: [0.5, 0.5], missing_share: 0 } },
    score: { edges: [0.5], shares: [0.5, 0.5], missing_share: 0 },
  };

  it('reports PSI over the sliding window only', () => {
    const monitor = new DriftMonitor(reference, ['a', 'b'], 100);
    for (let i = 0; i < 100; i += 1) monitor.add([i % 2 === 0 ? 0 : 1, 7], i % 2 === 0 ? 0.1 : 0.9);
    expect(monitor.featurePsi()).toEqual([{ feature: 'a', psi: expect.closeTo(0, 12) }]);
    expect(monitor.scorePsi()).toBeCloseTo(0, 12);
    // A shifted population replaces the window: PSI rises past the alert level.
    for (let i = 0; i < 100; i += 1) monitor.add([1], 0.9);
    expect(monitor.size).toBe(100);
    expect(monitor.featurePsi()[0]?.psi).toBeGreaterThan(0.25);
    expect(monitor.scorePsi()).toBeGreaterThan(0.25);
  });
});

describe('LTV health', () => {
  it('cuts predictions into deciles and compares realised with predicted', () => {
    const pairs = Array.from({ length: 100 }, (_, i) => ({ predicted: i, realised: 2 * i, low: i - 10, high: i + 10 }));
    const rows = ltvDeciles([...pairs].reverse());
    expect(rows.map((r) => r.count)).toEqual(new Array(10).fill(10));
    expect(rows[0]).toEqual({ decile: 1, count: 10, predictedMean: 4.5, realisedMean: 9 });
    expect(rows[9]).toEqual({ decile: 10, count: 10, predictedMean: 94.5, realisedMean: 189 });
    expect(realisedToPredicted(pairs)).toBe(2);
    // realised = 2i is inside [i - 10, i + 10] for i <= 10.
    expect(intervalCoverage(pairs)).toBe(11 / 100);
    expect(ltvDeciles(pairs.slice(0, 3)).map((r) => r.decile)).toEqual([4, 7, 10]);
    expect(intervalCoverage([])).toBeNaN();
  });
});
