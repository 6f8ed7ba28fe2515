import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeMemberships } from '../../../../src/core/features/fuzzy.js';

const memberships = (x: number, a: number, b: number, c: number) => {
  const out = new Float64Array(3);
  writeMemberships(x, [a, b, c], out, 0);
  return [...out];
};

describe('fuzzy memberships', () => {
  it('are 1 at their own breakpoint and linear between', () => {
    expect(memberships(0, 10, 20, 40)).toEqual([1, 0, 0]);
    expect(memberships(10, 10, 20, 40)).toEqual([1, 0, 0]);
    expect(memberships(15, 10, 20, 40)).toEqual([0.5, 0.5, 0]);
    expect(memberships(20, 10, 20, 40)).toEqual([0, 1, 0]);
    expect(memberships(35, 10, 20, 40)).toEqual([0, 0.25, 0.75]);
    expect(memberships(40, 10, 20, 40)).toEqual([0, 0, 1]);
    expect(memberships(1e9, 10, 20, 40)).toEqual([0, 0, 1]);
  });

  it('keep missing values missing', () => {
    expect(memberships(Number.NaN, 1, 2, 3).every(Number.isNaN)).toBe(true);
  });

  it('partition unity for any x and ordered breakpoints, including degenerate ones', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (x, points) => {
          const [a, b, c] = [...points].sort((p, q) => p - q) as [number, number, number];
          const [low, medium, high] = memberships(x, a, b, c) as [number, number, number];
          expect(low + medium + high).toBeCloseTo(1, 9);
          for (const m of [low, medium, high]) expect(m >= 0 && m <= 1).toBe(true);
        },
      ),
    );
  });
});
