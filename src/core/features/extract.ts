// Features of a customer as of event time t: a pure read of the state that uses only
// events with event time <= t. Exact for every t >= maxEventTime - allowedLateness
// (older reads may miss orders already archived). Orders are always visited in
// (time, id) order and money is summed in integer thousandths, so the result does not
// depend on the order in which events arrived. Definitions: docs/FEATURES.md.
import { type CustomerState, cancelledAt, type OrderEntry, refundedMillsAt } from '../state/customer-state.js';
import { DAY_MS } from '../time.js';
import { writeMemberships } from './fuzzy.js';
import { AXIS_FEATURES, FEATURE_COUNT, RAW_FEATURES, type RawFeature } from './names.js';
import type { FeatureSpec } from './spec.js';

const RAW_INDEX = Object.fromEntries(RAW_FEATURES.map((name, index) => [name, index])) as Record<RawFeature, number>;
const FUZZY_OFFSET = RAW_FEATURES.length;
const AXIS_RAW_INDEX = Int32Array.from(AXIS_FEATURES, (axis) => RAW_INDEX[axis]);
const NINETY_DAYS_MS = 90 * DAY_MS;

/** (a - b) / (a + b), 0 when both are 0. */
const balance = (recent: number, earlier: number): number =>
  recent + earlier === 0 ? 0 : (recent - earlier) / (recent + earlier);

/** The raw (non-fuzzy) feature values as of t, in RAW_FEATURES order. */
export function rawFeaturesAt(state: CustomerState, t: number, spec: FeatureSpec): Float64Array {
  const raw = new Float64Array(RAW_FEATURES.length);
  const windowStart = t - spec.retention.windowDays * DAY_MS;
  const recentStart = t - spec.recentDays * DAY_MS;
  const last90Start = t - NINETY_DAYS_MS;
  const periodMs = spec.periodDays * DAY_MS;
  const periods = spec.retention.windowDays / spec.periodDays;

  const archive = state.archive;
  let firstOrder = archive.firstOrderTime;
  let lastOrder = archive.lastOrderTime;
  let lifetimeOrders = archive.orders;
  let lifetimeSpendMills = archive.spendMills;

  let frequency = 0;
  let spendMills = 0;
  let grossMills = 0;
  let refundedMills = 0;
  let items = 0;
  let recentSpend = 0;
  let earlierSpend = 0;
  let recentCount = 0;
  let earlierCount = 0;
  let last90 = 0;
  let activePeriods = 0;
  let previousTime = Number.NaN;
  let gapSum = 0;
  let gapSquares = 0;
  let gaps = 0;
  const windowTimes: number[] = [];

  for (const order of state.orders as readonly OrderEntry[]) {
    if (order.time > t) break;
    if (!(order.time >= firstOrder)) firstOrder = order.time;
    const refunded = refundedMillsAt(order, t);
    const cancelled = cancelledAt(order, t);
    if (!cancelled) {
      lifetimeOrders += 1;
      lifetimeSpendMills += order.amountMills - refunded;
      if (!(order.time <= lastOrder)) lastOrder = order.time;
    }
    if (order.time <= windowStart) continue;
    grossMills += order.amountMills;
    refundedMills += refunded;
    if (cancelled) continue;
    frequency += 1;
    const net = order.amountMills - refunded;
    spendMills += net;
    items += order.items;
    if (order.time > recentStart) {
      recentSpend += net;
      recentCount += 1;
    } else {
      earlierSpend += net;
      earlierCount += 1;
    }
    if (order.time > last90Start) last90 += 1;
    windowTimes.push(order.time);
  }

  // Gaps between consecutive window orders, in days (two passes: mean, then spread).
  for (const time of windowTimes) {
    if (!Number.isNaN(previousTime)) {
      gapSum += (time - previousTime) / DAY_MS;
      gaps += 1;
    }
    previousTime = time;
  }
  const gapMean = gaps > 0 ? gapSum / gaps : Number.NaN;
  previousTime = Number.NaN;
  for (const time of windowTimes) {
    if (!Number.isNaN(previousTime)) {
      const deviation = (time - previousTime) / DAY_MS - gapMean;
      gapSquares += deviation * deviation;
    }
    previousTime = time;
  }
  const gapStd = gaps > 0 ? Math.sqrt(gapSquares / gaps) : Number.NaN;

  // Periods (t - (k+1)P, t - kP], k = 0..periods-1, holding at least one window order.
  // Window times ascend, so the period index k = floor((t - time) / P) never rises.
  let previousPeriod = -1;
  for (const time of windowTimes) {
    const period = Math.floor((t - time) / periodMs);
    if (period !== previousPeriod) {
      activePeriods += 1;
      previousPeriod = period;
    }
  }

  const recency = Number.isNaN(lastOrder) ? Number.NaN : Math.floor((t - lastOrder) / DAY_MS);
  const monetary = spendMills / 1000;
  raw[RAW_INDEX.recency_days] = recency;
  raw[RAW_INDEX.frequency_orders] = frequency;
  raw[RAW_INDEX.monetary_spend] = monetary;
  raw[RAW_INDEX.tenure_days] = Number.isNaN(firstOrder) ? Number.NaN : Math.floor((t - firstOrder) / DAY_MS);
  raw[RAW_INDEX.avg_order_value] = frequency > 0 ? monetary / frequency : Number.NaN;
  raw[RAW_INDEX.inter_order_mean_days] = gapMean;
  raw[RAW_INDEX.inter_order_cv] = gaps > 0 && gapMean > 0 ? gapStd / gapMean : Number.NaN;
  raw[RAW_INDEX.overdue_ratio] = gapMean > 0 && !Number.isNaN(recency) ? recency / gapMean : Number.NaN;
  raw[RAW_INDEX.spend_trend] = frequency > 0 ? balance(recentSpend, earlierSpend) : Number.NaN;
  raw[RAW_INDEX.frequency_trend] = frequency > 0 ? balance(recentCount, earlierCount) : Number.NaN;
  raw[RAW_INDEX.refund_rate] = grossMills > 0 ? refundedMills / grossMills : Number.NaN;
  raw[RAW_INDEX.avg_basket_size] = frequency > 0 ? items / frequency : Number.NaN;
  raw[RAW_INDEX.active_period_share] = activePeriods / periods;
  raw[RAW_INDEX.lifetime_orders] = lifetimeOrders;
  raw[RAW_INDEX.lifetime_spend] = lifetimeSpendMills / 1000;
  raw[RAW_INDEX.inter_order_std_days] = gapStd;
  raw[RAW_INDEX.orders_last_90d] = last90;
  return raw;
}

/** The full feature vector as of t, in FEATURE_NAMES order. */
export function featuresAt(state: CustomerState, t: number, spec: FeatureSpec): Float64Array {
  return withMemberships(rawFeaturesAt(state, t, spec), spec);
}

/** The full vector from raw features: raw values, then the memberships under the spec. */
export function withMemberships(raw: Float64Array, spec: FeatureSpec): Float64Array {
  const out = new Float64Array(FEATURE_COUNT);
  out.set(raw, 0);
  for (let index = 0; index < AXIS_FEATURES.length; index += 1) {
    const axis = AXIS_FEATURES[index] as (typeof AXIS_FEATURES)[number];
    writeMemberships(
      raw[AXIS_RAW_INDEX[index] as number] as number,
      spec.breakpoints[axis],
      out,
      FUZZY_OFFSET + index * 3,
    );
  }
  return out;
}

/**
 * featuresAt(state, t) from the vector at an earlier time, when only whole days have
 * passed in between: no order, refund or window edge lies in (earlier time, t] (see
 * structuralCandidates in next-change.ts), so only recency, tenure, the overdue ratio
 * and their memberships move. firstOrder/lastOrder are the anchors at that time.
 */
export function advanceDays(
  features: Float64Array,
  firstOrder: number,
  lastOrder: number,
  t: number,
  spec: FeatureSpec,
): Float64Array {
  const out = features.slice();
  const recency = Number.isNaN(lastOrder) ? Number.NaN : Math.floor((t - lastOrder) / DAY_MS);
  const gapMean = features[RAW_INDEX.inter_order_mean_days] as number;
  out[RAW_INDEX.recency_days] = recency;
  out[RAW_INDEX.tenure_days] = Number.isNaN(firstOrder) ? Number.NaN : Math.floor((t - firstOrder) / DAY_MS);
  out[RAW_INDEX.overdue_ratio] = gapMean > 0 && !Number.isNaN(recency) ? recency / gapMean : Number.NaN;
  for (const axis of DAY_AXES) {
    writeMemberships(
      out[RAW_INDEX[axis]] as number,
      spec.breakpoints[axis],
      out,
      FUZZY_OFFSET + AXIS_POSITION[axis] * 3,
    );
  }
  return out;
}

const DAY_AXES = ['recency_days', 'tenure_days', 'overdue_ratio'] as const;
const AXIS_POSITION = Object.fromEntries(AXIS_FEATURES.map((axis, index) => [axis, index])) as Record<
  (typeof AXIS_FEATURES)[number],
  number
>;
