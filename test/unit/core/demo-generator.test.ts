import { describe, expect, it } from 'vitest';
import { generateDemoHistory } from '../../../src/core/demo/generator.js';
import { DAY_MS } from '../../../src/core/time.js';

const options = { seed: 3, customers: 300, start: Date.UTC(2024, 0, 1), days: 365 };

describe('demo history generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(generateDemoHistory(options)).toEqual(generateDemoHistory(options));
    expect(generateDemoHistory({ ...options, seed: 4 })).not.toEqual(generateDemoHistory(options));
  });

  it('produces valid, time-ordered events inside the window', () => {
    const events = generateDemoHistory(options);
    const end = options.start + options.days * DAY_MS;
    expect(events.length).toBeGreaterThan(options.customers);
    for (let i = 0; i < events.length; i += 1) {
      const event = events[i];
      if (event === undefined) throw new Error('hole');
      expect(event.eventTime).toBeGreaterThanOrEqual(options.start);
      expect(event.eventTime).toBeLessThan(end);
      expect(Number.isFinite(event.amount) && event.amount >= 0).toBe(true);
      expect(event.itemCount).toBeGreaterThanOrEqual(1);
      if (i > 0) expect(event.eventTime).toBeGreaterThanOrEqual(events[i - 1]?.eventTime ?? 0);
    }
  });

  it('refunds and cancellations name an earlier order of the same customer', () => {
    const events = generateDemoHistory(options);
    const orders = new Map(events.filter((e) => e.type === 'order').map((e) => [e.orderId, e]));
    const reversals = events.filter((e) => e.type !== 'order');
    expect(reversals.length).toBeGreaterThan(0);
    for (const reversal of reversals) {
      const original = orders.get(reversal.originalOrderId ?? '');
      expect(original?.customerId).toBe(reversal.customerId);
      expect(reversal.eventTime).toBeGreaterThanOrEqual(original?.eventTime ?? Number.POSITIVE_INFINITY);
      expect(reversal.amount).toBeLessThanOrEqual(original?.amount ?? 0);
    }
  });

  it('has customers who go silent (churn) and customers who stay', () => {
    const events = generateDemoHistory(options);
    const last = new Map<string, number>();
    for (const event of events) last.set(event.customerId, event.eventTime);
    const end = options.start + options.days * DAY_MS;
    const silent = [...last.values()].filter((time) => end - time > 90 * DAY_MS).length;
    expect(silent / last.size).toBeGreaterThan(0.2);
    expect(silent / last.size).toBeLessThan(0.9);
  });
});
