// The isotonic calibration found by bisection (a recalibrated model's map has hundreds of
// knots) gives exactly what the linear scan over the knots gave, ties and NaN included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrate } from '../../../../src/core/models/artifacts.js';

/** The former linear scan: the first knot at or above p, interpolated; flat beyond the ends. */
function linear(x: readonly number[], y: readonly number[], p: number): number {
  if (p <= (x[0] ?? 0)) return y[0] ?? p;
  for (let i = 1; i < x.length; i += 1) {
    const x1 = x[i] ?? 0;
    if (p <= x1) {
      const x0 = x[i - 1] ?? 0;
      const y0 = y[i - 1] ?? 0;
      const y1 = y[i] ?? 0;
      return x1 === x0 ? y1 : y0 + ((p - x0) / (x1 - x0)) * (y1 - y0);
    }
  }
  return y[y.length - 1] ?? p;
}

describe('isotonic calibration', () => {
  it('bisection equals the linear scan for any knots (repeated x included) and any input', () => {
    const knots = fc
      .array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 1, noNaN: true })), {
        minLength: 2,
        maxLength: 40,
      })
      .map((pairs) => {
        const x = pairs.map(([k]) => k / 20).sort((a, b) => a - b);
        const y = pairs.map(([, v]) => v).sort((a, b) => a - b);
        return { x, y };
      });
    const input = fc.oneof(
      fc.double({ min: -0.5, max: 1.5, noNaN: true }),
      fc.constant(Number.NaN),
      fc.integer({ min: 0, max: 20 }).map((k) => k / 20),
    );
    fc.assert(
      fc.property(knots, input, ({ x, y }, p) => {
        expect(Object.is(calibrate({ method: 'isotonic', x, y }, p), linear(x, y, p))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
