// The isotonic calibration found by bisection (a recalibrated model's map has hundreds of
// knots) gives exactly what the linear scan over the knots gave, ties and NaN included; a
// config.json whose calibration would reverse the ranking or leave [0, 1] is refused.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calibrate, churnConfigSchema, parseConfig } from '../../../../src/core/models/artifacts.js';

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

describe('calibration in config.json', () => {
  const base = JSON.parse(readFileSync('models/churn/v1/config.json', 'utf8')) as Record<string, unknown>;
  const parse = (calibration: unknown) =>
    parseConfig(churnConfigSchema, { ...base, calibration }, 'models/churn/vX/config.json');

  it('loads the shipped map and any map that keeps the ranking', () => {
    expect(() => parse(base['calibration'])).not.toThrow();
    const increasing = fc
      .array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), {
        minLength: 2,
        maxLength: 30,
      })
      .map((pairs) => ({
        method: 'isotonic',
        x: pairs.map(([x]) => x).sort((a, b) => a - b),
        y: pairs.map(([, y]) => y).sort((a, b) => a - b),
      }));
    fc.assert(fc.property(increasing, (map) => void parse(map)));
    expect(() => parse({ method: 'platt', a: 0.4, b: -2 })).not.toThrow();
  });

  it('refuses a map that reverses the ranking or leaves [0, 1], naming the field', () => {
    // Any knots where y falls somewhere: the reasons would point the wrong way.
    const falling = fc
      .array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 30 })
      .filter((y) => y.some((v, i) => i > 0 && v < (y[i - 1] ?? v)))
      .map((y) => ({ method: 'isotonic', x: y.map((_, i) => i / (y.length - 1)), y }));
    fc.assert(
      fc.property(falling, (map) => {
        expect(() => parse(map)).toThrow(/calibration\.y: must not decrease/);
      }),
    );
    expect(() => parse({ method: 'isotonic', x: [0.5, 0.2], y: [0, 1] })).toThrow(/calibration\.x: must be ascending/);
    expect(() => parse({ method: 'isotonic', x: [0, 1], y: [0, 1.2] })).toThrow(/calibration\.y\.1/);
    expect(() => parse({ method: 'isotonic', x: [0, 0.5, 1], y: [0, 1] })).toThrow(/x has 3 knots, y 2/);
    expect(() => parse({ method: 'platt', a: -1, b: 0 })).toThrow(/calibration\.a: a must be > 0/);
    expect(() => parse({ method: 'platt', a: 0, b: 0 })).toThrow(/calibration\.a/);
    expect(() => parse({ method: 'platt', a: 1, b: Number.POSITIVE_INFINITY })).toThrow(/calibration\.b/);
  });
});
