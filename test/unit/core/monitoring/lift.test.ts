// Top-decile lift from the binned statistics: exact when the cut falls on a bin edge, else
// between the raw labels' lifts with the order inside bins worst and best for the model; 1
// for scores that do not rank, NaN without labels or churners.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addLabel, emptyLabelStats, RANK_BINS } from '../../../../src/core/monitoring/calibration.js';
import { topDecileLift } from '../../../../src/core/monitoring/lift.js';

const bin = (p: number) => Math.min(RANK_BINS - 1, Math.floor(p * RANK_BINS));

/** The lift of raw labels ranked by bin, churners inside a bin last (worst) or first (best). */
function rawLift(labels: readonly { p: number; y: boolean }[], within: 'worst' | 'best' = 'worst'): number {
  const sign = within === 'worst' ? 1 : -1;
  const sorted = [...labels].sort((a, b) => bin(b.p) - bin(a.p) || sign * (Number(a.y) - Number(b.y)));
  const top = sorted.slice(0, labels.length / 10);
  const rate = (xs: readonly { y: boolean }[]) => xs.filter((x) => x.y).length / xs.length;
  return rate(top) / rate(labels);
}

const labelled = fc.array(fc.record({ p: fc.double({ min: 0, max: 0.9999, noNaN: true }), y: fc.boolean() }), {
  minLength: 10,
  maxLength: 400,
});

describe('top-decile lift', () => {
  it('equals the raw lift when the top tenth is exactly the top bin', () => {
    const stats = emptyLabelStats();
    const labels = [
      ...Array.from({ length: 10 }, (_, i) => ({ p: 0.95, y: i < 6 })),
      ...Array.from({ length: 90 }, (_, i) => ({ p: 0.05 + (i % 8) / 10, y: i < 9 })),
    ];
    for (const { p, y } of labels) addLabel(stats, p, y);
    expect(topDecileLift(stats)).toBeCloseTo(rawLift(labels), 12);
    expect(topDecileLift(stats)).toBeCloseTo(0.6 / 0.15, 12);
  });

  it('lies between the raw lifts with the order inside bins worst and best for the model', () => {
    fc.assert(
      fc.property(labelled, (raw) => {
        const labels = raw.slice(0, raw.length - (raw.length % 10));
        if (!labels.some((l) => l.y)) return;
        const stats = emptyLabelStats();
        for (const { p, y } of labels) addLabel(stats, p, y);
        expect(topDecileLift(stats)).toBeGreaterThanOrEqual(rawLift(labels, 'worst') - 1e-9);
        expect(topDecileLift(stats)).toBeLessThanOrEqual(rawLift(labels, 'best') + 1e-9);
      }),
    );
  });

  it('is 1 for a score that does not rank (one bin), NaN without churners', () => {
    const stats = emptyLabelStats();
    for (let i = 0; i < 50; i += 1) addLabel(stats, 0.42, i % 5 === 0);
    expect(topDecileLift(stats)).toBeCloseTo(1, 12);
    const none = emptyLabelStats();
    addLabel(none, 0.3, false);
    expect(topDecileLift(none)).toBeNaN();
    expect(topDecileLift(emptyLabelStats())).toBeNaN();
  });
});
