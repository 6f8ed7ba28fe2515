// The risk-change id: the same cause decided the same way gives the same id (a republished
// duplicate is dropped by subscribers); another deciding model version on the same cause
// gives another id (a second deployment's decision is not taken for one).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type RiskChangeCause,
  type RiskChangeDecision,
  riskChangeId,
} from '../../../../src/core/events/risk-change.js';

const level = fc.constantFrom('low', 'medium', 'high', 'critical' as const);
const cause: fc.Arbitrary<RiskChangeCause> = fc.record({
  customerId: fc.string({ minLength: 1, maxLength: 12 }),
  asOf: fc.integer({ min: 0, max: 2 ** 42 }),
  trigger: fc.constantFrom('order', 'refund', 'cancellation', 'timer', 'model_change' as const),
  cause: fc.string({ maxLength: 12 }),
  previous: fc.option(fc.record({ level, probability: fc.double({ min: 0, max: 1, noNaN: true }) }), { nil: null }),
});
const version = fc.constantFrom('v1', 'v2', 'v1+cal3', 'v10');
const decision: fc.Arbitrary<RiskChangeDecision> = fc.record({
  level,
  churnModel: version,
  ltvModel: version,
});
const key = (d: RiskChangeDecision) => JSON.stringify([d.level, d.churnModel, d.ltvModel]);

describe('riskChangeId', () => {
  it('is the same for the same cause and decision, and differs when anything that decided differs', () => {
    fc.assert(
      fc.property(cause, decision, decision, (c, a, b) => {
        const same = key(a) === key(b);
        expect(riskChangeId(c, a) === riskChangeId(c, b)).toBe(same);
        expect(riskChangeId(c, a)).toMatch(/^[0-9a-f]{32}$/);
      }),
      { numRuns: 500 },
    );
  });

  it('tells two model versions apart on the same order (two deployments sharing one topic)', () => {
    const c: RiskChangeCause = { customerId: 'C1', asOf: 1, trigger: 'order', cause: 'o-1', previous: null };
    const d: RiskChangeDecision = { level: 'high', churnModel: 'v1', ltvModel: 'v1' };
    expect(riskChangeId(c, d)).not.toBe(riskChangeId(c, { ...d, churnModel: 'v2' }));
  });
});
