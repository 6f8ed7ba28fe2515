// Validation of a decoded order event before it may touch state. Every failure has a
// stable error class (the dead-letter record's error_class) and a reason naming the
// field and value.
import { DAY_MS } from '../time.js';
import { ORDER_EVENT_TYPES, type OrderEvent } from './order-event.js';

export const VALIDATION_ERROR_CLASSES = [
  'missing_customer_id',
  'invalid_customer_id',
  'missing_order_id',
  'invalid_order_id',
  'invalid_event_type',
  'invalid_amount',
  'invalid_item_count',
  'invalid_currency',
  'unsupported_currency',
  'event_time_in_future',
  'event_time_before_floor',
  'refund_without_order',
  'order_with_original_order',
] as const;

export type ValidationErrorClass = (typeof VALIDATION_ERROR_CLASSES)[number];

export interface ValidationError {
  readonly errorClass: ValidationErrorClass;
  readonly reason: string;
}

export interface ValidationRules {
  /** Latest acceptable event time: now (wall clock or watermark) plus this allowance. */
  readonly maxFutureMs: number;
  /** Earliest acceptable event time (ms since epoch). */
  readonly floor: number;
  readonly maxIdLength: number;
  /**
   * The currencies amounts may be in (upper-case ISO 4217), or null for any. The state sums
   * amounts without converting them, so a deployment in one currency names it and an event in
   * another is dead-lettered (to convert and replay) instead of being added as if it were the same.
   */
  readonly currencies?: readonly string[] | null;
}

export const DEFAULT_VALIDATION: ValidationRules = {
  maxFutureMs: DAY_MS,
  floor: Date.UTC(1990, 0, 1),
  maxIdLength: 256,
};

// Control characters (C0, DEL, C1) are never part of a legitimate identifier.
const CONTROL = /\p{Cc}/u;

const isoOrRaw = (t: number): string =>
  Number.isFinite(t) && Math.abs(t) < 8.64e15 ? new Date(t).toISOString() : String(t);

const describe = (text: string): string => JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);

function checkId(value: string, field: 'customer_id' | 'order_id', rules: ValidationRules): ValidationError | null {
  const missing = field === 'customer_id' ? 'missing_customer_id' : 'missing_order_id';
  const invalid = field === 'customer_id' ? 'invalid_customer_id' : 'invalid_order_id';
  if (value.trim() === '') return { errorClass: missing, reason: `${field} is empty` };
  if (value.length > rules.maxIdLength) {
    return { errorClass: invalid, reason: `${field} has ${value.length} characters, more than ${rules.maxIdLength}` };
  }
  if (CONTROL.test(value))
    return { errorClass: invalid, reason: `${field} ${describe(value)} contains control characters` };
  return null;
}

/** Returns the first problem of the event, or null when it may be applied. `now` is the clock's time. */
export function validateOrderEvent(
  event: OrderEvent,
  now: number,
  rules: ValidationRules = DEFAULT_VALIDATION,
): ValidationError | null {
  const id = checkId(event.customerId, 'customer_id', rules) ?? checkId(event.orderId, 'order_id', rules);
  if (id !== null) return id;
  if (!ORDER_EVENT_TYPES.includes(event.type))
    return { errorClass: 'invalid_event_type', reason: `type ${describe(String(event.type))} is unknown` };
  if (!Number.isFinite(event.amount) || event.amount < 0) {
    return { errorClass: 'invalid_amount', reason: `amount ${event.amount} is not a finite number >= 0` };
  }
  if (event.amount > 1e12) return { errorClass: 'invalid_amount', reason: `amount ${event.amount} exceeds 1e12` };
  if (!Number.isInteger(event.itemCount) || event.itemCount < 0) {
    return { errorClass: 'invalid_item_count', reason: `item_count ${event.itemCount} is not an integer >= 0` };
  }
  if (!/^[A-Za-z]{3}$/.test(event.currency)) {
    return {
      errorClass: 'invalid_currency',
      reason: `currency ${describe(event.currency)} is not a 3-letter ISO 4217 code`,
    };
  }
  const accepted = rules.currencies ?? null;
  if (accepted !== null && !accepted.includes(event.currency.toUpperCase())) {
    return {
      errorClass: 'unsupported_currency',
      reason: `currency ${event.currency} is not one of the accepted currencies (${accepted.join(', ')})`,
    };
  }
  if (!Number.isFinite(event.eventTime) || event.eventTime > now + rules.maxFutureMs) {
    return {
      errorClass: 'event_time_in_future',
      reason: `event_time ${isoOrRaw(event.eventTime)} is later than ${isoOrRaw(now + rules.maxFutureMs)}`,
    };
  }
  if (event.eventTime < rules.floor) {
    return {
      errorClass: 'event_time_before_floor',
      reason: `event_time ${isoOrRaw(event.eventTime)} is before the floor ${isoOrRaw(rules.floor)}`,
    };
  }
  const original = event.originalOrderId;
  if (event.type !== 'order' && (original === null || original.trim() === '')) {
    return {
      errorClass: 'refund_without_order',
      reason: `a ${event.type} must name the order it reverses (original_order_id)`,
    };
  }
  if (event.type === 'order' && original !== null) {
    return {
      errorClass: 'order_with_original_order',
      reason: `an order must not name an original_order_id (${describe(original)})`,
    };
  }
  if (original !== null) return checkId(original, 'order_id', rules);
  return null;
}
