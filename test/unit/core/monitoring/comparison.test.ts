// DeLong's paired comparison on the joint histogram equals DeLong computed directly on the
// labelled pairs of binned scores (the O(n·m) definition), the verdicts follow the interval,
// and labels repeated by the same customers add no evidence (the design effect).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addPair,
  bothRoles,
  compareAuc,
  emptyPairStats,
  judge,
  pairBin,
} from '../../../../src/core/monitoring/comparison.js';

interface Row {
  readonly a: number;
  readonly b: number;
  readonly churned: boolean;
}

/** DeLong et al. (1988) for two correlated AUCs, straight from the definition. */
function direct(rows: readonly Row[]) {
  const score = (r: Row) => [pairBin(r.a), pairBin(r.b)] as const;
  const pos = rows.filter((r) => r.churned).map(score);
  const neg = rows.filter((r) => !r.churned).map(score);
  const psi = (x: number, y: number) => (x > y ? 1 : x === y ? 0.5 : 0);
  const v10 = pos.map((p) =>
    [0, 1].map((k) => neg.reduce((s, n) => s + psi(p[k] as number, n[k] as number), 0) / neg.length),
  );
  const v01 = neg.map((n) =>
    [0, 1].map((k) => pos.reduce((s, p) => s + psi(p[k] as number, n[k] as number), 0) / pos.length),
  );
  const mean = (xs: number[][], k: number) => xs.reduce((s, x) => s + (x[k] as number), 0) / xs.length;
  const championAuc = mean(v10, 0);
  const challengerAuc = mean(v10, 1);
  const auc = [championAuc, challengerAuc];
  const cov = (xs: number[][], i: number, j: number) =>
    xs.reduce((s, x) => s + ((x[i] as number) - (auc[i] as number)) * ((x[j] as number) - (auc[j] as number)), 0) /
    (xs.length - 1);
  const variance =
    (cov(v10, 0, 0) + cov(v10, 1, 1) - 2 * cov(v10, 0, 1)) / pos.length +
    (cov(v01, 0, 0) + cov(v01, 1, 1) - 2 * cov(v01, 0, 1)) / neg.length;
  return {
    championAuc,
    challengerAuc,
    difference: challengerAuc - championAuc,
    se: Math.sqrt(Math.max(0, variance)),
  };
}

const probability = fc.double({ min: 0, max: 1, noNaN: true });
const rows = fc.array(fc.record({ a: probability, b: probability, churned: fc.boolean() }), { maxLength: 200 });

const statsOf = (rs: readonly Row[]) => {
  const stats = emptyPairStats();
  for (const r of rs) addPair(stats, r.a, r.b, r.churned);
  return stats;
};

describe('paired AUC comparison from the joint histogram', () => {
  it('equals DeLong computed directly on the pairs', () => {
    fc.assert(
      fc.property(rows, (rs) => {
        const m = rs.filter((r) => r.churned).length;
        const n = rs.length - m;
        fc.pre(m >= 2 && n >= 2);
        const got = compareAuc(statsOf(rs));
        const want = direct(rs);
        expect(got.positives).toBe(m);
        expect(got.negatives).toBe(n);
        expect(got.championAuc).toBeCloseTo(want.championAuc, 12);
        expect(got.challengerAuc).toBeCloseTo(want.challengerAuc, 12);
        expect(got.difference).toBeCloseTo(want.difference, 12);
        expect(got.standardError).toBeCloseTo(want.se, 12);
        expect(got.low).toBeLessThanOrEqual(got.difference);
        expect(got.high).toBeGreaterThanOrEqual(got.difference);
        // A difference of AUCs: the interval never leaves [-1, 1].
        expect(got.low).toBeGreaterThanOrEqual(-1);
        expect(got.high).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('with labels of one class only, does not guess how many more are needed', () => {
    fc.assert(
      fc.property(rows, fc.boolean(), (rs, churned) => {
        fc.pre(rs.length > 0);
        const judged = judge(compareAuc(statsOf(rs.map((r) => ({ ...r, churned })))));
        expect(judged).toEqual({ verdict: 'insufficient', moreLabels: null });
      }),
    );
    // With none at all, the 50 per class at even rates.
    expect(judge(compareAuc(statsOf([]))).moreLabels).toBe(100);
  });

  it('gives the AUCs from one label of each class (as each version alone does), the interval from two', () => {
    const one = compareAuc(
      statsOf([
        { a: 0.1, b: 0.2, churned: true },
        { a: 0.3, b: 0.1, churned: false },
      ]),
    );
    expect([one.championAuc, one.challengerAuc, one.difference]).toEqual([0, 1, 1]);
    expect([one.standardError, one.low, one.high].every(Number.isNaN)).toBe(true);
    expect(judge(one).verdict).toBe('insufficient');
    const none = compareAuc(statsOf([{ a: 0.1, b: 0.2, churned: true }]));
    expect([none.championAuc, none.challengerAuc, none.difference].every(Number.isNaN)).toBe(true);
  });

  it('finds the better model when one ranks clearly better, and says equivalent for the same scores', () => {
    // Deterministic population: the champion's score follows the label, the challenger's is noise.
    const population: Row[] = [];
    for (let i = 0; i < 4000; i += 1) {
      const churned = i % 3 === 0;
      const signal = ((i * 7919) % 1000) / 1000;
      population.push({ a: churned ? 0.3 + 0.7 * signal : 0.7 * signal, b: ((i * 104729) % 997) / 997, churned });
    }
    const c = compareAuc(statsOf(population));
    expect(c.difference).toBeLessThan(-0.2);
    expect(judge(c)).toEqual({ verdict: 'champion_better', moreLabels: null });
    const swapped = compareAuc(statsOf(population.map((r) => ({ ...r, a: r.b, b: r.a }))));
    expect(judge(swapped).verdict).toBe('challenger_better');
    const same = compareAuc(statsOf(population.map((r) => ({ ...r, b: r.a }))));
    expect(same.standardError).toBe(0);
    expect(judge(same).verdict).toBe('equivalent');
  });

  it('asks for more labels while the interval straddles 0 and is wider than the margin', () => {
    const population: Row[] = [];
    for (let i = 0; i < 300; i += 1) {
      const churned = i % 2 === 0;
      population.push({ a: ((i * 37) % 101) / 101, b: ((i * 53) % 103) / 103, churned });
    }
    const c = compareAuc(statsOf(population));
    expect(c.low).toBeLessThan(0);
    expect(c.high).toBeGreaterThan(0);
    const { verdict, moreLabels } = judge(c);
    expect(verdict).toBe('insufficient');
    expect(moreLabels).toBeGreaterThan(0);
  });

  it("gains nothing from the same customers' labels repeated: the interval stays the customers' own", () => {
    const repeats = fc.integer({ min: 2, max: 20 });
    fc.assert(
      fc.property(rows, repeats, (rs, k) => {
        const m = rs.filter((r) => r.churned).length;
        const n = rs.length - m;
        fc.pre(m >= 2 && n >= 2);
        const once = compareAuc(statsOf(rs));
        const repeated = statsOf(rs.flatMap((r) => new Array<Row>(k).fill(r)));
        // Not counted (labels from before the customers were): DeLong as it was, k times too sure.
        const uncounted = compareAuc(repeated);
        expect(uncounted.designEffect).toBe(1);
        const counted = compareAuc({ ...repeated, customers: rs.length });
        expect(counted.designEffect).toBeCloseTo(k, 12);
        expect(counted.difference).toBeCloseTo(once.difference, 12);
        // Widened by k: the customers' own interval, up to the (m-1)/m of the sample variances.
        expect(counted.standardError).toBeLessThanOrEqual(once.standardError * (1 + 1e-9));
        expect(counted.standardError).toBeGreaterThanOrEqual(
          once.standardError * Math.sqrt(Math.min((m - 1) / m, (n - 1) / n)) * (1 - 1e-9),
        );
        expect(uncounted.standardError).toBeLessThanOrEqual(counted.standardError / Math.sqrt(k) + 1e-12);
        // An estimate above the labels (HyperLogLog error) never narrows the interval.
        expect(compareAuc({ ...statsOf(rs), customers: rs.length + 3 }).standardError).toBe(once.standardError);
      }),
      { numRuns: 300 },
    );
  });

  it("turns a verdict a few customers' repeated labels made back into 'insufficient'", () => {
    const population: Row[] = [];
    for (let i = 0; i < 4000; i += 1) {
      const churned = i % 3 === 0;
      const signal = ((i * 7919) % 1000) / 1000;
      population.push({ a: churned ? 0.3 + 0.7 * signal : 0.7 * signal, b: ((i * 104729) % 997) / 997, churned });
    }
    const few = population.slice(0, 30);
    const repeated = statsOf(few.flatMap((r) => new Array<Row>(200).fill(r)));
    expect(judge(compareAuc(repeated)).verdict).not.toBe('insufficient');
    expect(judge(compareAuc({ ...repeated, customers: 30 })).verdict).toBe('insufficient');
  });
});

describe('a pair of versions across a promotion', () => {
  it('reads the labels of both roles as one, oriented as asked: the difference flips sign with the roles', () => {
    fc.assert(
      fc.property(rows, fc.array(fc.boolean(), { maxLength: 200 }), (rs, promoted) => {
        // Each label was resolved with a (model A) as champion, or after a promotion with b as champion.
        const before = rs.filter((_, i) => !promoted[i]);
        const after = rs.filter((_, i) => promoted[i] === true);
        const abRows = statsOf(before);
        const baRows = statsOf(after.map((r) => ({ a: r.b, b: r.a, churned: r.churned })));
        const asA = bothRoles(abRows, baRows);
        const asB = bothRoles(baRows, abRows);
        const all = statsOf(rs);
        expect(asA.positives).toEqual(all.positives);
        expect(asA.negatives).toEqual(all.negatives);
        const m = rs.filter((r) => r.churned).length;
        fc.pre(m >= 2 && rs.length - m >= 2);
        const [x, y] = [compareAuc(asA), compareAuc(asB)];
        expect(y.difference).toBeCloseTo(-x.difference, 12);
        expect(y.standardError).toBeCloseTo(x.standardError, 12);
        // The same sums in another order: equal to the last bits of a double, as the difference above.
        expect(y.championAuc).toBeCloseTo(x.challengerAuc, 12);
        expect(y.challengerAuc).toBeCloseTo(x.championAuc, 12);
      }),
    );
  });
});
