// CHURNSTREAM_CURRENCIES: amounts are summed without conversion, so a deployment that names its
// currencies dead-letters events in any other (unsupported_currency) instead of adding them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../../../src/core/events/order-event.js';
import { DEFAULT_VALIDATION, validateOrderEvent } from '../../../../src/core/events/validate.js';

const T = Date.UTC(2025, 0, 1);
const order = (currency: string): OrderEvent => ({
  customerId: 'c1',
  orderId: 'o1',
  eventTime: T,
  type: 'order',
  amount: 10,
  itemCount: 1,
  currency,
  originalOrderId: null,
});

describe('accepted currencies', () => {
  it('any valid code passes without a list; with one, exactly the listed codes pass, in any letter case', () => {
    const accepted = ['EUR', 'GBP'];
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z]{3}$/), (code) => {
        expect(validateOrderEvent(order(code), T, DEFAULT_VALIDATION)).toBeNull();
        const verdict = validateOrderEvent(order(code), T, { ...DEFAULT_VALIDATION, currencies: accepted });
        if (accepted.includes(code.toUpperCase())) expect(verdict).toBeNull();
        else
          expect(verdict).toEqual({
            errorClass: 'unsupported_currency',
            reason: `currency ${code} is not one of the accepted currencies (EUR, GBP)`,
          });
      }),
      { numRuns: 500 },
    );
  });

  it('a malformed code is still invalid_currency, listed or not', () => {
    expect(validateOrderEvent(order('EU'), T, { ...DEFAULT_VALIDATION, currencies: ['EUR'] })?.errorClass).toBe(
      'invalid_currency',
    );
  });
});
