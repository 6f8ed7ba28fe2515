// The LTV side of `models compare`: shown only when the challenger brings its own LTV version;
// each version's figures are those of core/monitoring/ltv-calibration.ts on its own labels, and
// the top-decile lift says whether the highest predictions find the highest spenders.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareLtv,
  formatLtvComparison,
  ltvSummary,
  ltvVersions,
} from '../../../../src/app/commands/models-compare-ltv.js';
import type { Rollout } from '../../../../src/core/experiments/rollout.js';
import {
  intervalCoverage,
  type LtvPair,
  realisedToPredicted,
} from '../../../../src/core/monitoring/ltv-calibration.js';

const rollout = (challenger: Rollout['challenger']): Rollout => ({
  revision: 1,
  champion: { churn: 'v1', ltv: 'l1' },
  challenger,
  weight: 0,
});

const pair = fc.record({
  predicted: fc.double({ min: 0, max: 5000, noNaN: true }),
  realised: fc.double({ min: 0, max: 5000, noNaN: true }),
  low: fc.double({ min: 0, max: 100, noNaN: true }),
  high: fc.double({ min: 100, max: 6000, noNaN: true }),
});

describe('models compare, LTV side', () => {
  it('compares LTV only when the challenger has an LTV version other than the champion', () => {
    expect(ltvVersions(rollout(null))).toBeNull();
    expect(ltvVersions(rollout({ churn: 'v2', ltv: null }))).toBeNull();
    expect(ltvVersions(rollout({ churn: 'v2', ltv: 'l1' }))).toBeNull();
    expect(ltvVersions(rollout({ churn: 'v2', ltv: 'l2' }))).toEqual({ champion: 'l1', challenger: 'l2' });
    expect(ltvVersions(rollout({ churn: null, ltv: 'l2' }))).toEqual({ champion: 'l1', challenger: 'l2' });
  });

  it('summarises each version on its own labels', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pair, { maxLength: 60 }), fc.array(pair, { maxLength: 60 }), async (a, b) => {
        const labels: Record<string, LtvPair[]> = { l1: a, l2: b };
        const c = await compareLtv({ ltvLabels: async (v) => labels[v] ?? [] }, 'l1', 'l2');
        for (const [s, own] of [
          [c.champion, a],
          [c.challenger, b],
        ] as const) {
          expect(s.labels).toBe(own.length);
          expect(Object.is(s.realisedToPredicted, realisedToPredicted(own))).toBe(true);
          expect(Object.is(s.intervalCoverage, intervalCoverage(own))).toBe(true);
        }
        const lines = formatLtvComparison(c);
        expect(lines).toHaveLength(3);
        expect(lines[1]).toMatch(/^champion\s+l1\s+\d+/);
        expect(lines[2]).toMatch(/^challenger\s+l2\s+\d+/);
      }),
    );
  });

  it('top-decile lift: above 1 when predictions rank the spend, about 1 when they do not, NaN under ten labels', () => {
    const ranked = Array.from({ length: 200 }, (_, i) => ({ predicted: i, realised: i * 2, low: 0, high: 1e9 }));
    expect(ltvSummary('l', ranked).topDecileLift).toBeCloseTo(379 / 199, 12);
    const blind = ranked.map((p) => ({ ...p, realised: 100 }));
    expect(ltvSummary('l', blind).topDecileLift).toBeCloseTo(1, 12);
    expect(ltvSummary('l', ranked.slice(0, 9)).topDecileLift).toBeNaN();
    expect(ltvSummary('l', []).labels).toBe(0);
  });
});
