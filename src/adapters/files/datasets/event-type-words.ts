// The words a shop's export may use for an event type (ORDER, Sale, Returned, VOID...),
// matched trimmed and case-insensitively. Only words that name a kind of document
// unambiguously: an order status such as "paid", "pending" or "shipped" is not a type, and
// a guess would put wrong events into a training table; any other word is skipped and
// reported by value, so the user sees what to map.
import { ORDER_EVENT_TYPES, type OrderEventType } from '../../../core/events/order-event.js';

export const EVENT_TYPE_WORDS: Readonly<Record<OrderEventType, readonly string[]>> = {
  order: ['order', 'purchase', 'sale', 'sold'],
  refund: ['refund', 'refunded', 'return', 'returned'],
  cancellation: ['cancellation', 'cancel', 'cancelled', 'canceled', 'void', 'voided'],
};

const TYPE_OF_WORD: ReadonlyMap<string, OrderEventType> = new Map(
  ORDER_EVENT_TYPES.flatMap((type) => EVENT_TYPE_WORDS[type].map((word) => [word, type] as const)),
);

/** The event type a word names, or undefined if it names none (an empty word included: defaulting is the caller's). */
export function eventTypeOfWord(text: string): OrderEventType | undefined {
  // toLowerCase, not toLocaleLowerCase: under a Turkish locale 'VOID' would not become 'void'.
  return TYPE_OF_WORD.get(text.trim().toLowerCase());
}
