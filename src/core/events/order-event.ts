// The decoded input event, as the pure core sees it (plain data, no Avro types).
// Field meanings are documented in schemas/order-event.avsc.

export const ORDER_EVENT_TYPES = ['order', 'refund', 'cancellation'] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

export interface OrderEvent {
  readonly customerId: string;
  readonly orderId: string;
  /** Event time, milliseconds since the Unix epoch (UTC). */
  readonly eventTime: number;
  readonly type: OrderEventType;
  readonly amount: number;
  readonly currency: string;
  readonly itemCount: number;
  /** The order a refund or cancellation reverses; null for orders. */
  readonly originalOrderId: string | null;
}
