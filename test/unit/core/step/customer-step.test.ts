// The streaming scorer's per-customer step, with the rules fallback (no model) so the
// probabilities are known: base 0.1, +0.3 past 90 days of silence, +0.2 more past 180,
// +0.2 under 5 orders, +0.1 with no order in the 180-day window.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HYSTERESIS } from '../../../../src/core/decisions/hysteresis.js';
import { riskLevel } from '../../../../src/core/decisions/risk.js';
import { RULES_VERSION } from '../../../../src/core/decisions/rules.js';
import type { OrderEvent } from '../../../../src/core/events/order-event.js';
import { DEFAULT_FEATURE_SPEC } from '../../../../src/core/features/spec.js';
import {
  assessCustomer,
  processEvents,
  processModelChange,
  processTimers,
  type ScoringContext,
  type SourcedEvent,
} from '../../../../src/core/step/customer-step.js';
import { DAY_MS } from '../../../../src/core/time.js';

const T = Date.UTC(2025, 0, 1);
const ctx: ScoringContext = {
  churn: null,
  ltv: null,
  spec: DEFAULT_FEATURE_SPEC,
  hysteresis: DEFAULT_HYSTERESIS,
  maxStalenessMs: 7 * DAY_MS,
  labelHorizonMs: 90 * DAY_MS,
  ltvHorizonMs: 360 * DAY_MS,
  modelAwareTimers: true,
};
let offset = 0;
const order = (id: string, day: number): SourcedEvent => {
  offset += 1;
  const event: OrderEvent = {
    customerId: 'c1',
    orderId: id,
    eventTime: T + day * DAY_MS,
    type: 'order',
    amount: 20,
    currency: 'GBP',
    itemCount: 1,
    originalOrderId: null,
  };
  return { event, offset: String(offset) };
};
const regular = Array.from({ length: 6 }, (_, i) => order(`o${i}`, i * 10));

describe('per-customer step', () => {
  it('publishes the first assessment and then only tier changes', () => {
    const step = processEvents('c1', null, regular, ctx);
    // Orders 1-4: fewer than 5 orders -> 0.3 (medium); the 5th order (day 40) -> 0.1, and
    // the 7-day dwell since day 0 is over: low. The 6th changes nothing.
    expect(
      step.riskChanges.map((r) => [r.previous_risk_level, r.risk_level, r.trigger, (r.as_of - T) / DAY_MS]),
    ).toEqual([
      [null, 'medium', 'order', 0],
      ['medium', 'low', 'order', 40],
    ]);
    expect(step.tier?.level).toBe('low');
    expect(step.outcomes.applied).toBe(6);
    expect(step.nextDue).toBeGreaterThan(T + 50 * DAY_MS);
    expect(step.nextDue).toBeLessThanOrEqual(T + 51 * DAY_MS);
  });

  it('rescoring on time escalates a silent customer, as of the timers due time', () => {
    const first = processEvents('c1', null, regular, ctx);
    const later = processTimers('c1', first, T + 300 * DAY_MS, ctx);
    const changes = later.riskChanges.map((r) => [
      r.previous_risk_level,
      r.risk_level,
      r.trigger,
      (r.as_of - T) / DAY_MS,
    ]);
    // day 141 (more than 90 days silent): 0.4 -> medium; day 230 (nothing left in the window):
    // 0.5, still medium; day 231 (more than 180 days silent): 0.7 -> high.
    expect(changes).toEqual([
      ['low', 'medium', 'timer', 141],
      ['medium', 'high', 'timer', 231],
    ]);
    expect(later.timerEvaluations).toBeGreaterThan(200);
  });

  it('gives the same events the same ids whether timers fired in the loop or before the next event', () => {
    const first = processEvents('c1', null, regular, ctx);
    const viaLoop = processTimers('c1', first, T + 200 * DAY_MS, ctx);
    const next = [order('late-comer', 200.5)];
    const a = processEvents('c1', viaLoop, next, ctx);
    const b = processEvents('c1', first, next, ctx);
    const ids = (xs: { event_id: string }[]) => xs.map((x) => x.event_id);
    expect([...ids(viaLoop.riskChanges), ...ids(a.riskChanges)]).toEqual(ids(b.riskChanges));
  });

  it('never changes its input', () => {
    const first = processEvents('c1', null, regular, ctx);
    const before = JSON.stringify(first.state);
    processEvents('c1', first, [order('x', 60)], ctx);
    processTimers('c1', first, T + 400 * DAY_MS, ctx);
    expect(JSON.stringify(first.state)).toBe(before);
  });

  it('ignores duplicates and refuses events older than window plus lateness', () => {
    const first = processEvents('c1', null, regular, ctx);
    const again = processEvents('c1', first, [regular[2] as SourcedEvent, order('ancient', 50 - 211)], ctx);
    expect(again.outcomes).toMatchObject({ duplicate: 1, too_late: 1, applied: 0 });
    expect(again.refused.map((r) => r.errorClass)).toEqual(['event_too_late']);
    expect(again.riskChanges).toEqual([]);
  });

  it('counts a repeated order id with other content as a conflicting duplicate, ignored like any duplicate', () => {
    const first = processEvents('c1', null, regular, ctx);
    const original = regular[2] as SourcedEvent;
    const changed = { event: { ...original.event, amount: 35 }, offset: '100' };
    const again = processEvents('c1', first, [original, changed], ctx);
    expect(again.outcomes).toEqual({
      applied: 0,
      duplicate: 1,
      conflicting_duplicate: 1,
      too_late: 0,
      refund_pending: 0,
    });
    expect(again.riskChanges).toEqual([]);
    expect(again.state.orders).toEqual(first.state.orders);
    expect(again.state.counters.duplicates).toBe(first.state.counters.duplicates + 2);
  });

  it('a model change rescores as of the given time with trigger model_change, only when the tier moves', () => {
    const first = processEvents('c1', null, regular, ctx);
    // Same (rules) model: nothing changes, nothing published.
    expect(
      processModelChange('c1', first, T + 52 * DAY_MS, `${RULES_VERSION}/${RULES_VERSION}`, ctx).riskChanges,
    ).toEqual([]);
    // A stricter hysteresis band cannot move a settled tier either; a silent customer's
    // due timers are evaluated first, then the model-change rescoring.
    const late = processModelChange('c1', first, T + 150 * DAY_MS, 'm2/m2', ctx);
    expect(late.riskChanges.map((r) => [r.trigger, r.risk_level])).toEqual([['timer', 'medium']]);
  });

  it('a model change sets the tier the deciding model says: the dwell that held a downgrade back does not hold it', () => {
    // Five orders in five days: the 5th drops the rules' score to 0.1 (low) but the 7-day dwell
    // in medium (entered on day 0) holds the downgrade back...
    const quick = Array.from({ length: 5 }, (_, i) => order(`q${i}`, i));
    const held = processEvents('c1', null, quick, ctx);
    expect(held.tier?.level).toBe('medium');
    expect(riskLevel(held.scored.at(-1)?.probability ?? Number.NaN)).toBe('low');
    // ...which a rescoring with other models (a promotion, a rollback) does not wait for.
    const changed = processModelChange('c1', held, T + 5 * DAY_MS, 'm2/m2', ctx);
    expect(changed.riskChanges.map((r) => [r.previous_risk_level, r.risk_level, r.trigger])).toEqual([
      ['medium', 'low', 'model_change'],
    ]);
  });

  it('after any model change, the tier is the level of the probability it was rescored with', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 200 }),
        (days, after) => {
          const sorted = [...days].sort((a, b) => a - b);
          const stored = processEvents(
            'c1',
            null,
            sorted.map((d, i) => order(`p${i}-${d}`, d)),
            ctx,
          );
          const last = sorted.at(-1) ?? 0;
          const asOf = T + (last + after) * DAY_MS;
          const changed = processModelChange('c1', stored, asOf, 'm2/m2', ctx);
          expect(changed.tier?.level).toBe(assessCustomer(changed.state, asOf, ctx, 'c1').churn.risk_level);
        },
      ),
    );
  });

  it('resolves labels: an order inside the 90-day window is retained, a window closing without one is churned', () => {
    const first = processEvents('c1', null, regular, ctx);
    // Orders every 10 days: each resolves the previous prediction as retained.
    expect(first.resolved.map((l) => l.churned)).toEqual([false, false, false, false, false]);
    expect(first.prediction).toMatchObject({ at: T + 50 * DAY_MS, modelVersion: RULES_VERSION });
    // Silent afterwards: the window opened at day 50 closes at day 140 -> churned, exactly then.
    const silent = processTimers('c1', first, T + 140 * DAY_MS, ctx);
    expect(silent.resolved).toEqual([
      {
        modelVersion: RULES_VERSION,
        probability: first.prediction?.probability,
        rank: first.prediction?.probability,
        churned: true,
      },
    ]);
    expect(processTimers('c1', first, T + 140 * DAY_MS - 1, ctx).resolved).toEqual([]);
    // An order on day 140 itself still counts as inside the window.
    const back = processEvents('c1', first, [order('back', 140)], ctx);
    expect(back.resolved.map((l) => l.churned)).toEqual([false]);
  });

  it('resolves LTV labels when the window closes, with the net spend inside it as realised value', () => {
    // The first order (day 0) opens an LTV prediction over (0, 360] days; orders on days
    // 10..50 (20 each, one of them refunded in part later) fall inside it.
    const first = processEvents('c1', null, regular, ctx);
    expect(first.ltvPrediction).toMatchObject({ at: T, modelVersion: RULES_VERSION });
    const refund: SourcedEvent = {
      offset: 'r1',
      event: {
        customerId: 'c1',
        orderId: 'r1',
        eventTime: T + 60 * DAY_MS,
        type: 'refund',
        amount: 5,
        currency: 'GBP',
        itemCount: 0,
        originalOrderId: 'o3',
      },
    };
    const refunded = processEvents('c1', first, [refund], ctx);
    expect(processTimers('c1', refunded, T + 360 * DAY_MS - 1, ctx).resolvedLtv).toEqual([]);
    const closed = processTimers('c1', refunded, T + 360 * DAY_MS, ctx);
    expect(closed.resolvedLtv).toHaveLength(1);
    // Days 10, 20, 30, 40, 50 at 20 each, minus the refund of 5: the day-0 order opened the window.
    expect(closed.resolvedLtv[0]).toMatchObject({ modelVersion: RULES_VERSION, realised: 95 });
    expect(closed.resolvedLtv[0]?.predicted).toBe(first.ltvPrediction?.value);
    // The same rescoring opens the next LTV window.
    expect(closed.ltvPrediction?.at).toBe(T + 360 * DAY_MS);
  });
});
