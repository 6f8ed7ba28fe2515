// Maps between the Avro record of schemas/order-event.avsc (snake_case) and the
// core's OrderEvent. Validation of values (amounts, times, ids) is the core's job.
import type { OrderEvent, OrderEventType } from '../../core/events/order-event.js';

export interface OrderEventRecord {
  customer_id: string;
  order_id: string;
  event_time: number;
  type: OrderEventType;
  amount: number;
  currency: string;
  item_count: number;
  original_order_id: string | null;
}

export function toOrderEventRecord(event: OrderEvent): OrderEventRecord {
  return {
    customer_id: event.customerId,
    order_id: event.orderId,
    event_time: event.eventTime,
    type: event.type,
    amount: event.amount,
    currency: event.currency,
    item_count: event.itemCount,
    original_order_id: event.originalOrderId,
  };
}

export function fromOrderEventRecord(record: OrderEventRecord): OrderEvent {
  return {
    customerId: record.customer_id,
    orderId: record.order_id,
    eventTime: record.event_time,
    type: record.type,
    amount: record.amount,
    currency: record.currency,
    itemCount: record.item_count,
    originalOrderId: record.original_order_id,
  };
}
