// The summary BG/NBD and Gamma-Gamma baselines need at a cutoff (the conventions of
// the `lifetimes` package, in days): repeat purchase days, recency and age, and the
// mean value of repeat purchase days. From events <= cutoff only.
import type { OrderEvent } from '../events/order-event.js';
import { DAY_MS } from '../time.js';

export interface RfmSummary {
  /** Distinct purchase days minus one. */
  readonly frequency: number;
  /** Days from the first to the last purchase day. */
  readonly recency: number;
  /** Days from the first purchase day to the cutoff. */
  readonly age: number;
  /** Mean net spend of the repeat purchase days (0 when none). */
  readonly monetary: number;
}

export function rfmSummary(sorted: readonly OrderEvent[], cutoff: number): RfmSummary | null {
  const byDay = new Map<number, number>();
  const amounts = new Map<string, { day: number; mills: number }>();
  for (const event of sorted) {
    if (event.eventTime > cutoff) break;
    const day = Math.floor(event.eventTime / DAY_MS);
    if (event.type === 'order') {
      const mills = Math.round(event.amount * 1000);
      amounts.set(event.orderId, { day, mills });
      byDay.set(day, (byDay.get(day) ?? 0) + mills);
    } else {
      const original = amounts.get(event.originalOrderId ?? '');
      if (original === undefined) continue;
      const back =
        event.type === 'cancellation' ? original.mills : Math.min(Math.round(event.amount * 1000), original.mills);
      byDay.set(original.day, (byDay.get(original.day) ?? 0) - back);
    }
  }
  const days = [...byDay.keys()].sort((a, b) => a - b);
  const first = days[0];
  const last = days.at(-1);
  if (first === undefined || last === undefined) return null;
  const repeat = days.slice(1).map((day) => Math.max(byDay.get(day) ?? 0, 0) / 1000);
  return {
    frequency: days.length - 1,
    recency: last - first,
    age: Math.floor(cutoff / DAY_MS) - first,
    monetary: repeat.length > 0 ? repeat.reduce((s, v) => s + v, 0) / repeat.length : 0,
  };
}
