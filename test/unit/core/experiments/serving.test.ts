import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Serving, servingView } from '../../../../src/core/experiments/serving.js';

const NOW = Date.UTC(2026, 0, 1);
const serving = fc.record({
  process: fc.string({ minLength: 1, maxLength: 6 }),
  at: fc.integer({ min: NOW - 120_000, max: NOW }),
  revision: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
  champion: fc.record({ churn: fc.constantFrom('v1', 'v2'), ltv: fc.constant('l1') }),
  challenger: fc.option(fc.record({ churn: fc.constantFrom('v2', 'v3'), ltv: fc.constant(null) }), { nil: null }),
  experiment: fc.option(fc.record({ name: fc.constant('ab'), saltDigest: fc.constantFrom('a', 'b') }), { nil: null }),
  weight: fc.constantFrom(0, 0.5),
}) as fc.Arbitrary<Serving>;

describe('servingView', () => {
  it('agrees exactly when every fresh report serves the same models, experiment and weight (revisions aside)', () => {
    fc.assert(
      fc.property(fc.array(serving, { maxLength: 6 }), (reports) => {
        const fresh = reports.filter((r) => NOW - r.at <= 60_000);
        const view = servingView(reports, NOW, 60_000);
        const shapes = new Set(fresh.map((r) => JSON.stringify([r.champion, r.challenger, r.experiment, r.weight])));
        expect(view.kind).toBe(fresh.length === 0 ? 'none' : shapes.size === 1 ? 'agreed' : 'disagree');
        if (view.kind === 'agreed') expect(view.processes).toBe(fresh.length);
        if (view.kind === 'disagree') expect(view.reports).toHaveLength(fresh.length);
      }),
    );
  });
});
