// Per-customer state: what the feature engine remembers of a customer's history.
//
// Orders are kept one by one (with the refunds that hit them) for as long as any
// read the stream can still make needs them: the observation window plus the allowed
// lateness, measured back from the customer's newest event time. Older orders are
// folded into compact lifetime aggregates ("archive"). Money is held in integer
// thousandths of a currency unit, so every sum is exact and independent of the order
// in which events arrived: reading the state is a pure function of the set of events
// applied, whatever their arrival order.
//
// The state is a plain mutable object owned by its caller: foldEvent() changes it in
// place (it runs once per event on the hot path), cloneState() copies it.
import type { OrderEvent } from '../events/order-event.js';
import { DAY_MS } from '../time.js';

export interface RefundEntry {
  readonly id: string;
  readonly time: number;
  readonly amountMills: number;
  readonly items: number;
  /** A cancellation voids the whole order; a refund returns amountMills. */
  readonly cancel: boolean;
}

export interface OrderEntry {
  readonly id: string;
  readonly time: number;
  readonly amountMills: number;
  readonly items: number;
  /** Refunds and cancellations naming this order, in (time, id) order. */
  refunds: RefundEntry[];
}

/** A refund whose order has not been seen (yet): events may arrive out of order. */
export interface PendingRefund {
  readonly orderId: string;
  readonly refund: RefundEntry;
}

/** Lifetime aggregates of orders that left the retained horizon. */
export interface Archive {
  orders: number;
  spendMills: number;
  items: number;
  /** Earliest order time of any archived order; NaN when none. */
  firstOrderTime: number;
  /** Latest time of an archived order that was not cancelled; NaN when none. */
  lastOrderTime: number;
}

/** Counted cases: nothing the reducer declines to apply goes unrecorded. */
export interface StateCounters {
  duplicates: number;
  tooLate: number;
  orphanRefunds: number;
  truncated: number;
}

export interface CustomerState {
  /** Newest event time applied; NaN while empty. Drives the retention horizon. */
  maxEventTime: number;
  /** Retained orders, sorted by (time, id). */
  orders: OrderEntry[];
  pending: PendingRefund[];
  archive: Archive;
  counters: StateCounters;
}

export interface RetentionPolicy {
  /** Observation window of the features, days. */
  readonly windowDays: number;
  /** How far behind the newest event an event may arrive and still be applied, days. */
  readonly allowedLatenessDays: number;
  /** Hard cap on retained orders per customer; the oldest beyond it are archived early. */
  readonly maxRetainedOrders: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  windowDays: 180,
  allowedLatenessDays: 30,
  maxRetainedOrders: 1000,
};

/** Result of folding one event; every value but `applied` is a counted, explicit case. */
export type FoldOutcome =
  | 'applied'
  | 'duplicate'
  /**
   * A document id seen before with other content (time, amount, items; for a refund also
   * its kind and the order it names). Ignored like any duplicate (the first one wins) and
   * counted in `counters.duplicates`; told apart only so that callers can make it visible.
   */
  | 'conflicting_duplicate'
  | 'too_late'
  /** A refund/cancellation whose order is unknown so far; kept pending, applied if the order arrives. */
  | 'refund_pending';

export const toMills = (amount: number): number => Math.round(amount * 1000);

export function emptyState(): CustomerState {
  return {
    maxEventTime: Number.NaN,
    orders: [],
    pending: [],
    archive: { orders: 0, spendMills: 0, items: 0, firstOrderTime: Number.NaN, lastOrderTime: Number.NaN },
    counters: { duplicates: 0, tooLate: 0, orphanRefunds: 0, truncated: 0 },
  };
}

export function cloneState(state: CustomerState): CustomerState {
  return {
    maxEventTime: state.maxEventTime,
    orders: state.orders.map((order) => ({ ...order, refunds: [...order.refunds] })),
    pending: [...state.pending],
    archive: { ...state.archive },
    counters: { ...state.counters },
  };
}

/** Events older than this are too late to apply exactly (NaN while the state is empty). */
export function retentionHorizon(state: CustomerState, policy: RetentionPolicy): number {
  return state.maxEventTime - (policy.windowDays + policy.allowedLatenessDays) * DAY_MS;
}

const byTimeThenId = (a: { time: number; id: string }, b: { time: number; id: string }): number =>
  a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Inserts keeping (time, id) order; appends in O(1) for in-order arrivals. */
function insertSorted<T extends { time: number; id: string }>(list: T[], item: T): void {
  let index = list.length;
  while (index > 0) {
    const previous = list[index - 1];
    if (previous === undefined || byTimeThenId(previous, item) <= 0) break;
    index -= 1;
  }
  list.splice(index, 0, item);
}

/** The refund or cancellation with this id and the order it names, or null. */
function findRefund(state: CustomerState, id: string): PendingRefund | null {
  for (const order of state.orders) {
    for (const refund of order.refunds) if (refund.id === id) return { orderId: order.id, refund };
  }
  return state.pending.find((entry) => entry.refund.id === id) ?? null;
}

// Only what the state keeps can be compared: the currency is not kept, and amounts are
// compared in thousandths (an amount that differs by less is the same to every feature).
const sameOrder = (order: OrderEntry, event: OrderEvent): boolean =>
  order.time === event.eventTime && order.amountMills === toMills(event.amount) && order.items === event.itemCount;

const sameRefund = ({ orderId, refund }: PendingRefund, event: OrderEvent): boolean =>
  orderId === event.originalOrderId &&
  refund.time === event.eventTime &&
  refund.amountMills === toMills(event.amount) &&
  refund.items === event.itemCount &&
  refund.cancel === (event.type === 'cancellation');

/**
 * Applies one event to the state in place. Duplicate document ids (orders, refunds)
 * have no effect whatever their content (the first one wins; one with other content is
 * reported as a conflicting duplicate); events older than the retention horizon are
 * refused as too late; refunds of unknown orders wait as pending refunds. Assumes a
 * validated event (core/events/validate.ts).
 */
export function foldEvent(state: CustomerState, event: OrderEvent, policy: RetentionPolicy): FoldOutcome {
  if (event.eventTime < retentionHorizon(state, policy)) {
    state.counters.tooLate += 1;
    return 'too_late';
  }
  let outcome: FoldOutcome;
  if (event.type === 'order') {
    const seen = state.orders.find((order) => order.id === event.orderId);
    if (seen !== undefined) {
      state.counters.duplicates += 1;
      return sameOrder(seen, event) ? 'duplicate' : 'conflicting_duplicate';
    }
    const order: OrderEntry = {
      id: event.orderId,
      time: event.eventTime,
      amountMills: toMills(event.amount),
      items: event.itemCount,
      refunds: [],
    };
    // Refunds that arrived before their order now find it.
    const waiting = state.pending.filter((entry) => entry.orderId === order.id);
    if (waiting.length > 0) {
      state.pending = state.pending.filter((entry) => entry.orderId !== order.id);
      for (const entry of waiting) insertSorted(order.refunds, entry.refund);
    }
    insertSorted(state.orders, order);
    outcome = 'applied';
  } else {
    const seen = findRefund(state, event.orderId);
    if (seen !== null) {
      state.counters.duplicates += 1;
      return sameRefund(seen, event) ? 'duplicate' : 'conflicting_duplicate';
    }
    const refund: RefundEntry = {
      id: event.orderId,
      time: event.eventTime,
      amountMills: toMills(event.amount),
      items: event.itemCount,
      cancel: event.type === 'cancellation',
    };
    const target = state.orders.find((order) => order.id === event.originalOrderId);
    if (target === undefined) {
      state.pending.push({ orderId: event.originalOrderId ?? '', refund });
      outcome = 'refund_pending';
    } else {
      insertSorted(target.refunds, refund);
      outcome = 'applied';
    }
  }
  if (!(event.eventTime <= state.maxEventTime)) state.maxEventTime = event.eventTime;
  evict(state, policy);
  return outcome;
}

/** Refunded amount of an order by time t, capped at the order amount. */
export function refundedMillsAt(order: OrderEntry, t: number): number {
  let refunded = 0;
  for (const refund of order.refunds) {
    if (refund.time > t) break;
    refunded = refund.cancel ? order.amountMills : refunded + refund.amountMills;
    if (refunded >= order.amountMills) return order.amountMills;
  }
  return refunded;
}

export function cancelledAt(order: OrderEntry, t: number): boolean {
  for (const refund of order.refunds) {
    if (refund.time > t) return false;
    if (refund.cancel) return true;
  }
  return false;
}

/**
 * Net spend (thousandths) of the orders dated in (from, to], as known at `to`:
 * cancelled orders count nothing, refunds made by then are deducted. Exact while those
 * orders are still retained (from >= newest event time - window).
 */
export function netSpendMillsBetween(state: CustomerState, from: number, to: number): number {
  let spend = 0;
  for (const order of state.orders) {
    if (order.time <= from) continue;
    if (order.time > to) break;
    if (!cancelledAt(order, to)) spend += order.amountMills - refundedMillsAt(order, to);
  }
  return spend;
}

/** Moves orders past the retention horizon (or beyond the cap) into the archive. */
function evict(state: CustomerState, policy: RetentionPolicy): void {
  const horizon = retentionHorizon(state, policy);
  let cut = 0;
  while (cut < state.orders.length && (state.orders[cut]?.time ?? Number.POSITIVE_INFINITY) < horizon) cut += 1;
  const overCap = state.orders.length - cut - policy.maxRetainedOrders;
  if (overCap > 0) {
    cut += overCap;
    state.counters.truncated += overCap;
  }
  if (cut > 0) {
    const archive = state.archive;
    for (const order of state.orders.slice(0, cut)) {
      const last = order.refunds.at(-1)?.time ?? order.time;
      if (!(order.time >= archive.firstOrderTime)) archive.firstOrderTime = order.time;
      if (!cancelledAt(order, last)) {
        archive.orders += 1;
        archive.items += order.items;
        archive.spendMills += order.amountMills - refundedMillsAt(order, last);
        if (!(order.time <= archive.lastOrderTime)) archive.lastOrderTime = order.time;
      }
    }
    state.orders = state.orders.slice(cut);
  }
  if (state.pending.length > 0) {
    const kept = state.pending.filter((entry) => entry.refund.time >= horizon);
    state.counters.orphanRefunds += state.pending.length - kept.length;
    state.pending = kept;
  }
}
