// Model-aware timers, with the shipped churn model: the time they return is the first
// one at which the model's output can change, and a scorer using them publishes exactly
// what a scorer rescoring on every feature change publishes, with far fewer rescorings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../../../src/app/model-registry.js';
import { DEFAULT_HYSTERESIS } from '../../../../src/core/decisions/hysteresis.js';
import type { OrderEvent } from '../../../../src/core/events/order-event.js';
import { featuresAt } from '../../../../src/core/features/extract.js';
import { nextChangeTime } from '../../../../src/core/features/next-change.js';
import { predictRaw } from '../../../../src/core/models/lightgbm/evaluate.js';
import type { ChurnModel } from '../../../../src/core/models/scoring.js';
import { emptyState, foldEvent } from '../../../../src/core/state/customer-state.js';
import type { StoredCustomer } from '../../../../src/core/state/stored-customer.js';
import {
  processEvents,
  processTimers,
  type ScoringContext,
  scoringContextFor,
} from '../../../../src/core/step/customer-step.js';
import { nextRelevantChange, timeSensitivity } from '../../../../src/core/step/relevant-change.js';
import { DAY_MS } from '../../../../src/core/time.js';
import { historyArb, T0 } from '../../../helpers/histories.js';

const models = new ModelRegistry(new URL('../../../../models/', import.meta.url).pathname).loadDefaults();
const churn = models.churn as ChurnModel;
const spec = churn.spec;
const sensitivity = timeSensitivity(churn);

const rawScore = (features: Float64Array): number =>
  predictRaw(
    churn.model,
    Float64Array.from(churn.inputIndex, (i) => features[i] ?? Number.NaN),
  )[0] ?? Number.NaN;

describe('nextRelevantChange', () => {
  it('the shipped model is time-sensitive through recency and tenure splits', () => {
    expect(sensitivity).not.toBeNull();
    expect(sensitivity?.recencyDays.length).toBeGreaterThan(0);
    expect(sensitivity?.tenureDays.length).toBeGreaterThan(0);
  });

  it('the model output is constant at every feature change before it, and the regions differ at it', () => {
    if (sensitivity === null) throw new Error('no sensitivity');
    fc.assert(
      fc.property(
        historyArb(300),
        fc.integer({ min: -5 * DAY_MS, max: 500 * DAY_MS }),
        fc.integer({ min: DAY_MS, max: 200 * DAY_MS }),
        (history, offset, maxStaleness) => {
          const state = emptyState();
          for (const event of history) foldEvent(state, event, spec.retention);
          const asOf = T0 + offset;
          const next = nextRelevantChange(state, asOf, spec, maxStaleness, sensitivity);
          expect(next.at).toBeGreaterThan(asOf);
          expect(next.at).toBeLessThanOrEqual(asOf + maxStaleness);
          const score = rawScore(featuresAt(state, asOf, spec));
          // Walk every time any feature changes (the exhaustive timers) up to next.at.
          let t = asOf;
          for (;;) {
            t = nextChangeTime(state, t, spec, next.at - t).at;
            if (t >= next.at) break;
            expect(rawScore(featuresAt(state, t, spec))).toBe(score);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

const context = (modelAwareTimers: boolean): ScoringContext =>
  scoringContextFor(churn, models.ltv, spec, {
    hysteresis: DEFAULT_HYSTERESIS,
    maxStalenessMs: 30 * DAY_MS,
    modelAwareTimers,
  });

/** A customer's events one at a time, then timers up to `until`, as the stream runs them. */
function run(history: readonly OrderEvent[], ctx: ScoringContext) {
  let stored: StoredCustomer | null = null;
  const changes: unknown[] = [];
  const labels: unknown[] = [];
  const ltvLabels: unknown[] = [];
  let evaluations = 0;
  const keep = (step: ReturnType<typeof processEvents>) => {
    changes.push(...step.riskChanges);
    labels.push(...step.resolved);
    ltvLabels.push(...step.resolvedLtv);
    evaluations += step.timerEvaluations;
    stored = step;
  };
  history.forEach((event, i) => {
    keep(processEvents('c', stored, [{ event, offset: String(i) }], ctx));
  });
  if (stored !== null) keep(processTimers('c', stored, T0 + 900 * DAY_MS, ctx));
  return { changes, labels, ltvLabels, evaluations };
}

describe('model-aware timers in the scorer', () => {
  it('publish the same risk changes and resolve the same churn and LTV labels as rescoring on every feature change', () => {
    let aware = 0;
    let every = 0;
    let churnLabels = 0;
    let ltvLabels = 0;
    fc.assert(
      fc.property(historyArb(400), (history) => {
        const fast = run(history, context(true));
        const full = run(history, context(false));
        expect(fast.changes).toEqual(full.changes);
        expect(fast.labels).toEqual(full.labels);
        expect(fast.ltvLabels).toEqual(full.ltvLabels);
        churnLabels += full.labels.length;
        ltvLabels += full.ltvLabels.length;
        aware += fast.evaluations;
        every += full.evaluations;
      }),
      { numRuns: 150 },
    );
    // The comparison is not vacuous: both kinds of label were resolved.
    expect(churnLabels).toBeGreaterThan(0);
    expect(ltvLabels).toBeGreaterThan(0);
    // The point of it: a small fraction of the rescorings.
    expect(aware * 4).toBeLessThan(every);
    // 150 histories each rescored on every feature change: seconds of CPU, more on a busy machine.
  }, 60_000);
});
