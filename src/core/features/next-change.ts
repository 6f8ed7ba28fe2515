// When will this customer's features next change if no new event arrives? The
// streaming scorer keeps a timer there, so customers who go silent are rescored as
// time passes. Every feature is a step function of t between events: whole days of
// recency and tenure tick over, orders leave the window, the recent half, the last
// 90 days or a 30-day period, and already-applied events dated after t become
// visible. candidateChangeTime() lists those steps (a superset: a step may leave
// every feature as it was, e.g. an order moving into a period another order already
// fills); nextChangeTime() confirms each candidate by reading the features, so the
// time it returns is the first real change.
import { type CustomerState, cancelledAt } from '../state/customer-state.js';
import { DAY_MS } from '../time.js';
import { featuresAt } from './extract.js';
import type { FeatureSpec } from './spec.js';

export interface NextChange {
  /** Earliest time > asOf at which a feature changes, or asOf + maxStaleness. */
  readonly at: number;
  /** True when nothing changes before the staleness cap. */
  readonly capped: boolean;
}

/** Smallest anchor + k * step (k integer) strictly after t. */
const nextMultipleAfter = (anchor: number, step: number, t: number): number =>
  anchor + (Math.floor((t - anchor) / step) + 1) * step;

export interface StructuralCandidates {
  /** Earliest time after asOf at which an order, refund or window edge may change a feature. */
  readonly time: number;
  /** First and last (uncancelled) order times as of asOf: the anchors of the day ticks. */
  readonly firstOrder: number;
  readonly lastOrder: number;
}

/**
 * The candidates other than whole-day ticks: orders dated later becoming visible,
 * refunds, and orders leaving the window, the recent half, the last 90 days or a period.
 */
export function structuralCandidates(state: CustomerState, asOf: number, spec: FeatureSpec): StructuralCandidates {
  let best = Number.POSITIVE_INFINITY;
  const consider = (time: number) => {
    if (time > asOf && time < best) best = time;
  };

  const windowMs = spec.retention.windowDays * DAY_MS;
  const recentMs = spec.recentDays * DAY_MS;
  const periodMs = spec.periodDays * DAY_MS;
  let firstOrder = state.archive.firstOrderTime;
  let lastOrder = state.archive.lastOrderTime;

  for (const order of state.orders) {
    if (order.time > asOf) {
      consider(order.time);
      break; // later orders are later still
    }
    if (!(order.time >= firstOrder)) firstOrder = order.time;
    if (!cancelledAt(order, asOf) && !(order.time <= lastOrder)) lastOrder = order.time;
    for (const refund of order.refunds) consider(refund.time);
    if (order.time + windowMs > asOf) {
      consider(order.time + windowMs);
      consider(order.time + recentMs);
      consider(order.time + 90 * DAY_MS);
      consider(nextMultipleAfter(order.time, periodMs, asOf));
    }
  }
  return { time: best, firstOrder, lastOrder };
}

/** Earliest time after asOf at which some feature may change; +Infinity when none can. */
export function candidateChangeTime(state: CustomerState, asOf: number, spec: FeatureSpec): number {
  const { time, firstOrder, lastOrder } = structuralCandidates(state, asOf, spec);
  let best = time;
  // Recency and tenure are whole days: they tick a day after their anchor, every day.
  for (const anchor of [lastOrder, firstOrder]) {
    if (!Number.isNaN(anchor)) best = Math.min(best, nextMultipleAfter(anchor, DAY_MS, asOf));
  }
  return best;
}

/** Candidates confirmed before giving up and returning a (still safe, early) candidate. */
const MAX_CONFIRMATIONS = 64;

const sameFeatures = (a: Float64Array, b: Float64Array): boolean => a.every((value, i) => Object.is(value, b[i]));

export function nextChangeTime(
  state: CustomerState,
  asOf: number,
  spec: FeatureSpec,
  maxStalenessMs: number,
): NextChange {
  const cap = asOf + maxStalenessMs;
  const current = featuresAt(state, asOf, spec);
  let from = asOf;
  for (let attempt = 0; attempt < MAX_CONFIRMATIONS; attempt += 1) {
    const candidate = candidateChangeTime(state, from, spec);
    if (candidate > cap) return { at: cap, capped: true };
    if (!sameFeatures(current, featuresAt(state, candidate, spec))) return { at: candidate, capped: false };
    from = candidate;
  }
  return { at: candidateChangeTime(state, from, spec), capped: false };
}
