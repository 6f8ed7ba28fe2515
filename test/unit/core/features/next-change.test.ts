import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { featuresAt } from '../../../../src/core/features/extract.js';
import { FEATURE_NAMES } from '../../../../src/core/features/names.js';
import { nextChangeTime } from '../../../../src/core/features/next-change.js';
import { DEFAULT_FEATURE_SPEC } from '../../../../src/core/features/spec.js';
import { emptyState, foldEvent } from '../../../../src/core/state/customer-state.js';
import { DAY_MS } from '../../../../src/core/time.js';
import { describeDifference, historyArb, sameVector, T0 } from '../../../helpers/histories.js';

const spec = DEFAULT_FEATURE_SPEC;

describe('nextChangeTime', () => {
  it('nothing changes strictly before it, something changes at it unless capped', () => {
    fc.assert(
      fc.property(
        historyArb(300),
        fc.integer({ min: -5 * DAY_MS, max: 500 * DAY_MS }),
        fc.integer({ min: 1, max: 10 * DAY_MS }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (history, offset, maxStaleness, fractions) => {
          const state = emptyState();
          for (const event of history) foldEvent(state, event, spec.retention);
          const asOf = T0 + offset;
          const next = nextChangeTime(state, asOf, spec, maxStaleness);
          expect(next.at).toBeGreaterThan(asOf);
          expect(next.at).toBeLessThanOrEqual(asOf + maxStaleness);
          const current = featuresAt(state, asOf, spec);
          const probes = [next.at - 1, ...fractions.map((f) => Math.floor(asOf + 1 + f * (next.at - asOf - 2)))];
          for (const probe of probes.filter((p) => p > asOf && p < next.at)) {
            const seen = featuresAt(state, probe, spec);
            expect(sameVector(seen, current), describeDifference(FEATURE_NAMES, current, seen)).toBe(true);
          }
          if (!next.capped) expect(sameVector(featuresAt(state, next.at, spec), current)).toBe(false);
          else expect(next.at).toBe(asOf + maxStaleness);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('for a silent customer, ticks at whole days after the last order', () => {
    const state = emptyState();
    foldEvent(
      state,
      {
        customerId: 'c',
        orderId: 'a',
        eventTime: T0 + 3_600_000,
        type: 'order',
        amount: 5,
        currency: 'GBP',
        itemCount: 1,
        originalOrderId: null,
      },
      spec.retention,
    );
    expect(nextChangeTime(state, T0 + 3_600_000, spec, 7 * DAY_MS)).toEqual({
      at: T0 + 3_600_000 + DAY_MS,
      capped: false,
    });
    expect(nextChangeTime(emptyState(), T0, spec, 7 * DAY_MS)).toEqual({ at: T0 + 7 * DAY_MS, capped: true });
  });
});
