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
  it('agrees when every fresh report serves the same; disagrees when two at one revision differ; else a change on its way', () => {
    fc.assert(
      fc.property(fc.array(serving, { maxLength: 6 }), (reports) => {
        const fresh = reports.filter((r) => NOW - r.at <= 60_000);
        const view = servingView(reports, NOW, 60_000);
        const shapeOf = (r: Serving) => JSON.stringify([r.champion, r.challenger, r.experiment, r.weight]);
        const shapes = new Set(fresh.map(shapeOf));
        const revisions = new Set(fresh.map((r) => r.revision));
        const apart = [...revisions].some(
          (revision) => new Set(fresh.filter((r) => r.revision === revision).map(shapeOf)).size > 1,
        );
        expect(view.kind).toBe(
          fresh.length === 0 ? 'none' : shapes.size === 1 ? 'agreed' : apart ? 'disagree' : 'changing',
        );
        if (view.kind === 'agreed') expect(view.processes).toBe(fresh.length);
        if (view.kind === 'disagree' || view.kind === 'changing') expect(view.reports).toHaveLength(fresh.length);
      }),
    );
  });

  it('a process still at the revision before, serving what it said: a change on its way, not a disagreement', () => {
    const base = {
      at: NOW,
      champion: { churn: 'v1', ltv: 'l1' },
      challenger: { churn: 'v2', ltv: null },
      experiment: { name: 'ab', saltDigest: 'a' },
    };
    const a: Serving = { ...base, process: 'a', revision: 5, weight: 0 };
    const b: Serving = { ...base, process: 'b', revision: 6, weight: 0.8 };
    expect(servingView([a, b], NOW, 60_000).kind).toBe('changing');
    // At one revision, apart: configured apart (here, b has no experiment).
    expect(servingView([a, { ...a, process: 'b', experiment: null }], NOW, 60_000).kind).toBe('disagree');
  });
});
