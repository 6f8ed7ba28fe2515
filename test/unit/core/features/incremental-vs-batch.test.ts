// The core promise of the feature engine: whatever order events arrive in, with
// duplicates, the incremental state read as of t equals the batch computation over
// the distinct events with event time <= t, bit for bit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../../../src/core/events/order-event.js';
import { customerFeaturesAtCutoffs } from '../../../../src/core/features/batch.js';
import { featuresAt } from '../../../../src/core/features/extract.js';
import { FEATURE_NAMES } from '../../../../src/core/features/names.js';
import { DEFAULT_FEATURE_SPEC, type FeatureSpec } from '../../../../src/core/features/spec.js';
import { decodeState, encodeState } from '../../../../src/core/state/codec.js';
import { emptyState, foldEvent } from '../../../../src/core/state/customer-state.js';
import { DAY_MS } from '../../../../src/core/time.js';
import { describeDifference, historyArb, sameVector, shuffledWithDuplicates, T0 } from '../../../helpers/histories.js';

const unbounded: FeatureSpec = {
  ...DEFAULT_FEATURE_SPEC,
  retention: { ...DEFAULT_FEATURE_SPEC.retention, allowedLatenessDays: 100_000 },
};

const batchAt = (events: readonly OrderEvent[], t: number, spec: FeatureSpec): Float64Array => {
  const [row] = customerFeaturesAtCutoffs('c', events, [t], spec);
  if (row === undefined) throw new Error('no row');
  return row.features;
};

const cutoffArb = fc.integer({ min: -10, max: 600 }).chain((day) =>
  fc.oneof(
    fc.constant(T0 + day * DAY_MS),
    fc.integer({ min: 0, max: DAY_MS - 1 }).map((ms) => T0 + day * DAY_MS + ms),
  ),
);

describe('incremental state == batch computation', () => {
  it('for any arrival order and duplicates, at any t (unbounded lateness)', () => {
    fc.assert(
      fc.property(
        historyArb().chain((history) => fc.tuple(fc.constant(history), shuffledWithDuplicates(history))),
        fc.array(cutoffArb, { minLength: 1, maxLength: 4 }),
        ([history, arrivals], cutoffs) => {
          const state = emptyState();
          for (const event of arrivals) foldEvent(state, event, unbounded.retention);
          for (const t of cutoffs) {
            const incremental = featuresAt(state, t, unbounded);
            const batch = batchAt(history, t, unbounded);
            expect(sameVector(incremental, batch), describeDifference(FEATURE_NAMES, incremental, batch)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with bounded disorder, for every t within the allowed lateness of the newest event', () => {
    const spec = DEFAULT_FEATURE_SPEC;
    const latenessMs = spec.retention.allowedLatenessDays * DAY_MS;
    fc.assert(
      fc.property(
        historyArb(900).chain((history) =>
          fc.tuple(
            fc.constant(history),
            fc.array(fc.integer({ min: 0, max: latenessMs - 1 }), {
              minLength: history.length,
              maxLength: history.length,
            }),
          ),
        ),
        fc.array(fc.integer({ min: 0, max: latenessMs }), { minLength: 1, maxLength: 3 }),
        ([history, jitter], backs) => {
          // Arrival order = event time + jitter < lateness: no event is later than allowed.
          const arrivals = history
            .map((event, index) => ({ event, key: event.eventTime + (jitter[index] ?? 0) }))
            .sort((a, b) => a.key - b.key)
            .map((entry) => entry.event);
          const state = emptyState();
          const outcomes = arrivals.map((event) => foldEvent(state, event, spec.retention));
          expect(outcomes).not.toContain('too_late');
          if (history.length === 0) return;
          const newest = Math.max(...history.map((event) => event.eventTime));
          for (const back of backs) {
            const t = newest - back;
            const incremental = featuresAt(state, t, spec);
            const batch = batchAt(history, t, spec);
            expect(sameVector(incremental, batch), describeDifference(FEATURE_NAMES, incremental, batch)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  // A customer spread over two partitions is not merged: its partitions' events are folded
  // into the one state in successive rounds, an arrival order the first property covers.
  it('survives serialisation unchanged', () => {
    fc.assert(
      fc.property(historyArb(), cutoffArb, (history, t) => {
        const whole = emptyState();
        for (const event of history) foldEvent(whole, event, unbounded.retention);
        const decoded = decodeState(encodeState(whole));
        const diff = describeDifference(
          FEATURE_NAMES,
          featuresAt(decoded, t, unbounded),
          featuresAt(whole, t, unbounded),
        );
        expect(diff).toBe('');
      }),
      { numRuns: 200 },
    );
  });
});
