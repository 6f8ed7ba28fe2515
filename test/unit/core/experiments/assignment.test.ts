// Sticky A/B assignment by salted hash: deterministic, weight-proportional, and a weight
// change moves only the customers between the old and the new weight, in one direction.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, variantMoved, variantOf } from '../../../../src/core/experiments/assignment.js';

const ids = Array.from({ length: 10_000 }, (_, i) => `C${String(i).padStart(6, '0')}`);
const experiment = (challengerWeight: number, salt = 'salt-1') => ({ name: 'exp', salt, challengerWeight });

/** Pearson's chi-square statistic of observed counts against expected shares. */
const chiSquare = (observed: number[], shares: number[]) => {
  const n = observed.reduce((s, v) => s + v, 0);
  return observed.reduce((s, o, i) => s + (o - n * (shares[i] ?? 0)) ** 2 / (n * (shares[i] ?? 0)), 0);
};
// 99.9% quantile of chi-square with 1 degree of freedom.
const CHI2_1_999 = 10.828;

describe('variant assignment', () => {
  it('is a function of salt and id only (same in every process, after restarts)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ minLength: 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (salt, id, w) => {
          const a = variantOf(experiment(w, salt), id);
          expect(variantOf(experiment(w, salt), id)).toBe(a);
          const u = bucketOf(salt, id);
          expect(u).toBeGreaterThanOrEqual(0);
          expect(u).toBeLessThan(1);
        },
      ),
    );
  });

  it.each([0.1, 0.3, 0.5])('gives the challenger its weight %s of 10,000 customers (chi-square)', (w) => {
    const challenger = ids.filter((id) => variantOf(experiment(w), id) === 'challenger').length;
    expect(chiSquare([challenger, ids.length - challenger], [w, 1 - w])).toBeLessThan(CHI2_1_999);
  });

  it('another salt is another assignment (about half the customers change at 50%)', () => {
    const changed = ids.filter((id) => variantOf(experiment(0.5), id) !== variantOf(experiment(0.5, 'salt-2'), id));
    expect(chiSquare([changed.length, ids.length - changed.length], [0.5, 0.5])).toBeLessThan(CHI2_1_999);
  });

  it('a weight change moves only the customers between the two weights, all one way', () => {
    const before = experiment(0.1);
    const after = experiment(0.25);
    const moved = ids.filter((id) => variantMoved(before, after, id));
    for (const id of moved) {
      expect(variantOf(before, id)).toBe('champion');
      expect(variantOf(after, id)).toBe('challenger');
    }
    expect(chiSquare([moved.length, ids.length - moved.length], [0.15, 0.85])).toBeLessThan(CHI2_1_999);
    // Lowering it again moves the same customers back.
    expect(ids.filter((id) => variantMoved(after, before, id))).toEqual(moved);
  });

  it('is weight-monotone for any salt, id and two weights: raising the weight only moves champion to challenger', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ minLength: 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (salt, id, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const before = variantOf(experiment(low, salt), id);
          const after = variantOf(experiment(high, salt), id);
          if (before === 'challenger') expect(after).toBe('challenger');
          // Moved exactly when the customer's position lies between the two weights.
          const u = bucketOf(salt, id);
          expect(variantMoved(experiment(low, salt), experiment(high, salt), id)).toBe(
            low > 0 ? u >= low && u < high : u < high,
          );
        },
      ),
    );
  });

  it('without an experiment, or at weight 0, the champion decides everyone', () => {
    expect(ids.every((id) => variantOf(null, id) === 'champion' && variantOf(experiment(0), id) === 'champion')).toBe(
      true,
    );
    expect(ids.every((id) => variantOf(experiment(1), id) === 'challenger')).toBe(true);
  });
});
