// Seeded generator of realistic order histories for the demo and for tests that
// need traffic without ../shared/data. Customer behaviour follows the model that
// BG/NBD and Pareto/NBD assume of non-contractual retail: while "alive" a customer
// buys as a Poisson process with a customer-specific rate (Gamma across customers);
// each customer becomes inactive after an exponentially distributed lifetime; order
// values are log-normal around a customer-specific mean (Gamma-Gamma spirit). A few
// orders are later refunded in part or cancelled as a whole. Same seed, same events.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { OrderEvent } from '../events/order-event.js';
import { DAY_MS } from '../time.js';

export interface DemoOptions {
  readonly seed: number;
  readonly customers: number;
  /** First event time (ms since epoch). */
  readonly start: number;
  /** Length of the generated history in days. */
  readonly days: number;
  /** Mean days between orders while a customer is active (across customers). */
  readonly meanInterOrderDays?: number;
  /** Mean active lifetime in days before a customer silently churns. */
  readonly meanLifetimeDays?: number;
  readonly currency?: string;
}

/** Random draws on top of one seeded generator. */
class Draws {
  private readonly rng;
  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }
  uniform(): number {
    return uniformFloat64(this.rng);
  }
  exponential(mean: number): number {
    return -Math.log(1 - this.uniform()) * mean;
  }
  normal(): number {
    // Box-Muller; 1 - u keeps the logarithm finite.
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Gamma(shape, scale) by Marsaglia-Tsang (shape >= 1) with the usual boost below 1. */
  gamma(shape: number, scale: number): number {
    if (shape < 1) return this.gamma(shape + 1, scale) * this.uniform() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      const u = this.uniform();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
    }
  }
  poisson(mean: number): number {
    let count = 0;
    let product = this.uniform();
    const limit = Math.exp(-mean);
    while (product > limit) {
      count += 1;
      product *= this.uniform();
    }
    return count;
  }
}

const roundCents = (value: number): number => Math.round(value * 100) / 100;

/** Generates the whole history, sorted by event time (ties by customer, then order id). */
export function generateDemoHistory(options: DemoOptions): OrderEvent[] {
  const draws = new Draws(options.seed);
  const meanGap = options.meanInterOrderDays ?? 30;
  const meanLifetime = options.meanLifetimeDays ?? 240;
  const currency = options.currency ?? 'GBP';
  const end = options.start + options.days * DAY_MS;
  const events: OrderEvent[] = [];

  for (let c = 0; c < options.customers; c += 1) {
    const customerId = `C${String(c + 1).padStart(6, '0')}`;
    // Heterogeneity across customers: Gamma(shape 1.5) rates with mean 1/meanGap per day.
    const ratePerDay = draws.gamma(1.5, 1 / (1.5 * meanGap));
    const lifetimeEnd = (t: number) => t + draws.exponential(meanLifetime) * DAY_MS;
    const meanValue = Math.exp(3.2 + 0.8 * draws.normal());
    let time = options.start + draws.uniform() * options.days * 0.6 * DAY_MS;
    const activeUntil = Math.min(end, lifetimeEnd(time));
    let orderNo = 0;
    while (time < activeUntil) {
      orderNo += 1;
      const orderId = `${customerId}-O${orderNo}`;
      const amount = roundCents(meanValue * Math.exp(0.5 * draws.normal() - 0.125));
      const itemCount = 1 + draws.poisson(2);
      events.push({
        customerId,
        orderId,
        eventTime: Math.floor(time),
        type: 'order',
        amount,
        currency,
        itemCount,
        originalOrderId: null,
      });
      const fate = draws.uniform();
      if (fate < 0.01) {
        events.push({
          customerId,
          orderId: `${orderId}-X`,
          eventTime: Math.floor(time + draws.exponential(1) * DAY_MS),
          type: 'cancellation',
          amount,
          currency,
          itemCount,
          originalOrderId: orderId,
        });
      } else if (fate < 0.06) {
        const share = 0.2 + 0.8 * draws.uniform();
        events.push({
          customerId,
          orderId: `${orderId}-R`,
          eventTime: Math.floor(time + (1 + draws.exponential(7)) * DAY_MS),
          type: 'refund',
          amount: roundCents(amount * share),
          currency,
          itemCount: Math.max(1, Math.round(itemCount * share)),
          originalOrderId: orderId,
        });
      }
      time += draws.exponential(1 / ratePerDay) * DAY_MS;
    }
  }
  return events
    .filter((event) => event.eventTime < end)
    .sort(
      (a, b) =>
        a.eventTime - b.eventTime ||
        (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0) ||
        (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0),
    );
}
